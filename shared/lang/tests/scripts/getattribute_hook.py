# __getattribute__ is called for every attribute read on an instance.
class Traced:
    kind = "traced"

    def __init__(self):
        self.x = 1

    def __getattribute__(self, name):
        print("get", name)
        return object.__getattribute__(self, name)

    def double(self):
        return self.x * 2


t = Traced()
print(t.x)
print(t.kind)
print(t.double())
print(getattr(t, "x"), hasattr(t, "nope"))


class Child(Traced):
    def __getattribute__(self, name):
        if name == "secret":
            return 42
        return super().__getattribute__(name)


c = Child()
print(c.secret, c.x)
try:
    c.missing
except AttributeError as e:
    print("AttributeError", e)


class Fallback:
    def __getattribute__(self, name):
        if name.startswith("v"):
            return name.upper()
        raise AttributeError(name)


f = Fallback()
print(f.value, f.vx)
print(type(f).__name__, isinstance(f, Fallback))


class Both:
    def __init__(self):
        self.real = "real"

    def __getattribute__(self, name):
        if name == "hidden":
            raise AttributeError(name)
        return object.__getattribute__(self, name)

    def __getattr__(self, name):
        return "fallback " + name


b = Both()
print(b.real, b.hidden, b.other)
print(getattr(b, "hidden"), hasattr(b, "hidden"), getattr(b, "nothing", "default"))
