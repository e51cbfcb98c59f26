# callable, id, getattr/setattr/hasattr/delattr, and iter() of an instance
# with __getitem__ only (CPython's old sequence protocol).
class P:
    size = 3

    def __init__(self):
        self.x = 1

    def method(self):
        return self.x


class Callme:
    def __call__(self):
        return "called"


p = P()
print(callable(print), callable(P), callable(p), callable(Callme()), callable(p.method), callable(len))
print(callable(1), callable("s"), callable(str), callable(lambda: 0), callable(None), callable([]), callable(ValueError))
a, b = [], []
print(id(a) == id(a), id(a) == id(b), id(p) == id(p), id(None) == id(None), id(1) == id(1), type(id(a)).__name__)
print(getattr(p, "x"), getattr(p, "y", "default"), hasattr(p, "x"), hasattr(p, "y"), getattr(P, "size"))
setattr(p, "y", 2)
print(p.y, hasattr(p, "y"))
delattr(p, "y")
print(hasattr(p, "y"))
for obj, name in ((p, "y"), (p, "nothing"), (5, "zz")):
    try:
        delattr(obj, name)
    except AttributeError as e:
        print("AttributeError:", e)
try:
    delattr(p, 3)
except TypeError as e:
    print("TypeError:", e)
del p.x
print(hasattr(p, "x"))


class Squares:
    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        print("getitem", i)
        if i >= self.n:
            raise IndexError("done")
        return i * i


it = iter(Squares(3))
print(type(it).__name__, it is iter(it))
print(next(it), next(it))
print(list(it))
print(next(it, "end"))
try:
    next(it)
except StopIteration:
    print("StopIteration")
for v in iter(Squares(2)):
    print("for", v)
print(sum(iter(Squares(4))), sorted(iter(Squares(3)), reverse=True))
it = iter(Squares(5))
for v in it:
    if v == 1:
        break
print("rest", list(it))
class Broken:
    def __getitem__(self, i):
        raise KeyError(i)
try:
    list(iter(Broken()))
except KeyError as e:
    print("KeyError", e)
class NoItems:
    pass
try:
    iter(NoItems())
except TypeError as e:
    print("TypeError:", e)


class Labelled:
    kind = "label"

    def __init__(self):
        self.name = "x"

    def describe(self):
        return "described"


lab = Labelled()
print("{0.name} {0.kind} {1.kind}".format(lab, Labelled), "{0.describe}".format(lab)[:32])
print(type(NotImplemented), type(NotImplemented).__name__, type(None).__name__)
