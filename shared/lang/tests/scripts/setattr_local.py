import threading


class Recorder:
    def __init__(self):
        object.__setattr__(self, "log", [])
        self.port = 8080

    def __setattr__(self, name, value):
        self.log.append(name)
        super().__setattr__(name, value.upper() if isinstance(value, str) else value)


r = Recorder()
r.host = "localhost"
setattr(r, "mode", "echo")
print(r.port, r.host, r.mode, r.log)

data = threading.local()
data.name = "main"
seen = []


def worker(n):
    print(hasattr(data, "name"))
    data.name = f"worker-{n}"
    seen.append(data.name)


t = threading.Thread(target=worker, args=(1,))
t.start()
t.join()
print(data.name, seen)
try:
    print(threading.local().missing)
except AttributeError as e:
    print("AttributeError:", e)
