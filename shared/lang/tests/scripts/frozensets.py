# frozenset: a set no method changes, hashable (a dict key, a set's item).
a = frozenset([3, 1, 3, 2])
e = frozenset()
print(sorted(a), e, len(a), len(e), bool(e), 2 in a, 5 not in a, type(a).__name__)
print(a == {1, 2, 3}, {1, 2, 3} == a, a == frozenset({1, 2, 3}), a != e, isinstance(a, frozenset), isinstance(a, set))
print(sorted(a | {9}), type(a | {9}).__name__, type({9} | a).__name__, sorted(a & {1, 7}), sorted(a - {1}), sorted(a ^ {1, 8}))
print(type(a.union([5])).__name__, sorted(a.union([5])), sorted(a.intersection([1, 2])), sorted(a.difference([1])), type(a.copy()).__name__)
print(hash(frozenset([1, 2])) == hash(frozenset([2, 1])), hash(frozenset()), hash(frozenset([1, 2, 3])), hash(frozenset([(1, 2)])))
d = {frozenset([1, 2]): "pair", frozenset(): "empty"}
print(d[frozenset([2, 1])], d[frozenset()], frozenset([1, 2]) in d)
s = {frozenset([1]), frozenset([1]), frozenset([2])}
print(len(s), frozenset([2]) in s)
print(frozenset("abca") == frozenset("cab"), frozenset(range(3)) == {0, 1, 2}, frozenset({1: 2}))
print(sorted(frozenset(x * x for x in range(4))), sum(frozenset([1, 2, 3])), sorted(set(a)))
print(repr(frozenset([1])), str(frozenset(["x"])), [frozenset([4])])
for bad in (lambda: a.add(1), lambda: a.remove(1), lambda: a.clear()):
    try:
        bad()
    except AttributeError as err:
        print("AttributeError:", err)
for bad in (lambda: frozenset([[1]]), lambda: frozenset(5), lambda: reversed(a), lambda: a[0]):
    try:
        bad()
    except TypeError as err:
        print("TypeError:", err)
