import socket

a, b = socket.socketpair()
w = a.makefile("wb")
r = b.makefile("rb")
print(repr(r), repr(w), w.write(b"one\ntwo\n"), w.write(b"three"))
w.flush()
print(r.readline(), r.readline())
print(r.read(3), r.read(2))
w.write(b"x\ny\n")
w.close()
print(w.closed, r.closed)
for line in r:
    print("line", line)
    if line == b"y\n":
        break
tw = a.makefile("w", encoding="utf-8")
tr = b.makefile("r", encoding="utf-8")
print(repr(tr))
print("héllo", 42, file=tw, flush=True)
print(repr(tr.readline()))
with a.makefile("w") as f:
    f.write("abc\r\ndef\n")
print(repr(tr.readline()), repr(tr.read(2)))
tw.close()
a.close()
print(repr(tr.read()))
rest = b.makefile("rb")
print(rest.read())
raw = b.makefile("rwb", buffering=0)
print(repr(raw)[:16], repr(a.makefile("rw")))
b.close()
