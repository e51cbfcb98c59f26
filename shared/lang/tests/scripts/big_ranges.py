# range with bounds past 64 bits, as CPython has them.
r = range(2**100, 2**100 + 3)
print(r, len(r), bool(r), list(r))
for x in r:
    print(x - 2**100)
print(2**100 + 1 in r, 2**100 + 3 in r, 5 in r, r[0] == 2**100, r[-1] - 2**100)
print(r == range(2**100, 2**100 + 3), r == range(0, 3))
b = range(2**64)
print(b, b[5], b[-1], 2**63 in b, type(b).__name__)
try:
    len(b)
except OverflowError as e:
    print("OverflowError", e)
try:
    b[2**63 - 1]
except IndexError as e:
    print("IndexError", e)
s = range(-2**70, 2**70, 2**69)
print(s, list(s))
print(range(0, 2**80, 2**79)[1] == 2**79, range(5, 2**65, -1), len(range(5, 2**65, -1)))
w = range(-2**63, 2**63 - 1)
print(w[0], w[-1])
try:
    print(len(w))
except OverflowError as e:
    print("OverflowError", e)
