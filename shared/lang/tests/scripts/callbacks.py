# Builtins that call script functions: sorted/min/max key=, map, filter.
pairs = [("bob", 3), ("ann", 1), ("cid", 2), ("dan", 1)]
print(sorted(pairs, key=lambda p: p[1]), sorted(pairs, key=lambda p: p[1], reverse=True))
print(min(pairs, key=lambda p: p[1]), max(pairs, key=lambda p: p[1]), max([], key=lambda p: p, default="none"))
print(list(map(lambda x: x * 2, [1, 2, 3])), list(map(lambda a, b: a + b, [1, 2], [10, 20, 30])))
print(list(filter(lambda x: x % 2, range(10))), min("abc", key=str.upper) if False else min(["b", "A"], key=str.lower))
def score(word):
    total = 0
    for c in word:
        total += ord(c)
    return total
print(sorted(["zz", "a", "mmm"], key=score), [score(w) for w in sorted(["b", "a"], key=score)])
def outer(xs):
    return sorted(xs, key=lambda x: -x)
print(outer([3, 1, 2]), sorted({"b": 2, "a": 1}.items(), key=lambda kv: kv[1]))
try:
    sorted([1, 2], key=lambda x: 1 / (x - 1))
except ZeroDivisionError as e:
    print("ZeroDivisionError:", e)
def deep(n):
    return n if n == 0 else deep(n - 1)
print(list(map(deep, [5, 50])))
