# Pure-Python checks: every print here must match CPython's output exactly.
print(1, 2.5, 1.0, 1e16, 0.1 + 0.2, -0.0, 10 / 4, 7 // 2, -7 // 2, -7 % 3, 2 ** 10, 2 ** -1)
print(None, True, False, "text", b"bytes\r\n\x00\xff", 'it\'s', b'"', "tab\t")
print(repr("text"), repr("it's"), repr('say "hi"'), str(b"x"), repr(1.5))
print((1,), (), (1, "a"), [1, [2, b"x"]], [])
print(b"" == b"", b"a" < b"b", "a" * 3, b"ab" * 2, 3 * [0], (1, 2) + (3,))
print("x" in "xyz", b"y" in b"xyz", 121 in b"xyz", 3 in [1, 2, 3], 5 not in range(5))
data = b"GET / HTTP/1.0\r\nHost: example\r\n\r\nbody"
print(data[0], data[-1], data[:3], data[4:], data[::-1][:4], len(data))
head, sep, body = data.partition(b"\r\n\r\n")
print(head.split(b"\r\n"), sep, body)
print(data.find(b"Host"), data.find(b"nope"), data.count(b"\r\n"), data.startswith(b"GET"), data.endswith((b"x", b"body")))
line = "  Content-Length: 42 \r\n"
print(int(line.split(":")[1]), line.strip(), repr(line.lstrip()), line.rstrip() + "|")
print("a,b,,c".split(","), "a b  c".split(), "a b c".split(" ", 1), "x".join(["1", "2", "3"]), b"-".join([b"a", b"b"]))
print("Hello".upper(), "Hello".lower(), "hello".replace("l", "L"), "hello".replace("l", "L", 1))
print("héllo".encode(), b"h\xc3\xa9llo".decode(), "héllo"[1], len("héllo"), "héllo".find("l"))
print(int("ff", 16), int("0x10", 16), int(b"12"), int(3.9), int("-5"), hex(255), hex(-16), str(42), float("1.5"))
print(bytes([104, 105]), bytes(3), bytes("hé", "utf-8"), ord("A"), ord(b"A"), chr(233))
print(abs(-3), min(3, 1, 2), max([4, 9, 2]), sum([1, 2, 3]), bool(0), bool(b"x"), list(b"ab"), tuple("ab"))
print(1 < 2 < 3, 1 < 2 > 3, 0 or "default", "" and "x", not None, None is None, [] is not None)
xs = [3, 1]
xs.append(5)
xs.extend([7])
print(xs, xs.pop(), xs.pop(0), xs, xs.index(5), xs.count(1))
xs[0] = 10
xs[1] += 1
print(xs, xs == [10, 6], [1, 2] < [1, 3])
total = 0
for i in range(2, 10, 3):
    total += i
print(total, list(range(5)), list(range(10, 0, -3)), len(range(0, 10, 3)))
a, (b, c) = 1, [2, 3]
print(a, b, c, "yes" if a else "no", b"abc".hex(), bytes.fromhex("6869"))
print("a", "b", sep="-", end="!\n")
print("no newline", end="")
print(" ...continued")
print(5 & 3, 5 | 3, 5 ^ 3, 1 << 4, 256 >> 4, ~5, -(3), +4)
print("%", b"a\\b", "a\nb")
print("x".isdigit(), "123".isdigit(), "a-b-c".rpartition("-"), "abc".partition("z"))
print(str(1.0), str(100.0), 1e-5, 123456789.0 * 10, 2.0 ** 60, float(7))
