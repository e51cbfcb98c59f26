first, *rest = [1, 2, 3, 4]
print(first, rest)
*init, last = "abc"
print(init, last)
a, *mid, z = (1, 2)
print(a, mid, z)
a, *mid, z = range(6)
print(a, mid, z)
[x, *ys] = b"hi!"
print(x, ys)
for head, *tail in [(1, 2, 3), (4,), "xy"]:
    print(head, tail)
name, *args = "SET key value".split()
print(name, args)
try:
    a, *b, c = [1]
except ValueError as e:
    print("ValueError:", e)
try:
    a, b = 5
except TypeError as e:
    print("TypeError:", e)
k1, k2 = {"one": 1, "two": 2}
print(k1, k2)
t = (*rest, *"de", 9)
print(t)
lst = [0, *range(3), *[7, 8]]
print(lst)


def f(*args, **kw):
    return args, sorted(kw.items())


print(f(*[1, 2], 3, *(4,), x=1, **{"y": 2}))
print(*[1, 2, 3], sep="-")
(p, q), *r = [(1, 2), 3, 4]
print(p, q, r)
