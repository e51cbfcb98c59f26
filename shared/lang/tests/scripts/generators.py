def count(n):
    i = 0
    while i < n:
        yield i
        i += 1
    return "done"


g = count(3)
print(type(g).__name__)
print(next(g), next(g), next(g))
try:
    next(g)
except StopIteration as e:
    print("StopIteration", repr(str(e)))
print(next(g, "default"))
print(list(count(4)), sum(count(5)), tuple(count(2)), sorted(count(3), reverse=True))
print(bytes(count(3)), "-".join(str(x) for x in count(3)), max(count(4)))
for i, v in enumerate(count(3), start=10):
    print("enumerate", i, v)
a, b, *c = count(5)
print(a, b, c)


def chained():
    got = yield from count(2)
    print("inner returned", got)
    yield from [10, 11]
    yield from "ab"


print(list(chained()))


def echo():
    received = []
    while True:
        x = yield len(received)
        if x is None:
            break
        received.append(x)
    print("echo got", received)


e = echo()
print(next(e))
print(e.send("a"), e.send("b"))
try:
    e.send(None)
except StopIteration:
    print("echo stopped")


def with_finally():
    try:
        yield 1
        yield 2
    finally:
        print("cleanup")


w = with_finally()
print(next(w))
w.close()
print(next(w, "closed"))
for x in with_finally():
    print("got", x)


def fails():
    yield 1
    raise LookupError("k")


try:
    for x in fails():
        print("before", x)
except LookupError as e:
    print("LookupError", e)


def nested(n):
    for i in range(n):
        yield [j for j in count(i)]


print(list(nested(4)))
it = iter([1, 2, 3])
print(next(it), list(it))
print(next(iter("xy")))
try:
    next([1])
except TypeError as e:
    print("TypeError:", e)


def bad():
    yield 1
    next(iter([]))


try:
    list(bad())
except RuntimeError as e:
    print("RuntimeError:", e)
try:
    count(2).send(5)
except TypeError as e:
    print("TypeError:", e)
print(*count(3))
print(dict(zip("abc", count(3))))
print(any(x > 2 for x in count(4)), all(count(0)))
gen = (x * x for x in range(4))
print(list(gen))


def fib():
    a, b = 0, 1
    while True:
        yield a
        a, b = b, a + b


for n in fib():
    if n > 50:
        break
    print(n, end=" ")
print()
f = fib()
print([next(f) for _ in range(8)])
