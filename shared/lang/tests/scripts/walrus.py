chunks = [b"ab", b"cd", b""]
out = []
while (data := chunks.pop(0)):
    out.append(data)
print(out, data)
if (n := len(out)) > 1:
    print("n =", n)
values = [y for x in range(5) if (y := x * x) > 3]
print(values, y)
def f(items):
    total = 0
    while (item := items.pop()) != 0:
        total += item
    return total, item
print(f([0, 1, 2, 3]))
print((z := 10) + z)
