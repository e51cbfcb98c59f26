# Builtins over sequences, numbers and types, as CPython 3.11 prints them.
xs = [5, 3, 8, 1, 9, 2]
print(sorted(xs), sorted(xs, reverse=True), sorted("banana"))
print(sorted(["bb", "a", "ccc"], key=len), sorted(["bb", "a", "ccc"], key=len, reverse=True))
print(sorted([(2, "b"), (1, "z"), (2, "a")]))
print(sum(xs), sum([0.5, 0.25]), sum([[1], [2]], []), min(xs), max(xs), min("hello"))
for i, x in enumerate(["a", "b"], start=1):
    print(i, x)
print(list(enumerate("ab")), list(zip([1, 2, 3], "ab")), list(zip()))
print(list(reversed([1, 2, 3])), list(reversed(range(4))), list(reversed("abc")))
print(any([0, "", None]), any([0, 1]), all([]), all([1, 0]))
print(list(map(str, [1, 2, 3])), list(map(int, ["4", "5"])), list(filter(None, [0, 1, "", "x"])))
print(abs(-3), abs(-2.5), round(2.5), round(3.5), round(-0.5), round(2.675, 2), round(1.005, 2))
print(round(1234, -2), round(1250, -2), round(1350, -2), round(0.125, 2), round(7), round(2.5, 0))
print(divmod(7, 2), divmod(-7, 2), divmod(7.5, 2), pow(2, 10), pow(2, -1), pow(3, 4, 5), pow(-3, 3, 7))
print(hex(255), oct(8), bin(5), hex(-255), oct(-8), bin(-5), bin(0))
print(ord("A"), chr(97), ord(b"z"))
print(type(1), type(1.0), type("s"), type(b""), type([]), type(()), type({}), type(True), type(None))
print(type(1).__name__, type(ValueError("x")).__name__, type(len))
print(type(1) is int, type(True) == bool, type(type(1)))
print(isinstance(1, int), isinstance(True, int), isinstance(1, float), isinstance(1.0, (int, float)))
print(isinstance("s", str), isinstance(b"", bytes), isinstance([], (tuple, list)), isinstance({}, dict))
try:
    raise ConnectionRefusedError(111, "Connection refused")
except OSError as e:
    print(isinstance(e, OSError), isinstance(e, ConnectionError), isinstance(e, ValueError), type(e).__name__)
print(getattr(b"ab", "hex")(), hasattr("s", "upper"), hasattr("s", "nope"), getattr("s", "nope", 42))
print(bytes(range(5)), bytes.fromhex("de ad be ef"), b"\x01\x02\xff".hex(), b"\x01\x02\xff".hex(":"))
print(list("abc"), tuple([1, 2]), str(12), int("12"), float("1.5"), bool(0), int(2.9), int("ff", 16))
try:
    sorted([1, "a"])
except TypeError as e:
    print("TypeError:", e)
try:
    isinstance(1, 2)
except TypeError as e:
    print("TypeError:", e)
