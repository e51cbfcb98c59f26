//! The scripts the Examples menu loads: the quick-start echo, then every
//! program of the socket tutorial the lessons follow, in its Python 3 form
//! (each lane one of the tutorial's files, its comments and names kept; what
//! had to change for Python 3 or for the lab is said in a `# socklab:`
//! comment). `tests/tests/examples.rs` runs each through `socklab run`.

use crate::state::ECHO_EXAMPLE;

/// (menu label, script).
pub const EXAMPLES: &[(&str, &str)] = &[
    ("TCP echo", ECHO_EXAMPLE),
    ("Tutorial: TCP echo server and client", TUTORIAL_TCP_ECHO),
    ("Tutorial: UDP echo", TUTORIAL_UDP_ECHO),
    ("Tutorial: the send loop", TUTORIAL_SEND_LOOP),
    ("Tutorial: HTTP user agent", TUTORIAL_HTTP_UA),
    ("Tutorial: Unix domain socket", TUTORIAL_UNIX),
    ("Tutorial: ping (raw ICMP)", TUTORIAL_PING),
    ("Connection refused", REFUSED),
];

/// The tutorial's `echo_server.py` as a lane, binding `$port` (after the
/// `# socklab:` line `$note`, if any).
macro_rules! echo_server {
    ($note:literal, $port:literal) => {
        concat!(
            r#"# lane: server
# echo_server.py
# coding=utf8
import socket

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
# 设置 SO_REUSEADDR 后,可以立即使用 TIME_WAIT 状态的 socket
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
"#,
            $note,
            "sock.bind(('', ",
            $port,
            r#"))
sock.listen(5)

def handler(client_sock, addr):
    print('new client from %s:%s' % addr)
    msg = client_sock.recv(1024)
    client_sock.send(msg)
    client_sock.close()
    print('client[%s:%s] socket closed' % addr)

if __name__ == '__main__':
    while 1:
        client_sock, addr = sock.accept()
        handler(client_sock, addr)

"#
        )
    };
}

/// The tutorial's `echo_server.py` and `echo_client.py`. The server loops
/// forever, as the tutorial's does: once the client is done it waits in
/// `accept` for the next one (Stop ends it).
pub const TUTORIAL_TCP_ECHO: &str = concat!(echo_server!("", 5500), r#"# lane: client
# echo_client.py
# coding=utf8
import socket

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.connect(('', 5500))
# socklab: Python 3 sends bytes, so the tutorial's 'hello socket world' is b'...'
sock.send(b'hello socket world')
print(sock.recv(1024))
"#);

/// The tutorial's `udp_echo_server.py` and `udp_echo_client.py`.
pub const TUTORIAL_UDP_ECHO: &str = r#"# lane: server
# udp_echo_server.py
# coding=utf8
import socket

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
# 设置 SO_REUSEADDR 后,可以立即使用 TIME_WAIT 状态的 socket
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(('', 5500))
# 没有调用 listen

if __name__ == '__main__':
    while 1:
        data, addr = sock.recvfrom(1024)

        print('new client from %s:%s' % addr)
        sock.sendto(data, addr)

# lane: client
# udp_echo_client.py
# coding=utf8
import socket

udp_server_addr = ('', 5500)

if __name__ == '__main__':
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # socklab: Python 3 sends bytes, so the tutorial's 'hello udp socket' is b'...'
    data_to_sent = b'hello udp socket'
    try:
        sent = sock.sendto(data_to_sent, udp_server_addr)
        data, server = sock.recvfrom(1024)
        print('receive data:[%s] from %s:%s' % ((data,) + server))
    finally:
        sock.close()
"#;

/// The tutorial's send loop ("常见陷阱-忽略返回值") in the echo client, against
/// the tutorial's echo server.
pub const TUTORIAL_SEND_LOOP: &str = concat!(
    echo_server!("# socklab: port 5600, so this pair can run beside the echo example's 5500\n", 5600),
    r#"# lane: client
# echo_client.py, sending with the tutorial's loop that checks send()'s return value
# coding=utf8
import socket

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.connect(('', 5600))
data_to_sent = b'hello socket world'

total_send = 0
content_length = len(data_to_sent)
while total_send < content_length:
    sent = sock.send(data_to_sent[total_send:])
    if sent == 0:
        raise RuntimeError("socket connection broken")
    # the tutorial's bug, kept: total_send is added twice (it should read
    # total_send += sent); it shows only when send() sends less than asked
    total_send += total_send + sent

print(sock.recv(1024))
"#
);

/// The tutorial's HTTP user agent ("实战HTTP UA"). The lab has no outside
/// network: `gethostbyname('baidu.com')` gives the address of the session's
/// HTTP lab peer, and the transcript says so.
pub const TUTORIAL_HTTP_UA: &str = r#"#coding=utf8
import socket
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
# socklab: the lab has no outside network; this name resolves to the session's
# HTTP lab peer (the event log says "baidu.com → lab peer http at …")
baidu_ip = socket.gethostbyname('baidu.com')
sock.connect((baidu_ip, 80))
print('connected to %s' % baidu_ip)

req_msg = [
    'GET / HTTP/1.1',
    'User-Agent: curl/7.37.1',
    'Host: baidu.com',
    'Accept: */*',
]
delimiter = '\r\n'

# socklab: Python 3 sends bytes, so each str is encoded
sock.send(delimiter.join(req_msg).encode())
sock.send(delimiter.encode())
sock.send(delimiter.encode())

print('%sreceived%s' % ('-'*20, '-'*20))
http_response = sock.recv(4096)
print(http_response)
"#;

/// The Unix domain socket pair the tutorial names (`uds_server.py`,
/// `uds_client.py`) without showing their code: the tutorial's echo server
/// and client with an `AF_UNIX` path for the address.
pub const TUTORIAL_UNIX: &str = r#"# lane: server
# uds_server.py
# coding=utf8
import socket

# socklab: the tutorial names this file without showing it; here it is the
# echo server with a path for its address (in the session's own directory)
server_address = './uds_socket'

sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.bind(server_address)
sock.listen(1)

if __name__ == '__main__':
    while 1:
        client_sock, addr = sock.accept()
        print('new client on %s' % server_address)
        msg = client_sock.recv(1024)
        client_sock.send(msg)
        client_sock.close()

# lane: client
# uds_client.py
# coding=utf8
import socket

server_address = './uds_socket'

sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(server_address)
sock.send(b'hello unix domain socket')
print(sock.recv(1024))
sock.close()
"#;

/// The ping the tutorial links (`ping.py`), which builds an ICMP echo request
/// with `struct`, sends it on a raw socket and waits for the reply with
/// `select`.
pub const TUTORIAL_PING: &str = r#"# ping.py
# coding=utf8
# socklab: the tutorial links ping.py without showing it; this is a ping of
# the same shape. Two differences from CPython: the protocol is
# socket.IPPROTO_ICMP (socklab has no getprotobyname('icmp'), which gives 1),
# and the host is 127.0.0.1 (the lab network has only loopback).
import os
import select
import socket
import struct
import time

ICMP_ECHO_REQUEST = 8


def checksum(source):
    # the Internet checksum: the one's-complement sum of 16-bit words
    if len(source) % 2:
        source += b'\0'
    total = 0
    for i in range(0, len(source), 2):
        total += (source[i] << 8) + source[i + 1]
    total = (total >> 16) + (total & 0xffff)
    total += total >> 16
    return ~total & 0xffff


def send_one_ping(sock, dest_addr, packet_id, seq):
    # header: type (8), code (0), checksum, id, sequence
    header = struct.pack('!BBHHH', ICMP_ECHO_REQUEST, 0, 0, packet_id, seq)
    data = struct.pack('!d', time.time())
    my_checksum = checksum(header + data)
    header = struct.pack('!BBHHH', ICMP_ECHO_REQUEST, 0, my_checksum, packet_id, seq)
    sock.sendto(header + data, (dest_addr, 1))


def receive_one_ping(sock, packet_id, timeout):
    while True:
        ready = select.select([sock], [], [], timeout)
        if ready[0] == []:
            return None
        packet, addr = sock.recvfrom(1024)
        time_received = time.time()
        # the IP header comes first (20 bytes), then the ICMP header
        icmp_type, code, csum, p_id, seq = struct.unpack('!BBHHH', packet[20:28])
        # on loopback the request itself comes back too: wait for the reply (type 0)
        if icmp_type == 0 and p_id == packet_id:
            time_sent = struct.unpack('!d', packet[28:36])[0]
            return time_received - time_sent


def do_one(dest_addr, timeout, seq):
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    packet_id = os.getpid() & 0xFFFF
    send_one_ping(sock, dest_addr, packet_id, seq)
    delay = receive_one_ping(sock, packet_id, timeout)
    sock.close()
    return delay


if __name__ == '__main__':
    dest = socket.gethostbyname('127.0.0.1')
    for seq in range(3):
        delay = do_one(dest, 2, seq)
        if delay is None:
            print('ping %s: timeout' % dest)
        else:
            print('ping %s: seq=%d time=%.3f ms' % (dest, seq, delay * 1000))
"#;

/// Connects to a port nobody listens on, to see ECONNREFUSED.
pub const REFUSED: &str = r#"cli = socket(AF_INET, SOCK_STREAM)
cli.connect(("127.0.0.1", 5599))
"#;

#[cfg(test)]
mod tests {
    #[test]
    fn every_example_parses() {
        for (label, source) in super::EXAMPLES {
            let parsed = socklab_lang::parse(source);
            assert!(parsed.is_ok(), "{label}: {:?}", parsed.diagnostics);
        }
    }
}
