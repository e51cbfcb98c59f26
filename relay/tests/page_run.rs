//! The run the relay makes for a client (`run` requests): the real relay
//! binary parses and runs the script in the session, makes its calls on real
//! sockets, and reports updates ahead of the answers they announce.

mod common;

use common::{Client, Relay};
use serde_json::{Value, json};
use socklab_run::line::LineKind;
use socklab_run::page::{FromRelay, PageMsg, RunUpdate, decode};
use socklab_wire::protocol::{ErrorCode, RUN_IDS, ServerMsg};
use tokio_tungstenite::tungstenite::Message;

const ECHO: &str = "# lane: server
srv = socket(AF_INET, SOCK_STREAM)
srv.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
srv.bind((\"127.0.0.1\", 15720))
srv.listen(5)
conn, addr = srv.accept()
msg = conn.recv(1024)
conn.send(msg)
conn.close()
srv.close()

# lane: client
cli = socket(AF_INET, SOCK_STREAM)
cli.connect((\"127.0.0.1\", 15720))
cli.send(b\"hello socket world\")
reply = cli.recv(1024)
print(reply.decode())
cli.close()
";

async fn run(c: &mut Client, cmd: Value) {
    c.send_json(json!({"type": "run", "cmd": cmd})).await;
}

async fn next(c: &mut Client) -> FromRelay {
    match c.next_frame().await {
        Message::Text(text) => decode(&text).unwrap_or_else(|e| panic!("bad frame {text}: {e}")),
        other => panic!("a text frame, not {other:?}"),
    }
}

/// Everything until the run's `ended` update: the updates, and the session's messages between them.
async fn until_ended(c: &mut Client) -> (Vec<RunUpdate>, Vec<ServerMsg>, Vec<FromRelay>) {
    let (mut updates, mut session, mut all) = (Vec::new(), Vec::new(), Vec::new());
    loop {
        let frame = next(c).await;
        all.push(frame.clone());
        match frame {
            FromRelay::Page(PageMsg::Run(update)) => {
                let ended = update.ended;
                updates.push(update);
                if ended {
                    return (updates, session, all);
                }
            }
            FromRelay::Session(msg) => session.push(msg),
            FromRelay::Page(other) => panic!("{other:?}"),
        }
    }
}

fn texts(updates: &[RunUpdate]) -> Vec<String> {
    updates.iter().flat_map(|u| u.lines.iter().map(|l| l.text.clone())).collect()
}

#[tokio::test]
async fn the_relay_runs_the_script_and_announces_each_call_before_its_answer() {
    let relay = Relay::start();
    let mut c = relay.connect().await;
    run(&mut c, json!({"op": "go", "source": ECHO})).await;
    let (updates, session, all) = until_ended(&mut c).await;
    assert_eq!(updates[0].started, Some(false));
    let lines = texts(&updates);
    assert!(lines.contains(&"client| hello socket world".to_owned()), "{lines:#?}");
    assert!(lines.iter().any(|l| l.starts_with("cli  SYN_SENT → ESTABLISHED")), "kernel lines use the script's names: {lines:#?}");
    assert!(lines.contains(&"server: finished".to_owned()) && lines.contains(&"client: finished".to_owned()), "{lines:#?}");
    // Every answer follows the update that listed its call; every call is the run's.
    let mut announced = Vec::new();
    for frame in &all {
        match frame {
            FromRelay::Page(PageMsg::Run(update)) => announced.extend(update.sent.iter().map(|(id, _)| *id)),
            FromRelay::Session(ServerMsg::Result { id, .. } | ServerMsg::Pending { id }) => {
                assert!(announced.contains(id), "call {id} answered before it was announced");
                assert!(*id >= RUN_IDS);
            }
            _ => {}
        }
    }
    assert!(announced.len() >= 12, "{announced:?}");
    assert!(session.iter().any(|m| matches!(m, ServerMsg::Event { .. })), "the kernel's events still come");
    let last_lanes = updates.iter().rev().find_map(|u| u.lanes.clone()).expect("lanes");
    assert_eq!(last_lanes.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(), ["server", "client"]);
    let names = updates.iter().rev().find_map(|u| u.names.clone()).expect("names");
    assert!(names.iter().any(|(_, name)| name == "cli"), "{names:?}");

    // A second run continues the session's ids.
    run(&mut c, json!({"op": "go", "source": "print('again')\n"})).await;
    let (updates, _, _) = until_ended(&mut c).await;
    assert!(texts(&updates).contains(&"main| again".to_owned()));
    c.close().await;
}

#[tokio::test]
async fn stepping_moves_the_lane_asked_or_says_why_and_steps_another() {
    let relay = Relay::start();
    let mut c = relay.connect().await;
    let step = |lane: &str| json!({"op": "step", "source": ECHO, "lane": lane, "follow": true});
    // Five statements take the server into accept(), where it blocks.
    let mut blocked = false;
    for _ in 0..5 {
        run(&mut c, step("server")).await;
        loop {
            if let FromRelay::Page(PageMsg::Run(update)) = next(&mut c).await
                && update.stepped
            {
                assert_eq!(update.paused, Some(true));
                assert_eq!(update.note, None, "the server could step");
                break;
            }
        }
    }
    // Its answer may come in an update of its own; the next Step on it says why and moves the client.
    for _ in 0..20 {
        run(&mut c, step("server")).await;
        let update = loop {
            if let FromRelay::Page(PageMsg::Run(update)) = next(&mut c).await
                && update.stepped
            {
                break update;
            }
        };
        if let Some(note) = update.note {
            assert!(note.starts_with("server is blocked in accept(), waiting for"), "{note}");
            assert!(note.ends_with("Step stepped client instead, the lane Run would run next."), "{note}");
            blocked = true;
            break;
        }
    }
    assert!(blocked, "the server blocked in accept()");
    // Go runs the paused run on to its end.
    run(&mut c, json!({"op": "go", "source": ECHO})).await;
    let (updates, _, _) = until_ended(&mut c).await;
    assert!(texts(&updates).contains(&"client| hello socket world".to_owned()));
    c.close().await;
}

#[tokio::test]
async fn checks_and_refusals_name_the_problem_and_the_session_goes_on() {
    let relay = Relay::start();
    let mut c = relay.connect().await;
    run(&mut c, json!({"op": "check", "source": "x = (\n"})).await;
    let FromRelay::Page(PageMsg::Checked { diagnostics }) = next(&mut c).await else { panic!("checked") };
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0].line, 1);
    run(&mut c, json!({"op": "check", "source": ECHO})).await;
    assert_eq!(next(&mut c).await, FromRelay::Page(PageMsg::Checked { diagnostics: Vec::new() }));

    // A script that does not parse does not run.
    run(&mut c, json!({"op": "go", "source": "x = (\n"})).await;
    let FromRelay::Page(PageMsg::Run(update)) = next(&mut c).await else { panic!("an update") };
    assert_eq!((update.rejected.len(), update.started), (1, None));

    let big = "#".repeat(300 * 1024);
    run(&mut c, json!({"op": "go", "source": big})).await;
    let FromRelay::Session(ServerMsg::Error { code, message, .. }) = next(&mut c).await else { panic!("an error") };
    assert_eq!(code, ErrorCode::BadArguments);
    assert!(message.contains("a run takes at most 262144"), "{message}");

    // The run's ids are the relay's own.
    c.send_json(json!({"type": "call", "id": RUN_IDS + 5, "call": {"op": "sleep", "seconds": 0}})).await;
    let FromRelay::Session(ServerMsg::Error { code, .. }) = next(&mut c).await else { panic!("an error") };
    assert_eq!(code, ErrorCode::BadArguments);

    // Stop ends a run blocked forever, cancelling its call.
    run(&mut c, json!({"op": "go", "source": "s = socket(AF_INET, SOCK_DGRAM)\ns.bind(('127.0.0.1', 15721))\ns.recv(10)\n"})).await;
    loop {
        if let FromRelay::Session(ServerMsg::Pending { .. }) = next(&mut c).await {
            break;
        }
    }
    run(&mut c, json!({"op": "stop"})).await;
    let (updates, _, _) = until_ended(&mut c).await;
    let lines: Vec<_> = updates.iter().flat_map(|u| u.lines.clone()).collect();
    assert!(lines.iter().any(|l| l.text == "main: stopped while blocked at line 3"), "{lines:?}");
    assert!(lines.iter().any(|l| l.kind == LineKind::Note && l.text == "stopped"));
    c.close().await;
}

/// The deepest trees a script can make (a chain of 999 operators, and such
/// chains nested 48 deep) are checked and run in a session without harm to
/// the relay.
#[tokio::test]
async fn the_deepest_scripts_run_in_a_session() {
    let relay = Relay::start();
    let mut c = relay.connect().await;
    let chain = |inner: &str| format!("({} + {inner})", vec!["1"; 990].join(" + "));
    let mut nested = "1".to_string();
    for _ in 0..48 {
        nested = chain(&nested);
    }
    let long = format!("x = {}\nprint(x)\n", vec!["1"; 1000].join(" + "));
    for (script, printed) in [(long, "main| 1000"), (format!("x = {nested}\nprint(x)\n"), "main| 47521")] {
        run(&mut c, json!({"op": "check", "source": script})).await;
        let FromRelay::Page(PageMsg::Checked { diagnostics }) = next(&mut c).await else { panic!("checked") };
        assert_eq!(diagnostics, [], "the parser takes it");
        run(&mut c, json!({"op": "go", "source": script})).await;
        let (updates, _, _) = until_ended(&mut c).await;
        let lines = texts(&updates);
        assert!(lines.iter().any(|line| line == printed), "{lines:?}");
    }
    run(&mut c, json!({"op": "go", "source": "print('still here')\n"})).await;
    let (updates, _, _) = until_ended(&mut c).await;
    assert!(texts(&updates).contains(&"main| still here".to_owned()));
}

#[tokio::test]
async fn the_relay_judges_the_open_lesson_on_the_run_and_on_the_kernel_after_it() {
    let lesson = socklab_lessons::get(8).expect("lesson 8");
    let relay = Relay::start();
    let mut c = relay.connect().await;
    run(&mut c, json!({"op": "lesson", "number": 8, "lang": "zh"})).await;
    let FromRelay::Page(PageMsg::Run(told)) = next(&mut c).await else { panic!("the verdicts first") };
    let told = told.reports.expect("the verdicts");
    assert_eq!(told.len(), lesson.steps().len());
    assert!(told.iter().all(|v| !v.passed && v.reason.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))), "{told:?}");
    run(&mut c, json!({"op": "go", "source": lesson.solution})).await;
    // Every checkpoint passes, TIME_WAIT's and LAST_ACK's among them,
    // whether the kernel gets there before the run ends or after.
    let all_passed = async {
        loop {
            if let FromRelay::Page(PageMsg::Run(RunUpdate { reports: Some(verdicts), .. })) = next(&mut c).await
                && verdicts.iter().all(|v| v.passed)
            {
                return verdicts;
            }
        }
    };
    let verdicts = tokio::time::timeout(std::time::Duration::from_secs(60), all_passed).await.expect("every checkpoint passed");
    assert_eq!(verdicts.len(), lesson.steps().len());
    // A language the lessons are not written in is refused by name.
    run(&mut c, json!({"op": "lesson", "number": 8, "lang": "fr"})).await;
    loop {
        if let FromRelay::Session(ServerMsg::Error { message, .. }) = next(&mut c).await {
            assert!(message.contains("\"fr\""), "{message}");
            break;
        }
    }
    c.close().await;
}
