# lane: server
srv = socket(AF_INET, SOCK_STREAM)
srv.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5500))
srv.listen(5)
conn, addr = srv.accept()
msg = conn.recv(1024)
conn.send(msg)
conn.close()
srv.close()

# lane: client
cli = socket(AF_INET, SOCK_STREAM)
cli.connect(("127.0.0.1", 5500))
cli.send(b"hello socket world")
reply = cli.recv(1024)
assert reply == b"hello socket world"
cli.close()
