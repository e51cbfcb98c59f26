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
