//! The classic scripts the Examples menu loads.

use crate::state::ECHO_EXAMPLE;

/// (menu label, script).
pub const EXAMPLES: &[(&str, &str)] = &[
    ("TCP echo", ECHO_EXAMPLE),
    ("UDP echo", UDP_ECHO),
    ("Unix socket", UNIX_ECHO),
    ("Ping (raw ICMP)", PING),
    ("HTTP by hand", HTTP),
    ("Connection refused", REFUSED),
];

pub const UDP_ECHO: &str = r#"# lane: server
srv = socket(AF_INET, SOCK_DGRAM)
srv.bind(("127.0.0.1", 5501))
data, addr = srv.recvfrom(1024)
srv.sendto(data, addr)
srv.close()

# lane: client
cli = socket(AF_INET, SOCK_DGRAM)
cli.sendto(b"hello over udp", ("127.0.0.1", 5501))
reply, addr = cli.recvfrom(1024)
print(reply)
cli.close()
"#;

pub const UNIX_ECHO: &str = r#"# lane: server
srv = socket(AF_UNIX, SOCK_STREAM)
srv.bind("\0socklab-echo")
srv.listen(1)
conn, addr = srv.accept()
conn.send(conn.recv(1024))
conn.close()
srv.close()

# lane: client
cli = socket(AF_UNIX, SOCK_STREAM)
cli.connect("\0socklab-echo")
cli.send(b"hello over a unix socket")
print(cli.recv(1024))
cli.close()
"#;

pub const PING: &str = r#"s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)
s.settimeout(2)
s.sendto(icmp_echo_request(0x1234, 1, b"ping"), ("127.0.0.1", 0))
for i in range(2):
    data, addr = s.recvfrom(1024)
    msg = icmp_parse(data)
    print("type", msg.type, "seq", msg.seq, "ttl", msg.ttl)
s.close()
"#;

pub const HTTP: &str = r#"addr = lab_peer("http")
s = socket(AF_INET, SOCK_STREAM)
s.connect(addr)
s.sendall(b"GET / HTTP/1.0\r\nHost: lab\r\n\r\n")
reply = s.recv(4096)
print(reply.decode())
s.close()
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
