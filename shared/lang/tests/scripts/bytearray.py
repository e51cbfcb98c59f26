# bytearray: built, mutated, sliced and turned back into bytes.
buf = bytearray()
buf += b"hel"
buf.extend(b"lo")
buf.append(33)
print(buf, len(buf), bytes(buf), buf == b"hello!", b"hello!" == buf, buf[0], buf[-1], buf[1:3])
buf[0] = 72
print(buf, buf.decode(), buf.hex(), buf.find(b"l"), b"ll" in buf, 108 in buf, list(buf[:2]))
print(bytearray(3), bytearray([1, 2, 255]), bytearray(b"ab") + b"cd", b"ab" + bytearray(b"cd"), bytearray("hé", "utf-8"))
print(type(buf), isinstance(buf, bytearray), isinstance(buf, bytes), bytearray(b"  x ").strip(), buf.pop(), buf)
print(bytearray(range(4)), bytes(bytearray(b"z")), bool(bytearray()), buf.upper(), str(bytearray(b"q")))
try:
    buf[0] = 256
except ValueError as e:
    print("ValueError:", e)
try:
    buf[10] = 1
except IndexError as e:
    print("IndexError:", e)
