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
