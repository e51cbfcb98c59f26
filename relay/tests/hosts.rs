//! Lanes on hosts through `socklab run`: each host its own namespace on a
//! shared link, names that resolve, `lab_link` on real qdiscs, and host mode
//! refusing all of it in words.

mod common;

use common::run_script;

const TWO_HOSTS: &str = r#"
# lane: server @ server
srv = socket(AF_INET, SOCK_STREAM)
srv.bind(("0.0.0.0", 5000))
srv.listen(1)
conn, addr = srv.accept()
print(addr[0])
data = b""
while len(data) < 10000:
    data += conn.recv(65536)
print(len(data))
conn.close()
srv.close()

# lane: client @ laptop
lab_link("laptop", "server", rate="10mbit", mtu=1500)
print(gethostbyname("server"))
print(getaddrinfo("laptop", 80, AF_INET, SOCK_STREAM)[0][4][0])
cli = socket(AF_INET, SOCK_STREAM)
cli.connect(("server", 5000))
print(cli.getsockname()[0])
cli.sendall(b"x" * 10000)
cli.close()
"#;

const THREE_HOSTS: &str = r#"
# lane: a @ alpha
u = socket(AF_INET, SOCK_DGRAM)
u.bind(("alpha", 7000))
data, addr = u.recvfrom(100)
print(data, addr[0])
data, addr = u.recvfrom(100)
print(data, addr[0])
u.close()

# lane: b @ beta
s = socket(AF_INET, SOCK_DGRAM)
lab_link("beta", mtu=1400)
s.sendto(b"from beta", ("alpha", 7000))
s.close()

# lane: c @ gamma
s = socket(AF_INET, SOCK_DGRAM)
sleep(0.05)
s.sendto(b"from gamma", ("alpha", 7000))
try:
    s.connect(("1.1.1.1", 53))
    s.send(b"out")
except OSError as e:
    print("no way out:", e.errno)
s.close()
"#;

#[test]
fn lanes_on_two_and_three_hosts() {
    let run = run_script(TWO_HOSTS, &[]);
    run.assert_all_finished();
    // Hosts are numbered in order of first appearance: server 10.0.0.1, laptop 10.0.0.2.
    assert_eq!(run.prints("client"), ["10.0.0.1", "10.0.0.2", "10.0.0.2"], "{}", run.stdout);
    assert_eq!(run.prints("server"), ["10.0.0.2", "10000"], "{}", run.stdout);

    let run = run_script(THREE_HOSTS, &[]);
    run.assert_all_finished();
    assert_eq!(run.prints("a"), ["b'from beta' 10.0.0.2", "b'from gamma' 10.0.0.3"], "{}", run.stdout);
    // ENETUNREACH: the hosts have only their subnet's route.
    assert_eq!(run.prints("c"), ["no way out: 101"], "{}", run.stdout);
}

#[test]
fn bad_links_and_host_mode_are_refused_in_words() {
    let run = run_script("# lane: a @ one\nlab_link(\"one\", \"two\", loss=5)\n# lane: b @ two\nx = 1\n", &[]);
    let text = format!("{}{}", run.stdout, run.stderr);
    // This kernel may lack netem: either way the refusal names its reason.
    assert!(run.code == 0 || text.contains("CONFIG_NET_SCH_NETEM"), "{text}");
    let run = run_script("# lane: a @ one\nlab_link(\"one\", \"three\")\n# lane: b @ two\nx = 1\n", &[]);
    assert!(run.stdout.contains("no host \\\"three\\\"") || run.stdout.contains("no host \"three\""), "{}", run.stdout);
    let run = run_script("# lane: a @ one\nlab_link(\"one\", loss=250)\n", &[]);
    assert!(run.stdout.contains("percentage between 0 and 100"), "{}", run.stdout);

    let run = run_script(TWO_HOSTS, &["--sandbox", "host"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("host mode"), "{}", run.stderr);
}
