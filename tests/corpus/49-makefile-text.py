# Text-mode files over a socket: iterate lines, print(file=...).
# lane: server
import socket

srv = socket.create_server(("127.0.0.1", 5490))
conn, _ = srv.accept()
with conn, conn.makefile("r", encoding="utf-8") as rfile, conn.makefile("w", encoding="utf-8") as wfile:
    for number, line in enumerate(rfile, 1):
        line = line.rstrip("\n")
        if line == "bye":
            print("bye", file=wfile, flush=True)
            break
        print(f"{number}: {line} ({len(line)} chars)", file=wfile, flush=True)
srv.close()
print("server saw", number, "lines")

# lane: client
import socket

with socket.create_connection(("127.0.0.1", 5490)) as sock:
    rf = sock.makefile("r", encoding="utf-8")
    wf = sock.makefile("w", encoding="utf-8")
    for text in ["héllo", "wörld", "bye"]:
        wf.write(text + "\n")
        wf.flush()
        print(rf.readline(), end="")
    rf.close()
    wf.close()
