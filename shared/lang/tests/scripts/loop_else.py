def find(items, wanted):
    for i, x in enumerate(items):
        if x == wanted:
            print("found at", i)
            break
    else:
        print("not found")
        return -1
    return i

print(find([1, 2, 3], 2), find([1, 2, 3], 9), find([], 1))
n = 0
while n < 3:
    n += 1
else:
    print("while ended, n =", n)
while True:
    break
else:
    print("never")
for a in range(3):
    for b in range(3):
        if a * b == 2:
            break
    else:
        continue
    print("pair", a, b)
    break
else:
    print("no pair")
for x in []:
    pass
else:
    for y in range(5):
        if y == 1:
            break
    print("inner break left y =", y)
