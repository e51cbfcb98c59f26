# A tiny HTTP/1.0 server and a client that parses the status line and headers.
# lane: server
import socket

BODY = "<h1>Hello from a socket</h1>\n"

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5460))
srv.listen(1)
conn, _ = srv.accept()
request = b""
while b"\r\n\r\n" not in request:
    request += conn.recv(1024)
head = request.split(b"\r\n\r\n", 1)[0].decode("iso-8859-1")
request_line, *header_lines = head.split("\r\n")
method, path, version = request_line.split()
headers = {}
for line in header_lines:
    name, _, value = line.partition(":")
    headers[name.strip().lower()] = value.strip()
print(method, path, version, "host=" + headers.get("host", "?"))
body = BODY.encode()
response = (
    "HTTP/1.0 200 OK\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    f"Content-Length: {len(body)}\r\n"
    "\r\n"
).encode() + body
conn.sendall(response)
conn.close()
srv.close()

# lane: client
import socket

sock = socket.create_connection(("127.0.0.1", 5460))
sock.sendall(b"GET /index.html HTTP/1.0\r\nHost: 127.0.0.1:5460\r\nUser-Agent: corpus\r\n\r\n")
response = b""
while True:
    chunk = sock.recv(100)
    if not chunk:
        break
    response += chunk
sock.close()
head, body = response.split(b"\r\n\r\n", 1)
lines = head.decode().split("\r\n")
version, status, reason = lines[0].split(" ", 2)
print("status", int(status), reason)
for line in sorted(lines[1:]):
    print("header", line)
print("body", body.decode().strip(), "length ok:", len(body) == int(dict(l.split(": ", 1) for l in lines[1:])["Content-Length"]))
