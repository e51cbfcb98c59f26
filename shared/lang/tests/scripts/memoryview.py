buf = bytearray(8)
view = memoryview(buf)
print(len(view), type(view).__name__, view.tobytes())
part = view[2:5]
part[0:3] = b"xyz"
print(buf, bytes(view[1:4]), len(part), view[3])
view[-2:] = b"!!"
print(bytes(buf), view.tolist()[:3], view.hex())
buf[0:2] = b"AB"
print(buf, bytes(part))
b2 = bytearray(buf)
b2[1:3] = b""
print(b2, len(b2))
b2[0:0] = [65, 66]
print(b2)
xs = [0, 1, 2, 3, 4]
xs[1:3] = ["a", "b", "c"]
print(xs)
xs[:2] = []
del xs[-1:]
print(xs)
ro = memoryview(b"hello")
print(ro[1:3].tobytes(), ro == b"hello", bytes(ro[::1]))
try:
    ro[0:1] = b"j"
except TypeError as e:
    print("TypeError:", e)
try:
    view[0:2] = b"abc"
except ValueError as e:
    print("ValueError:", e)
with memoryview(bytearray(b"abc")) as m:
    print(m.tobytes())
try:
    len(m)
except ValueError as e:
    print("ValueError:", e)
view.release()
try:
    view.tobytes()
except ValueError as e:
    print("ValueError:", e)
data = bytearray(b"0123456789")
print(b"".join([bytes(memoryview(data)[i:i + 4]) for i in range(0, 10, 4)]))

# A bytearray cannot change size while a memoryview looks at it.
ba = bytearray(b"abc")
mv = memoryview(ba)
for change in [lambda: ba.append(1), lambda: ba.extend(b"xy"), lambda: ba.pop(), lambda: ba.clear()]:
    try:
        change()
    except BufferError as e:
        print("BufferError:", e)
ba.extend(b"")
ba[0:1] = b"X"
try:
    ba[0:1] = b"XY"
except BufferError as e:
    print("slice:", e)
print(ba, bytes(mv))
mv.release()
ba.append(100)
print(ba)
part = memoryview(ba)[1:2]
try:
    ba.append(1)
except BufferError:
    print("a slice exports too")
del part
ba.append(101)
print(ba)
with memoryview(ba) as m:
    print(m[0])
ba.clear()
print(ba, isinstance(BufferError("x"), Exception))
