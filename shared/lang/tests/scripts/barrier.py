# threading.Barrier: parties meet, the action runs once, abort and reset.
import threading
b = threading.Barrier(3, action=lambda: print("all arrived"))
seen = []
lock = threading.Lock()


def worker(n):
    i = b.wait()
    with lock:
        seen.append((n, i))


ts = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(sorted(i for n, i in seen), b.parties, b.n_waiting, b.broken)
b2 = threading.Barrier(2)
b2.abort()
print("broken:", b2.broken)
b2.reset()
print("after reset:", b2.broken)
b3 = threading.Barrier(2)
b3.abort()
try:
    b3.wait()
except threading.BrokenBarrierError as e:
    print("aborted", type(e).__name__, isinstance(e, RuntimeError))
