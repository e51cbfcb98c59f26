class Proxy:
    def __init__(self, target):
        self.target = target
        self.calls = []

    def __getattr__(self, name):
        self.calls.append(name)
        return getattr(self.target, name)


class Defaults:
    colour = "red"

    def __getattr__(self, name):
        if name.startswith("opt_"):
            return name[4:].upper()
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


p = Proxy([3, 1, 2])
p.append(5)
print(p.target, p.calls, p.count(1))
d = Defaults()
print(d.colour, d.opt_verbose, hasattr(d, "missing"), getattr(d, "other", "fallback"))
try:
    d.missing
except AttributeError as e:
    print("AttributeError:", e)
print(hasattr(d, "__len__"))
