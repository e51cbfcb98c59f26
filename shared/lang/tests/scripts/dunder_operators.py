class Meters:
    def __init__(self, n):
        self.n = n

    def __add__(self, other):
        if isinstance(other, Meters):
            return Meters(self.n + other.n)
        if isinstance(other, int):
            return Meters(self.n + other)
        return NotImplemented

    def __radd__(self, other):
        print("radd", type(other).__name__)
        if isinstance(other, int):
            return Meters(other + self.n)
        return NotImplemented

    def __repr__(self):
        return f"Meters({self.n})"


class Feet:
    def __init__(self, n):
        self.n = n

    def __radd__(self, other):
        print("Feet radd", other)
        return Meters(other.n + self.n * 0.3)


print(Meters(1) + Meters(2), Meters(1) + 5, 5 + Meters(1))
print(Meters(2) + Feet(10))
for a, b in ((Meters(1), "x"), ("x", Meters(1)), (Meters(1), None)):
    try:
        print(a + b)
    except TypeError as e:
        print("TypeError", e)
print(NotImplemented, NotImplemented is NotImplemented)


class Acc:
    def __init__(self):
        self.items = []

    def __iadd__(self, x):
        print("iadd", x)
        self.items.append(x)
        return self

    def __add__(self, x):
        print("add", x)
        return "added"


a = Acc()
same = a
a += 1
a += 2
print(a is same, a.items)
b = a + 3
print(b)


class Only:
    def __init__(self, n):
        self.n = n

    def __add__(self, x):
        print("Only add")
        return Only(self.n + x)

    def __isub__(self, x):
        return NotImplemented

    def __sub__(self, x):
        return Only(self.n - x)


o = Only(1)
first = o
o += 5
print(o.n, o is first)
o -= 2
print(o.n)


class Holder:
    def __init__(self):
        self.acc = Acc()
        self.d = {"k": Acc()}


h = Holder()
h.acc += "attr"
h.d["k"] += "item"
print(h.acc.items, h.d["k"].items)


class Nope:
    def __iadd__(self, x):
        return NotImplemented


n = Nope()
for how in ("+=", "*=", "-", "reflected"):
    try:
        if how == "+=":
            n += 1
        elif how == "*=":
            n *= 2
        elif how == "-":
            n - 1
        else:
            1 - n
    except TypeError as e:
        print(how, e)
