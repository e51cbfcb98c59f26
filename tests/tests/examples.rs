//! Every script of the page's Examples menu (`frontend/src/examples.rs`, the
//! socket tutorial's programs among them) runs through the real relay binary
//! (`socklab run --json`): every lane finishes, but a tutorial server that
//! loops forever (`while 1: accept()`), which must have served its client
//! and be waiting for the next one, and the example that shows
//! `ECONNREFUSED`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::{Value, json};
use socklab_frontend::examples::EXAMPLES;
use socklab_tests::relay::relay_binary;

/// `socklab run --json` of `source` (from standard input), one JSON value a line.
fn run(source: &str, extra: &[&str]) -> Vec<Value> {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    let mut child = Command::new(BIN.get_or_init(relay_binary))
        .args(["run", "--json", "--deadlock-timeout", "1", "--allow-raw"])
        .args(extra)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("socklab runs");
    child.stdin.take().expect("stdin").write_all(source.as_bytes()).expect("script written");
    let out = child.wait_with_output().expect("socklab ends");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.is_empty(), "no transcript; stderr: {}", String::from_utf8_lossy(&out.stderr));
    stdout.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))).collect()
}

fn of_kind<'a>(lines: &'a [Value], kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    lines.iter().filter(move |line| line["kind"] == kind)
}

/// What `lane` printed, joined.
fn printed(lines: &[Value], lane: &str) -> String {
    of_kind(lines, "print").filter(|p| p["lane"] == lane).filter_map(|p| p["text"].as_str()).collect::<Vec<_>>().join("\n")
}

/// The line of `lane`'s source (1-based in the whole script).
fn source_line(source: &str, line: &Value) -> String {
    let n = line.as_u64().unwrap_or(0) as usize;
    source.lines().nth(n.saturating_sub(1)).unwrap_or_default().to_owned()
}

#[test]
fn every_example_runs_to_its_end_through_the_relay() {
    for (label, source) in EXAMPLES {
        let lines = run(source, &[]);
        let ends: Vec<&Value> = of_kind(&lines, "lane_end").collect();
        assert!(!ends.is_empty(), "{label}: no lane ended: {lines:?}");
        for end in ends {
            let lane = end["lane"].as_str().unwrap_or_default();
            match end["status"].as_str() {
                Some("finished") => {}
                Some("error") if *label == "Connection refused" => {
                    assert!(end["message"].as_str().unwrap_or_default().contains("ConnectionRefusedError"), "{end}")
                }
                // The tutorial's servers loop forever: served, then waiting for the next client.
                Some("blocked") if lane == "server" => {
                    let at = source_line(source, &end["line"]);
                    assert!(at.contains("accept()") || at.contains("recvfrom("), "{label}: server blocked at {at:?}");
                    assert!(source.contains("while 1:"), "{label}: only a `while 1:` server may end blocked");
                    assert!(!printed(&lines, "server").is_empty(), "{label}: the server served nobody");
                }
                _ => panic!("{label}: lane {lane} ended {end}\n{}", printed(&lines, lane)),
            }
        }
    }
}

#[test]
fn the_tutorial_examples_print_what_the_tutorial_shows() {
    let example = |label: &str| EXAMPLES.iter().find(|(l, _)| *l == label).map(|(_, s)| *s).expect(label);
    for label in ["Tutorial: TCP echo server and client", "Tutorial: the send loop"] {
        let lines = run(example(label), &[]);
        assert_eq!(printed(&lines, "client"), "b'hello socket world'", "{label}");
        assert!(printed(&lines, "server").starts_with("new client from 127.0.0.1:"), "{label}");
    }
    let lines = run(example("Tutorial: UDP echo"), &[]);
    assert_eq!(printed(&lines, "client"), "receive data:[b'hello udp socket'] from 127.0.0.1:5500");
    let lines = run(example("Tutorial: Unix domain socket"), &[]);
    assert_eq!(printed(&lines, "client"), "b'hello unix domain socket'");
    let lines = run(example("Tutorial: ping (raw ICMP)"), &[]);
    let pings = printed(&lines, "main");
    assert_eq!(pings.lines().filter(|line| line.starts_with("ping 127.0.0.1: seq=")).count(), 3, "{pings}");
}

/// The HTTP user agent names `baidu.com`: the name resolves to the session's
/// HTTP lab peer, the transcript says so, and `connect((ip, 80))` reaches it
/// in a private namespace (port 80) and in host mode (any port) alike.
#[test]
fn the_http_user_agent_talks_to_a_lab_peer_for_its_outside_host() {
    let source = EXAMPLES.iter().find(|(label, _)| label.contains("HTTP user agent")).map(|(_, s)| *s).expect("the example");
    for mode in ["auto", "host"] {
        let lines = run(source, &["--sandbox", mode]);
        let resolved: Vec<&Value> = of_kind(&lines, "resolved").collect();
        assert_eq!(resolved.len(), 1, "{mode}: {lines:?}");
        assert_eq!(resolved[0]["name"], "baidu.com");
        assert_eq!(resolved[0]["peer"], "http");
        assert!(resolved[0]["address"].as_str().unwrap_or_default().starts_with("127.0.0.1:"), "{}", resolved[0]);
        let text = printed(&lines, "main");
        assert!(text.starts_with("connected to 127.0.0.1\n"), "{mode}: {text}");
        assert!(text.contains("HTTP/1.1 200 OK"), "{mode}: {text}");
        assert!(of_kind(&lines, "lane_end").all(|end| end["status"] == "finished"), "{mode}: {lines:?}");
    }
    // A name not spelled like an outside host stays unknown.
    let lines = run("import socket\nsocket.gethostbyname('nosuchhost')\n", &[]);
    let step = of_kind(&lines, "step").next().expect("a step");
    assert_eq!(step["errno_num"], -2, "{step}");
    assert_eq!(of_kind(&lines, "resolved").count(), 0);
}

/// `socklab run --json`: a step inside a function names it (`function`, its
/// qualified name) and its depth (2 for a call from the top level, one more a
/// call deeper); top-level steps have neither field.
#[test]
fn run_json_steps_inside_functions_carry_function_and_depth() {
    let echo = EXAMPLES.iter().find(|(label, _)| label.starts_with("Tutorial: TCP echo")).map(|(_, s)| *s).expect("the example");
    let lines = run(echo, &[]);
    let steps: Vec<&Value> = of_kind(&lines, "step").filter(|s| s["lane"] == "server").collect();
    let in_handler: Vec<&&Value> = steps.iter().filter(|s| s["function"] == "handler").collect();
    assert_eq!(in_handler.len(), 5, "handler's five statements: {steps:?}");
    assert!(in_handler.iter().all(|s| s["depth"] == 2), "{in_handler:?}");
    let call = steps.iter().find(|s| s["call"] == "handler(client_sock, addr)").expect("the call's own step");
    assert!(call.get("function").is_none() && call.get("depth").is_none(), "a top-level step: {call}");

    let nested = "class C:\n    def m(self):\n        return f(1)\ndef f(x):\n    return x + 1\nz = C().m()\n";
    let lines = run(nested, &[]);
    let at = |line: u64| of_kind(&lines, "step").find(|s| s["line"] == line).cloned().unwrap_or_default();
    assert_eq!((&at(3)["function"], &at(3)["depth"]), (&json!("C.m"), &json!(2)));
    assert_eq!((&at(5)["function"], &at(5)["depth"]), (&json!("f"), &json!(3)));
    assert!(at(6).get("depth").is_none(), "{}", at(6));
}
