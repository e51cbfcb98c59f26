# The classic select.select server with lists of readers and writers.
# lane: server
import queue
import select
import socket

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.setblocking(0)
server.bind(("127.0.0.1", 5150))
server.listen(5)

inputs = [server]
outputs = []
message_queues = {}
served = 0

while inputs:
    readable, writable, exceptional = select.select(inputs, outputs, inputs)
    for s in readable:
        if s is server:
            connection, client_address = s.accept()
            print("new connection from", client_address[0])
            connection.setblocking(0)
            inputs.append(connection)
            message_queues[connection] = queue.Queue()
        else:
            data = s.recv(1024)
            if data:
                print("received", repr(data))
                message_queues[s].put(data)
                if s not in outputs:
                    outputs.append(s)
            else:
                print("closing after EOF")
                if s in outputs:
                    outputs.remove(s)
                inputs.remove(s)
                s.close()
                del message_queues[s]
                served += 1
                if served == 1:
                    inputs.remove(server)
                    server.close()
    for s in writable:
        if s not in message_queues:
            continue
        try:
            next_msg = message_queues[s].get_nowait()
        except queue.Empty:
            outputs.remove(s)
        else:
            s.send(next_msg.upper())
    for s in exceptional:
        inputs.remove(s)
        s.close()
print("no more inputs")

# lane: client
import socket

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.connect(("127.0.0.1", 5150))
for part in ["This is the message. ", "It will be sent ", "in parts."]:
    sock.send(part.encode())
    print("reply", sock.recv(1024).decode())
sock.close()
