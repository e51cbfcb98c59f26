# asyncio streams: start_server and open_connection.
# lane: server
import asyncio

served = 0


async def handle_echo(reader, writer):
    global served
    data = await reader.readline()
    message = data.decode().strip()
    writer.write(("echo: " + message + "\n").encode())
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    served += 1
    print("served", repr(message))
    if served == 2:
        finished.set()


async def main():
    global finished
    finished = asyncio.Event()
    server = await asyncio.start_server(handle_echo, "127.0.0.1", 5510)
    addrs = ", ".join(str(sock.getsockname()) for sock in server.sockets)
    print(f"Serving on {addrs}")
    async with server:
        await finished.wait()
    print("server closed")


asyncio.run(main())

# lane: client
import asyncio


async def tcp_echo_client(message):
    reader, writer = await asyncio.open_connection("127.0.0.1", 5510)
    writer.write(message.encode() + b"\n")
    await writer.drain()
    data = await reader.readline()
    print(f"Received: {data.decode().strip()!r}")
    writer.close()
    await writer.wait_closed()


async def main():
    await tcp_echo_client("Hello World!")
    await tcp_echo_client("again")


asyncio.run(main())
