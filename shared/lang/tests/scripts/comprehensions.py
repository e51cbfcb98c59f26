# Comprehensions and generator expressions, as CPython 3.11 prints them.
xs = [3, 1, 4, 1, 5, 9, 2, 6]
print([x * 2 for x in xs], [x for x in xs if x % 2 if x > 1])
print({x % 3 for x in xs}, {x: x * x for x in range(4)}, {k: v for k, v in [("a", 1), ("b", 2)]})
print([(a, b) for a in range(3) for b in "xy" if a != 1])
print([[y for y in range(x)] for x in range(4)])
print(sum(x for x in xs), max(len(w) for w in ["ab", "abc"]), bytes(b ^ 0xff for b in b"\x00\x0f"))
print(dict((str(k), k) for k in range(3)), list(x + 1 for x in (1, 2)), sorted((-x for x in xs), reverse=True))
print(any(x > 8 for x in xs), all(x > 0 for x in xs), ",".join(str(x) for x in xs), tuple(c.upper() for c in "ab"))
x = "outer"
squares = [x * x for x in range(5)]
print(x, squares)
def f(n):
    total = [i * n for i in range(3)]
    return total, [n + j for j in total]
print(f(10))
words = "the quick brown fox".split()
print({w: len(w) for w in words if len(w) > 3}, [w[0] for w in words])
matrix = [[1, 2], [3, 4]]
print([row[i] for i in range(2) for row in matrix], [v for row in matrix for v in row])
print([(i, c) for i, c in enumerate("ab")], {c for c in "hello"} == set("helo"))
try:
    print([1 / x for x in [1, 0]])
except ZeroDivisionError as e:
    print("ZeroDivisionError:", e)
