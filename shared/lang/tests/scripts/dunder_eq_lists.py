# `in`, list.index, list.count, list.remove and == of containers ask __eq__
# (identity first, then the item's __eq__, then the reflected one).
class V:
    def __init__(self, n, tag):
        self.n, self.tag = n, tag

    def __eq__(self, other):
        print("eq", self.tag, getattr(other, "tag", other))
        if isinstance(other, V):
            return self.n == other.n
        return NotImplemented

    def __repr__(self):
        return self.tag


a, b, c = V(1, "a"), V(2, "b"), V(1, "c")
items = [a, b]
print(c in items, V(3, "x") in items, c not in items)
print(c in (a, b), b in (a, b))
print(items.index(c), items.index(V(2, "y")))
try:
    items.index(V(9, "z"))
except ValueError as e:
    print("ValueError:", e)
print([a, b, c, a].count(V(1, "q")))
rest = [b, a, c]
rest.remove(V(1, "r"))
print(rest)
try:
    rest.remove(V(5, "s"))
except ValueError as e:
    print("ValueError:", e)
print([a, b] == [c, V(2, "d")], (a,) == (b,), [a] != [c])
print(1 in [a], a in [1, 2], "x" in (a,))


class Never:
    def __eq__(self, other):
        print("never asked?")
        return False


n = Never()
print(n in [n], [n].count(n), [n].index(n), n == n)
print({"k": [a]} == {"k": [c]})


# `in` over an iterable without __contains__ stops at the first match.
class Bag:
    def __init__(self, *items):
        self.items = items
    def __iter__(self):
        for x in self.items:
            print("yield", x)
            yield x
class Seq:
    def __getitem__(self, i):
        print("get", i)
        if i > 3:
            raise IndexError
        return i * 10
class W:
    def __init__(self, n): self.n = n
    def __repr__(self): return "V%d" % self.n
    def __eq__(self, o):
        print("eq", self.n, o)
        return self.n == o
print(2 in Bag(1, 2, 3), 5 in Bag(1, 2), 9 not in Bag(9, 8))
print(20 in Seq(), 25 in Seq(), 20 not in Seq())
def squares():
    for x in range(10):
        yield x * x
g = squares()
print(16 in g, next(g))
print(3 in Bag(W(1), W(3), W(5)), W(7) in Bag(1, 7))
v = W(0)
print(v in Bag(v))
try:
    1 in 5
except TypeError as e:
    print(e)
class Plain: pass
try:
    1 in Plain()
except TypeError as e:
    print(e)
