# Integers of any size, as CPython has them.
import json
import math
import random


def show(label, f):
    try:
        print(label, f())
    except Exception as e:
        print(label, type(e).__name__, e)


big = 2 ** 100
print(big, -big, repr(big), str(big))
print(type(big).__name__, isinstance(big, int), type(big) is int)
print(123456789012345678901234567890, 0xffffffffffffffffffff, 0o7777777777777777777777777, 0b1111111111111111111111111111111111111111111111111111111111111111111)
print(-9223372036854775808, type(-9223372036854775808).__name__)
print(9223372036854775807 + 1, -9223372036854775808 - 1, 2 ** 63, 2 ** 64 - 1)
m = 9223372036854775807
print(m * m, m * -m, (-m - 1) * -1, -(-m - 1), abs(-m - 1))
print((-m - 1) // -1, (-m - 1) % -1, divmod(-m - 1, -1))

# Arithmetic with floor semantics.
a = 10 ** 30 + 7
b = -(3 ** 40)
for x, y in [(a, b), (b, a), (a, 12345), (-a, 12345), (a, -12345), (b, -7), (a, a)]:
    print(x + y, x - y, x * y, x // y, x % y, divmod(x, y))
print(a ** 3, (-a) ** 3, 7 ** 100, (-2) ** 127, 2 ** -100)
print(1 ** (10 ** 30), (-1) ** (10 ** 30 + 1), 0 ** (10 ** 30))
print(a << 3, a >> 3, -a >> 3, -a >> 1000, a >> 1000, 1 << 200, -1 << 100)
print(a & b, a | b, a ^ b, ~a, ~b, a & 0xffff, b & -1, -a & (2 ** 80 - 1))
print(a / 7, a / b, big / 3, (2 ** 70) / (2 ** 10), 10 ** 30 / 10 ** 10, 1 / (3 ** 50))
print(a + 0.5, a * 1.5, big - 1.0, a // 1.5, a % 10.0)
print(+a, -(-a), a - a, type(a - a + 1).__name__, big // big, 2 ** 64 - 2 ** 64 + 5)
x = 1
for i in range(100):
    x *= 3
x += 1
x -= 5
print(x, x % 1000000007)
print(math.factorial(30) if hasattr(math, "factorial") else 265252859812191058636308480000000)

# Comparisons across int, big int, float and bool.
print(big == 2 ** 100, big != 2 ** 100, big == float(big), big + 1 == float(big), big > float(big))
print(2 ** 64 > 2 ** 63, -(2 ** 64) < -(2 ** 63), 2 ** 64 > 1e19, 2 ** 64 < 1e20, 2 ** 64 > True)
print(big < float("inf"), big > float("-inf"), big == float("nan"), big < float("nan"), 2 ** 53 + 1 == 2.0 ** 53)
print(sorted([big, -big, 0, 1.5, 2 ** 64, -(2 ** 70), True]))
print(max(big, 3, 2 ** 99), min([big, -big, 5]), sum([2 ** 63, 2 ** 63, 1]), sum(range(10), 2 ** 70))
d = {2 ** 70: "big", 5: "small"}
print(d[2 ** 70], d.get(2 ** 70 + 0), 2 ** 70 in d, (2 ** 70) in [1, 2 ** 70], [2 ** 70, 1].index(2 ** 70))
print(bool(big), not big, 1 if -big else 0)

# Conversions.
print(int("123456789012345678901234567890"), int("-0x" + "f" * 30, 16), int("1" * 70, 2), int("  -99999999999999999999  "))
print(int("0b" + "1" * 80, 0), int("1_000_000_000_000_000_000_000"), int(1e30), int(-1.5e20), int(big), int(True))
print(float(big), float(-big), float(2 ** 1023))
show("float(2**1024)", lambda: float(2 ** 1024))
show("float + huge", lambda: 1.0 + 10 ** 400)
show("huge / 1", lambda: 10 ** 400 / 1)
show("huge / huge", lambda: 10 ** 400 / 10 ** 399)
show("int(inf)", lambda: int(float("inf")))
show("int('12x')", lambda: int("1" * 30 + "x"))
print(hex(big), hex(-big), oct(big), bin(2 ** 70 + 1), bin(-(2 ** 65)))
print(round(big), round(2 ** 70 + 12345, -3), round(-(10 ** 25) - 5000, -4), round(-(10 ** 25) - 15000, -4), round(2 ** 70, -30), round(123456789, -20), round(1.5e20), round(big, 2))

# Formatting.
print("%d %i %x %X %o" % (big, -big, big + 255, big + 255, big))
print("%5d|%-30d|%+d" % (2 ** 64, 2 ** 64, 2 ** 64))
print(format(big, "d"), format(big, ","), format(big, "_"), format(big, "x"), format(big, "b"), format(-big, "40"))
print(format(big, "#x"), format(big, "_x"), format(2 ** 64, ">30"), format(2 ** 64, "<30") + "|", format(2 ** 64, "^+30"))
print(f"{big} {big:,} {big!r} {-big:>40} {big:e} {big:.3f}")
print("{} {:,} {:x}".format(big, big, big))
print("%040d" % big, len(str(2 ** 1000)))

# json.
print(json.dumps([2 ** 100, -(2 ** 70), {"n": 2 ** 64}]))
print(json.loads("[123456789012345678901234567890, -99999999999999999999]"))
print(json.loads("18446744073709551616") + 1)

# Methods and library.
print(math.gcd(2 ** 100, 6 ** 50), math.gcd(10 ** 30, 10 ** 20 + 1), math.gcd(-(2 ** 70), 2 ** 64))
print(pow(3, 200, 10 ** 30 + 7), pow(2 ** 100, 2 ** 70, 1000000007), pow(3, -1, 2 ** 70 + 1), pow(5, 3, -7))
random.seed(12345)
print(random.getrandbits(64), random.getrandbits(100), random.getrandbits(33), random.getrandbits(200))
print(random.getrandbits(32), random.getrandbits(1), random.getrandbits(0))

# Where a machine-sized int is needed.
show("index", lambda: [1, 2, 3][2 ** 64])
show("range", lambda: len(range(2 ** 64)))
show("repeat", lambda: "ab" * 2 ** 64)
show("shift", lambda: 1 << -1)
show("big shift", lambda: big >> -(2 ** 70))
show("zero div", lambda: big // 0)
show("zero mod", lambda: big % 0)
show("zero truediv", lambda: big / 0)
show("chr", lambda: chr(2 ** 70))

# Limits.
show("str", lambda: len(str(10 ** 4299)))
show("str", lambda: str(10 ** 4300))
show("int", lambda: int("9" * 4301))
show("int", lambda: int("9" * 4300) % 10)

# struct and other machine-sized places.
import struct
import time
print(struct.pack("<Q", 2 ** 64 - 1), struct.pack(">q", -(2 ** 63)), struct.unpack("<Q", b"\xff" * 8), struct.unpack(">Q", b"\x80" + b"\0" * 7))
show("pack Q", lambda: struct.pack("<Q", 2 ** 64))
show("pack q", lambda: struct.pack(">q", 2 ** 63))
show("pack huge", lambda: struct.pack("<Q", 2 ** 100))
show("sleep", lambda: time.sleep(2 ** 70))
show("bytes", lambda: bytes(2 ** 64))
print([1, 2, 3][: 2 ** 80], [1, 2, 3][-(2 ** 80):], "abc"[1: 10 ** 30])
show("list index", lambda: [1, 2][-(2 ** 70)])
show("shift big", lambda: 5 >> 2 ** 70)
print(isinstance(2 ** 70, (int, float)), type(2 ** 70) == type(1), f"{2 ** 70:>{5}}")
print(str(-(2 ** 64)), repr([2 ** 64, -(2 ** 64)]), (2 ** 64, ), {2 ** 64: 2 ** 65})
for f, v in [(">Q", 2 ** 64), (">q", -(2 ** 63) - 1), (">i", 2 ** 70), ("<i", 2 ** 40), ("=q", 2 ** 63), ("<I", -1)]:
    show("pack " + f, lambda: struct.pack(f, v))
lst = [1, 2]
try:
    lst[2 ** 70] = 0
except IndexError as e:
    print("setitem", e)
random.seed(2 ** 100 + 12345)
print(random.random(), random.getrandbits(70))
random.seed(-(3 ** 90))
print(random.randint(1, 10 ** 6))
import socket
s = socket.socket()
show("bind", lambda: s.bind(("127.0.0.1", 2 ** 70)))
show("connect_ex", lambda: s.connect_ex(("127.0.0.1", -(2 ** 70))))
s.close()
print(len({2 ** 70, 2 ** 70, 2 ** 70 + 1}), {2 ** 70} == {2 ** 70}, (2 ** 70) in {2 ** 70})
show("list str", lambda: str([1, 10 ** 4300]))
show("list repr", lambda: repr((10 ** 4300,)))
show("fstring", lambda: f"{10 ** 4300}")
show("percent", lambda: "%s" % (10 ** 4300))
show("percent d", lambda: "%d" % (10 ** 4300))
show("json", lambda: json.dumps([10 ** 4300]))
show("zero pow", lambda: 0 ** -1)
show("zero pow big", lambda: 0 ** -(2 ** 70))
print(hex(16 ** 2000)[:10], len(hex(16 ** 2000)), len(format(2 ** 20000, "x")))
print(round(math.log(10 ** 400), 9), round(math.log10(10 ** 400), 9), round(math.log2(2 ** 1000 + 1), 9), round(math.log(2 ** 2000, 2), 9), math.log(2 ** 64), math.floor(2 ** 70), math.ceil(-(2 ** 70)), math.trunc(1e30), math.floor(1.5e19))
show("log neg", lambda: math.log(-(2 ** 100)))
show("sqrt", lambda: math.sqrt(10 ** 400))
print(math.sqrt(2 ** 100), math.fabs(-(2 ** 80)))
x = 1_000_000_000_000_000_000_000 + 0x_ffff_ffff_ffff_ffff_ff
x //= 3
x **= 2
x >>= 10
x ^= -1
print(x, -0x8000000000000000, 0b1_0000000000000000000000000000000000000000000000000000000000000000, 18446744073709551616 - 18446744073709551615)
random.seed(5)
print(random.randrange(2**70), random.randint(-2**80, 2**80), random.randrange(2**65, 2**66, 3), random.randrange(10**30, -10**30, -7), random.randint(1, 2**64))
print(random.randrange(5, 2 ** 64 + 5) > 4, random.getrandbits(64) >= 0, random.random())
show("randrange empty", lambda: random.randrange(2 ** 70, 5))
show("%c big", lambda: "%c" % (10 ** 30))
show("b%c big", lambda: b"%c" % (10 ** 30))
show("pack d huge", lambda: struct.pack("<d", 10 ** 400))
show("pack f huge", lambda: struct.pack("<f", 10 ** 400))
print(struct.pack("<d", 2 ** 64))
