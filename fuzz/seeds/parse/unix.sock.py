# lane: server
st = socket(AF_UNIX, SOCK_STREAM)
st.bind("/tmp/echo.sock")
st.listen(1)
conn, addr = st.accept()
conn.sendall(conn.recv(100))
conn.close()
dg = socket(AF_UNIX, SOCK_DGRAM)
dg.bind("/srv.sock")
data, peer = dg.recvfrom(100)
dg.sendto(data, peer)
ab = socket(AF_UNIX, SOCK_SEQPACKET)
ab.bind("\0socklab-test-abstract")
ab.listen(1)
c3, a3 = ab.accept()
c3.send(c3.recv(100))

# lane: client
a = socket(AF_UNIX, SOCK_STREAM)
a.connect("/tmp/echo.sock")
a.send(b"stream")
assert a.recv(100) == b"stream"
b = socket(AF_UNIX, SOCK_DGRAM)
b.bind("/cli.sock")
b.sendto(b"datagram", "/srv.sock")
reply, frm = b.recvfrom(100)
assert reply == b"datagram"
assert frm == "/srv.sock"
c = socket(AF_UNIX, SOCK_SEQPACKET)
c.connect("\0socklab-test-abstract")
c.send(b"abstract")
assert c.recv(100) == b"abstract"
print(c.getpeername() == "\0socklab-test-abstract")
