# The library modules, as CPython 3.11 prints them.
import struct
import struct as st
from struct import pack, unpack as up, calcsize
import sys, errno, os
import binascii
import random
import math
import json
from time import monotonic

print(struct.pack("!I", 5), st.calcsize("!BBHI"), calcsize("BBHI"), calcsize("@bq"))
print(pack("<hd", -2, 1.5), up("!HH", b"\x00\x01\x00\x02"), struct.unpack_from("!H", b"xx\x00\x07", 2))
HEADER = struct.Struct("!BBHI")
print(HEADER.size, HEADER.format, HEADER.pack(1, 2, 3, 4), HEADER.unpack(b"\x01\x02\x00\x03\x00\x00\x00\x04"))
print(struct.pack("3s2xc?", b"abcdef", b"z", 7), struct.pack(">q", -1), struct.unpack("<Q", b"\xff" * 7 + b"\x00"))
for fmt, args in [("!B", (256,)), ("!I", (-1,)), ("!I", ()), ("!y", (1,)), ("!s", ("x",))]:
    try:
        struct.pack(fmt, *args)
    except struct.error as e:
        print("struct.error:", e, type(e).__name__)
try:
    struct.unpack("!I", b"abc")
except struct.error as e:
    print(e)
print(sys.byteorder, sys.version_info[0], sys.version_info >= (3, 8), type(sys.argv))
sys.stdout.write("written\n")
try:
    sys.exit(3)
except SystemExit as e:
    print("exit code", e.code, e.args)
try:
    sys.exit()
except SystemExit as e:
    print("exit code", e.code)
print(errno.ECONNREFUSED, errno.EADDRINUSE, errno.EWOULDBLOCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ESRCH)
print(errno.errorcode[98], errno.errorcode[11], errno.errorcode[95], len(errno.errorcode))
print(os.strerror(98), os.strerror(111), os.strerror(2), os.strerror(9999), type(os.getpid()))
print(binascii.hexlify(b"\x01\xab"), binascii.hexlify(b"\x01\xab", "-"), binascii.unhexlify(b"6f6b"), binascii.unhexlify("ABcd"))
print(binascii.crc32(b"hello"), "%08x" % binascii.crc32(b"hello world"), binascii.crc32(b" world", binascii.crc32(b"hello")))
try:
    binascii.unhexlify(b"abc")
except ValueError as e:
    print(type(e).__name__, e)
for seed in [0, 1, 42, 12345, 2**40 + 7, -3]:
    random.seed(seed)
    print(seed, random.random(), random.randint(1, 100), random.randrange(10), random.randrange(0, 100, 7),
          random.choice("abcdef"), random.getrandbits(8), random.getrandbits(40), random.uniform(1, 2))
    xs = list(range(10))
    random.shuffle(xs)
    print(xs, random.randrange(1000000), random.randint(-5, 5))
print(math.pi, math.e, math.sqrt(2), math.floor(2.5), math.ceil(2.1), math.floor(-2.5), math.log(100, 10), math.log2(8))
print(math.gcd(12, 18), math.isclose(0.1 + 0.2, 0.3), math.fabs(-2), math.trunc(-2.7), math.inf, math.hypot(3, 4))
try:
    math.sqrt(-1)
except ValueError as e:
    print("ValueError:", e)
data = {"name": "socklab", "ports": [80, 443], "ok": True, "none": None, "pi": 1.5, "nested": {"b": 2, "a": [1, {}]}, "e": []}
print(json.dumps(data))
print(json.dumps(data, sort_keys=True, indent=2))
print(json.dumps(data, separators=(",", ":")))
print(json.dumps([1, "é\n\"x\"", 2.0, -0.5, (1, 2)], indent="\t"))
print(json.dumps({1: "a", True: "b", None: 3}), json.dumps("ü", ensure_ascii=False), json.dumps([]), json.dumps({}, indent=4))
print(json.loads('{"a": [1, 2.5, "x\\u00e9", null, true, false], "b": {"c": -3e2}}'))
print(json.loads(b"[1, 2]"), json.loads('"\\ud83d\\ude00"') == "\U0001f600", json.loads(" 7 "))
for bad in ["", "[1, 2", "{'a': 1}", '{"a" 1}', "[1,]", "[1] x", '"abc', "nul", '{"a": 1,}', '\n\n  [1 2]']:
    try:
        json.loads(bad)
    except json.JSONDecodeError as e:
        print("JSONDecodeError:", e)
try:
    json.dumps(b"x")
except TypeError as e:
    print("TypeError:", e)
print(type(monotonic()), isinstance(monotonic(), float))
