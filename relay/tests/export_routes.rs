//! `POST /export/python` and `/export/c`, against the real relay binary: the
//! page's Export buttons send the script there with the relay's token.

mod common;

use std::time::Duration;

use common::Relay;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An HTTP response: status, head (lowercase), body.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

/// POSTs `body` to `path` in one write, with `token` as the bearer token.
async fn post(relay: &Relay, path: &str, body: &[u8], token: Option<&str>) -> Answer {
    let mut tcp = TcpStream::connect(("127.0.0.1", relay.port)).await.expect("connects");
    let authorization = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n{authorization}\r\n",
        relay.port,
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    tcp.write_all(&request).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut response)).await.expect("an answer").unwrap();
    let text = String::from_utf8(response).expect("a text answer");
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no head in {text:?}"));
    let status = head.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    Answer { status, head: head.to_ascii_lowercase(), body: body.to_string() }
}

#[tokio::test]
async fn a_lesson_s_solution_exports_to_python_and_c() {
    let relay = Relay::start();
    let solution = socklab_lessons::get(2).expect("lesson 2").solution;
    let python = post(&relay, "/export/python", solution.as_bytes(), Some(&relay.token)).await;
    assert_eq!(python.status, 200, "{}", python.body);
    assert!(python.head.contains("content-type: text/plain; charset=utf-8"), "{}", python.head);
    let script = socklab_lang::parse(solution).script;
    assert_eq!(python.body, socklab_export::python(solution, &script).unwrap());
    let c = post(&relay, "/export/c", solution.as_bytes(), Some(&relay.token)).await;
    assert_eq!(c.status, 200, "{}", c.body);
    assert_eq!(c.body, socklab_export::c(&script).unwrap());
    assert_eq!(post(&relay, "/export/rust", solution.as_bytes(), Some(&relay.token)).await.status, 404);
}

#[tokio::test]
async fn scripts_that_do_not_export_say_why() {
    let relay = Relay::start();
    let broken = post(&relay, "/export/c", b"x = (\nprint(1)\n", Some(&relay.token)).await;
    assert_eq!(broken.status, 422);
    let diagnostics = broken.body.strip_prefix("the script does not parse:\n").unwrap_or_else(|| panic!("{}", broken.body));
    assert!(diagnostics.lines().next().is_some_and(|line| line.split(':').nth(1).is_some_and(|col| col.parse::<u32>().is_ok())), "{diagnostics}");
    let refused = post(&relay, "/export/c", b"class Handler:\n    pass\n", Some(&relay.token)).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("the C export does not translate"), "{}", refused.body);
    let binary = post(&relay, "/export/python", b"print('\xff')\n", Some(&relay.token)).await;
    assert_eq!(binary.status, 400);
    assert!(binary.body.contains("not UTF-8"), "{}", binary.body);
}

#[tokio::test]
async fn scripts_over_256_kib_are_refused() {
    let relay = Relay::start();
    let mut most = "x = 1\n".repeat((256 << 10) / 6).into_bytes();
    most.resize(256 << 10, b'#');
    let over = vec![b'#'; (256 << 10) + 1];
    assert_eq!(post(&relay, "/export/python", &most, Some(&relay.token)).await.status, 200);
    let refused = post(&relay, "/export/python", &over, Some(&relay.token)).await;
    assert_eq!(refused.status, 413);
    assert!(refused.body.contains("256 KiB"), "{}", refused.body);
}

#[tokio::test]
async fn the_relay_s_token_is_asked_for() {
    let relay = Relay::start();
    let script = b"print(1)\n";
    for token in [None, Some("not-the-token")] {
        let refused = post(&relay, "/export/python", script, token).await;
        assert_eq!(refused.status, 401, "{token:?}");
        assert!(refused.body.contains("Authorization: Bearer"), "{}", refused.body);
    }
    assert_eq!(post(&relay, "/export/python", script, Some(&relay.token)).await.status, 200);
}

/// The deepest trees a script can make (a chain of 999 operators, and such
/// chains nested 48 deep) export without harm to the relay.
#[tokio::test]
async fn the_deepest_scripts_export() {
    let relay = Relay::start();
    let chain = |inner: &str| format!("({} + {inner})", vec!["1"; 990].join(" + "));
    let mut nested = "1".to_string();
    for _ in 0..48 {
        nested = chain(&nested);
    }
    let long = format!("x = {}\n", vec!["1"; 1000].join(" + "));
    for script in [long, format!("x = {nested}\nprint(x)\n")] {
        for target in ["python", "c"] {
            let answer = post(&relay, &format!("/export/{target}"), script.as_bytes(), Some(&relay.token)).await;
            assert!(matches!(answer.status, 200 | 422), "{target}: {} {}", answer.status, answer.body);
        }
    }
    let after = post(&relay, "/export/python", b"print(1)\n", Some(&relay.token)).await;
    assert_eq!(after.status, 200, "the relay still answers");
}
