# hash() and instances as dict keys and set items, by __eq__ and __hash__.
big = 2 ** 61
for n in (0, 1, -1, -2, 7, big - 2, big - 1, big, -big, big + 5, 2 ** 63, -(2 ** 63), 10 ** 30, -10 ** 30, True, False):
    print("int", n, hash(n))
for f in (0.0, -0.0, 1.0, 1.5, -2.5, 0.1, 1e300, -1e-300, 5e-324, 2.0 ** 70, float("inf"), float("-inf")):
    print("float", f, hash(f))
print(hash(2.0) == hash(2), hash(1.0) == hash(True), hash(2 ** 80) == hash(2.0 ** 80))
for t in ((), (1,), (1, 2), (2, 1), ((1, 2), 3), (1, 2.0, True), (-1,), ((), ((),))):
    print("tuple", t, hash(t))
print(hash("ab") == hash("a" + "b"), hash(b"xy") == hash(bytes([120, 121])), hash(None) == hash(None))
print(hash(("ab", 1)) == hash(("a" + "b", 1)), hash("") == hash(""))
for bad in ([], {}, set(), bytearray(b"x"), ([1], 2)):
    try:
        hash(bad)
    except TypeError as e:
        print("TypeError:", e)


class P:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __eq__(self, other):
        print("eq", self, other)
        if not isinstance(other, P):
            return NotImplemented
        return (self.x, self.y) == (other.x, other.y)

    def __hash__(self):
        return hash((self.x, self.y))

    def __repr__(self):
        return "P(%d, %d)" % (self.x, self.y)


print(hash(P(1, 2)) == hash((1, 2)))
d = {P(1, 2): "a", P(3, 4): "b"}
print(d[P(1, 2)], d[P(3, 4)])
print(P(1, 2) in d, P(5, 6) in d, P(3, 4) not in d)
print(d.get(P(3, 4)), d.get(P(9, 9), "none"))
d[P(1, 2)] = "A"
print(d)
print(d.pop(P(3, 4)), d)
print(d.setdefault(P(1, 2), "x"), d.setdefault(P(7, 8), "y"), d)
del d[P(7, 8)]
print(d)
d.update({P(1, 2): "u"})
print(d)
try:
    d[P(0, 0)]
except KeyError as e:
    print("KeyError", e)
s = {P(1, 2), P(1, 2), P(2, 1)}
print(len(s), s)
print(P(2, 1) in s, P(9, 9) in s)
s.add(P(2, 1))
s.discard(P(1, 2))
print(s)
s.remove(P(2, 1))
print(s)
print(len(set([P(1, 1), P(1, 1), P(1, 1)])))
print({P(1, 2), P(3, 4)} & {P(3, 4)}, {P(1, 2)} | {P(1, 2)}, {P(1, 2), P(3, 4)} - {P(1, 2)})
print({(1, P(1, 2)): "tuple key"}[(1, P(1, 2))])


class Num:
    """Equal to the int it holds, and hashed like it."""

    def __init__(self, n):
        self.n = n

    def __eq__(self, other):
        return self.n == (other.n if isinstance(other, Num) else other)

    def __hash__(self):
        return hash(self.n)


print({1: "one", 2: "two"}[Num(2)], Num(1) in {1, 3}, {Num(3): "three"}[3], 3 in {Num(3)})


class Always:
    def __eq__(self, other):
        return True

    def __hash__(self):
        return 1


print({1: "int"}[Always()], {Always(): "a"}.get(1), {Always(): "a"}.get(2))


class Odd:
    def __init__(self, h):
        self.h = h

    def __hash__(self):
        return self.h


print(hash(Odd(-1)), hash(Odd(True)), hash(Odd(2 ** 70)) == hash(2 ** 70), hash(Odd(12345)))
for h in ("7", 1.5, None):
    try:
        hash(Odd(h))
    except TypeError as e:
        print("TypeError:", e)
try:
    {Odd("x"): 1}
except TypeError as e:
    print("TypeError:", e)


class Boom:
    def __eq__(self, other):
        raise ValueError("no comparing")

    def __hash__(self):
        return 0


try:
    {Boom(): 1}[Boom()]
except ValueError as e:
    print("ValueError:", e)
b = Boom()
print({b: "same object"}[b], b in [b], [b].count(b))


class Plain:
    pass


q = Plain()
print(hash(q) == hash(q), {q: 1}[q], Plain() in {q})
for cls in (Boom, Plain):
    o = cls()
    print(cls.__name__, hash(o) == hash(o))


class EqOnly:
    def __eq__(self, other):
        return True


for bad in (EqOnly(), (1, EqOnly())):
    try:
        hash(bad)
    except TypeError as e:
        print("TypeError:", e)


class Loud:
    def __init__(self, n):
        self.n = n

    def __eq__(self, other):
        print("Loud eq", self.n, other.n)
        return self.n == other.n

    def __hash__(self):
        print("Loud hash", self.n)
        return self.n % 3


seen = set()
for n in (1, 4, 1, 2):
    seen.add(Loud(n))
print(len(seen), Loud(4) in seen, Loud(7) in seen)
table = {Loud(0): "zero", Loud(3): "three"}
print(table[Loud(3)], hash(Loud(5)))


class Q:
    """Two hashes only: most keys collide, and __eq__ decides."""

    def __init__(self, x):
        self.x = x

    def __eq__(self, other):
        print("Q eq", self.x, other.x)
        return self.x == other.x

    def __hash__(self):
        return self.x % 2

    def __repr__(self):
        return "Q%d" % self.x


print({Q(i % 3) for i in range(5)})
print({Q(i % 3): i for i in range(5)})
print(dict([(Q(1), "a"), (Q(1), "b")]))
d = {}
d.update([(Q(2), 1), (Q(2), 2)])
print(d)
print({Q(1), Q(3), Q(1)} == {Q(3), Q(1)})
print({Q(1): Q(5), Q(3): 1} == {Q(3): 1, Q(1): Q(5)}, {Q(2): 1} != {Q(4): 1})
