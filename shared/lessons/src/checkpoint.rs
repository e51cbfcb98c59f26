//! Checkpoints decided on a run's transcript: pure functions of
//! `&[transcript::Line]`, so the page, the CLI and the tests judge the same way.
//!
//! Every verdict carries a reason a learner can act on: what was seen when it
//! passed (and the transcript line, so a UI can point at it), or what was
//! missing and what came closest when it failed.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::Lang;
use super::spec::{Checkpoint, StepSpec, TcpInfoField};
use socklab_lang::interp::{EndStatus, InterpEvent};
use socklab_lang::transcript::{KernelLine, Line};

/// The outcome of one checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub passed: bool,
    /// Why, in the learner's language.
    pub reason: String,
    /// Index in the transcript of the line that satisfied the checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<usize>,
}

/// A step with its verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepReport {
    pub id: String,
    pub text: String,
    pub verdict: Verdict,
    /// The step's "what just happened", shown only once it passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub what_happened: Option<String>,
}

/// Judges every step of a lesson on one transcript.
pub fn check_steps(steps: &[StepSpec], lines: &[Line], lang: Lang) -> Vec<StepReport> {
    steps
        .iter()
        .map(|step| {
            let verdict = step.check.evaluate(lines, lang);
            StepReport {
                id: step.id.clone(),
                text: step.text.get(lang).to_string(),
                what_happened: verdict
                    .passed
                    .then(|| step.what_happened.get(lang).to_string()),
                verdict,
            }
        })
        .collect()
}

/// Which `tcp_info` lines a transcript must keep for the checkpoints to judge
/// it as they judge every line: a socket's sample whose judged fields
/// ([`TcpInfoField`]) differ from its last one kept. The page keeps only these.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SampleFilter {
    last: HashMap<String, [u32; TcpInfoField::ALL.len()]>,
}

impl SampleFilter {
    pub fn keeps(&mut self, line: &Line) -> bool {
        let Line::Kernel(KernelLine::TcpInfo { socket, info, .. }) = line else {
            return true;
        };
        let now = TcpInfoField::ALL.map(|field| field.of(info));
        self.last.insert(socket.clone(), now) != Some(now)
    }
}

/// A `step` line, flattened.
struct StepLine<'a> {
    lane: &'a str,
    line: u32,
    call: &'a str,
    ok: bool,
    result: Option<&'a str>,
    errno: Option<&'a str>,
}

/// The steps of the learner's own code (a library module's statements, stepped into, are not).
fn steps(lines: &[Line]) -> impl Iterator<Item = (usize, StepLine<'_>)> {
    lines.iter().enumerate().filter_map(|(i, l)| match l {
        Line::Interp(InterpEvent::Step {
            lane,
            line,
            call,
            ok,
            result,
            errno,
            module: None,
            ..
        }) => Some((
            i,
            StepLine {
                lane,
                line: *line,
                call,
                ok: *ok,
                result: result.as_deref(),
                errno: errno.as_deref(),
            },
        )),
        _ => None,
    })
}

fn lane_ok(filter: &Option<String>, lane: &str) -> bool {
    filter.as_deref().is_none_or(|f| f == lane)
}

fn in_lane(lang: Lang, lane: &Option<String>) -> String {
    match lane {
        Some(l) => lang
            .pick(&format!(" in lane {l}"), &format!("（lane {l}）"))
            .to_string(),
        None => String::new(),
    }
}

fn pass(reason: String, at: usize) -> Verdict {
    Verdict {
        passed: true,
        reason,
        evidence: Some(at),
    }
}

fn fail(reason: String) -> Verdict {
    Verdict {
        passed: false,
        reason,
        evidence: None,
    }
}

/// An int result, as the transcript shows it (`"4096"`).
fn int_result(result: Option<&str>) -> Option<u64> {
    result.and_then(|r| r.trim().parse().ok())
}

impl Checkpoint {
    /// Decides the checkpoint on a transcript.
    pub fn evaluate(&self, lines: &[Line], lang: Lang) -> Verdict {
        let t = |en: String, zh: String| lang.pick(&en, &zh).to_string();
        match self {
            Checkpoint::StepOk {
                lane,
                call_contains,
                result_equals,
                result_contains,
            } => {
                let matching: Vec<_> = steps(lines)
                    .filter(|(_, s)| {
                        lane_ok(lane, s.lane) && s.call.contains(call_contains.as_str())
                    })
                    .collect();
                let good = matching.iter().find(|(_, s)| {
                    s.ok && result_equals
                        .as_deref()
                        .is_none_or(|want| s.result == Some(want))
                        && result_contains
                            .as_deref()
                            .is_none_or(|want| s.result.is_some_and(|r| r.contains(want)))
                });
                if let Some((i, s)) = good {
                    return pass(
                        t(
                            format!(
                                "line {}: `{}` → {}",
                                s.line,
                                s.call,
                                s.result.unwrap_or("None")
                            ),
                            format!(
                                "第 {} 行：`{}` → {}",
                                s.line,
                                s.call,
                                s.result.unwrap_or("None")
                            ),
                        ),
                        *i,
                    );
                }
                let want = match (result_equals, result_contains) {
                    (Some(r), _) => t(format!(" returning {r}"), format!("，返回 {r}")),
                    (None, Some(r)) => t(
                        format!(" with a result containing {r}"),
                        format!("，结果包含 {r}"),
                    ),
                    (None, None) => String::new(),
                };
                let seen = match matching.last() {
                    Some((_, s)) if s.ok => t(
                        format!(" (the last one returned {})", s.result.unwrap_or("None")),
                        format!("（最后一次返回 {}）", s.result.unwrap_or("None")),
                    ),
                    Some((_, s)) => t(
                        format!(" (the last one raised {})", s.errno.unwrap_or("an error")),
                        format!("（最后一次出错：{}）", s.errno.unwrap_or("错误")),
                    ),
                    None => t(
                        " (no such statement ran)".into(),
                        "（没有执行过这样的语句）".into(),
                    ),
                };
                fail(t(
                    format!(
                        "no statement containing `{call_contains}` succeeded{want}{}{seen}",
                        in_lane(lang, lane)
                    ),
                    format!(
                        "没有包含 `{call_contains}` 的语句成功{want}{}{seen}",
                        in_lane(lang, lane)
                    ),
                ))
            }
            Checkpoint::Errno {
                name,
                lane,
                call_contains,
            } => {
                let found = steps(lines).find(|(_, s)| {
                    lane_ok(lane, s.lane)
                        && s.errno == Some(name.as_str())
                        && call_contains.as_deref().is_none_or(|c| s.call.contains(c))
                });
                if let Some((i, s)) = found {
                    return pass(
                        t(
                            format!("line {}: `{}` raised {name}", s.line, s.call),
                            format!("第 {} 行：`{}` 抛出 {name}", s.line, s.call),
                        ),
                        i,
                    );
                }
                let what = call_contains
                    .as_deref()
                    .map(|c| format!(" `{c}`"))
                    .unwrap_or_default();
                let others: Vec<&str> = steps(lines).filter_map(|(_, s)| s.errno).collect();
                let seen = if others.is_empty() {
                    t(" (no call failed)".into(), "（没有调用失败）".into())
                } else {
                    t(
                        format!(" (errors seen: {})", others.join(", ")),
                        format!("（出现过的错误：{}）", others.join(", ")),
                    )
                };
                fail(t(
                    format!("no call{what} raised {name}{}{seen}", in_lane(lang, lane)),
                    format!("没有调用{what}抛出 {name}{}{seen}", in_lane(lang, lane)),
                ))
            }
            Checkpoint::ShortSend {
                lane,
                call_contains,
                asked,
            } => {
                let sends: Vec<_> = steps(lines)
                    .filter(|(_, s)| {
                        lane_ok(lane, s.lane) && s.ok && s.call.contains(call_contains.as_str())
                    })
                    .filter_map(|(i, s)| int_result(s.result).map(|n| (i, s, n)))
                    .collect();
                if let Some((i, s, n)) = sends.iter().find(|(_, _, n)| n < asked) {
                    return pass(
                        t(
                            format!(
                                "line {}: `{}` sent only {n} of {asked} bytes",
                                s.line, s.call
                            ),
                            format!(
                                "第 {} 行：`{}` 只发送了 {asked} 字节中的 {n} 字节",
                                s.line, s.call
                            ),
                        ),
                        *i,
                    );
                }
                let seen = match sends.first() {
                    Some((_, _, n)) => t(
                        format!(" (the first send returned {n})"),
                        format!("（第一次 send 返回 {n}）"),
                    ),
                    None => t(
                        " (no send returned a byte count)".into(),
                        "（没有 send 返回字节数）".into(),
                    ),
                };
                fail(t(
                    format!(
                        "no `{call_contains}` returned less than the {asked} bytes asked{seen}"
                    ),
                    format!("没有 `{call_contains}` 返回少于请求的 {asked} 字节{seen}"),
                ))
            }
            Checkpoint::RecvEmpty {
                lane,
                call_contains,
            } => {
                let found = steps(lines).find(|(_, s)| {
                    lane_ok(lane, s.lane)
                        && s.ok
                        && s.call.contains(call_contains.as_str())
                        && s.result == Some("b''")
                });
                match found {
                    Some((i, s)) => pass(
                        t(
                            format!(
                                "line {}: `{}` returned b'': the peer closed its side",
                                s.line, s.call
                            ),
                            format!(
                                "第 {} 行：`{}` 返回 b''：对端关闭了它的发送方向",
                                s.line, s.call
                            ),
                        ),
                        i,
                    ),
                    None => fail(t(
                        format!("no `{call_contains}` returned b''{}", in_lane(lang, lane)),
                        format!("没有 `{call_contains}` 返回 b''{}", in_lane(lang, lane)),
                    )),
                }
            }
            Checkpoint::State { to, from, socket } => {
                let states: Vec<_> = lines
                    .iter()
                    .enumerate()
                    .filter_map(|(i, l)| match l {
                        Line::Kernel(KernelLine::State {
                            socket, from, to, ..
                        }) => Some((i, socket, from, to)),
                        _ => None,
                    })
                    .collect();
                let found = states.iter().find(|(_, s, f, tt)| {
                    **tt == *to
                        && from.is_none_or(|want| want == **f)
                        && socket.as_ref().is_none_or(|want| want == *s)
                });
                if let Some((i, s, f, tt)) = found {
                    return pass(
                        t(format!("{s}: {f} → {tt}"), format!("{s}：{f} → {tt}")),
                        *i,
                    );
                }
                let transition = match from {
                    Some(f) => format!("{f} → {to}"),
                    None => format!("→ {to}"),
                };
                let who = socket
                    .as_deref()
                    .map(|s| format!(" {s}"))
                    .unwrap_or_default();
                let seen = if states.is_empty() {
                    t(
                        " (the transcript has no TCP state lines: this relay may not observe the kernel's TCP states)".into(),
                        "（记录里没有 TCP 状态行：这个 relay 可能无法观察内核的 TCP 状态）".into(),
                    )
                } else {
                    // The last few transitions: enough to see what happened instead.
                    let mut all: Vec<String> = states
                        .iter()
                        .skip(states.len().saturating_sub(8))
                        .map(|(_, s, f, tt)| format!("{s} {f}→{tt}"))
                        .collect();
                    if states.len() > 8 {
                        all.insert(0, "…".into());
                    }
                    t(
                        format!(" (seen: {})", all.join(", ")),
                        format!("（看到的：{}）", all.join(", ")),
                    )
                };
                fail(t(
                    format!("no socket{who} went {transition}{seen}"),
                    format!("没有 socket{who} 经历 {transition}{seen}"),
                ))
            }
            Checkpoint::Print {
                lane,
                equals,
                contains,
            } => {
                let prints: Vec<_> = lines
                    .iter()
                    .enumerate()
                    .filter_map(|(i, l)| match l {
                        Line::Interp(InterpEvent::Print {
                            lane: pl,
                            line,
                            text,
                        }) if lane_ok(lane, pl) => Some((i, *line, text)),
                        _ => None,
                    })
                    .collect();
                let found = prints.iter().find(|(_, _, text)| {
                    equals.as_ref().is_none_or(|e| e == *text)
                        && contains.as_ref().is_none_or(|c| text.contains(c.as_str()))
                });
                if let Some((i, line, text)) = found {
                    return pass(
                        t(
                            format!("line {line} printed {text:?}"),
                            format!("第 {line} 行打印了 {text:?}"),
                        ),
                        *i,
                    );
                }
                let want = match (equals, contains) {
                    (Some(e), _) => t(format!("a line {e:?}"), format!("一行 {e:?}")),
                    (None, Some(c)) => t(
                        format!("a line containing {c:?}"),
                        format!("包含 {c:?} 的一行"),
                    ),
                    (None, None) => t("any line".into(), "任何一行".into()),
                };
                let seen = match prints.last() {
                    Some((_, _, text)) => t(
                        format!(" (the last print was {text:?})"),
                        format!("（最后一次打印的是 {text:?}）"),
                    ),
                    None => t(" (nothing was printed)".into(), "（没有任何打印）".into()),
                };
                fail(t(
                    format!("no print of {want}{}{seen}", in_lane(lang, lane)),
                    format!("没有打印{want}{}{seen}", in_lane(lang, lane)),
                ))
            }
            Checkpoint::LaneEnd { lane, status } => {
                let end = lines.iter().enumerate().find_map(|(i, l)| match l {
                    Line::Interp(InterpEvent::LaneEnd {
                        lane: el,
                        status: s,
                        line,
                        message,
                        ..
                    }) if el == lane => Some((i, *s, *line, message)),
                    _ => None,
                });
                match end {
                    Some((i, s, _, _)) if status_name(s) == status => pass(
                        t(
                            format!("lane {lane} ended {status}"),
                            format!("lane {lane} 结束状态为 {status}"),
                        ),
                        i,
                    ),
                    Some((_, s, line, message)) => {
                        let at = line.map(|l| format!(" at line {l}")).unwrap_or_default();
                        let why = message
                            .as_deref()
                            .map(|m| format!(": {m}"))
                            .unwrap_or_default();
                        fail(t(
                            format!(
                                "lane {lane} ended {}{at}{why}, not {status}",
                                status_name(s)
                            ),
                            format!(
                                "lane {lane} 的结束状态是 {}{at}{why}，而不是 {status}",
                                status_name(s)
                            ),
                        ))
                    }
                    None => fail(t(
                        format!("lane {lane} did not end (or does not exist)"),
                        format!("lane {lane} 没有结束（或不存在）"),
                    )),
                }
            }
            Checkpoint::Segment { flags, expert } => {
                let found = lines.iter().enumerate().find_map(|(i, l)| match l {
                    Line::Kernel(KernelLine::Segment { src, dst, flags: f, expert: marks, .. })
                        if flags.as_ref().is_none_or(|want| want == f)
                            && expert.is_none_or(|want| marks.contains(&want)) =>
                    {
                        Some((i, src, dst, f))
                    }
                    _ => None,
                });
                let mark = expert.map(|m| format!(" [{}]", m.name())).unwrap_or_default();
                match found {
                    Some((i, src, dst, f)) => pass(format!("{src} > {dst} {f}{mark}"), i),
                    None => {
                        let what = match flags {
                            Some(f) => format!("{f}{mark}"),
                            None => mark.trim_start().to_string(),
                        };
                        fail(t(
                            format!("no {what} segment was captured (capture needs CAP_NET_RAW on the relay)"),
                            format!("没有捕获到 {what} 报文（抓包需要 relay 拥有 CAP_NET_RAW）"),
                        ))
                    }
                }
            }
            Checkpoint::TcpInfo { socket, field, at_least, fell } => {
                let samples = lines.iter().enumerate().filter_map(|(i, l)| match l {
                    Line::Kernel(KernelLine::TcpInfo { socket: s, info, .. })
                        if socket.as_ref().is_none_or(|want| want == s) =>
                    {
                        Some((i, s, field.of(info), TcpInfoField::TotalRetrans.of(info)))
                    }
                    _ => None,
                });
                let name = field.name();
                let mut last: HashMap<&str, u32> = HashMap::new();
                let mut highest: Option<u32> = None;
                for (i, s, value, retrans) in samples {
                    let before = last.insert(s.as_str(), value);
                    highest = Some(highest.map_or(value, |h| h.max(value)));
                    if let Some(min) = at_least
                        && value >= *min
                    {
                        return pass(t(format!("{s}: tcp_info {name}={value}"), format!("{s}：tcp_info {name}={value}")), i);
                    }
                    // A fall counts once the socket has retransmitted: what a loss does,
                    // not the moments of a handshake (BBR shows cwnd 4 for an instant).
                    if *fell
                        && retrans > 0
                        && let Some(before) = before
                        && value < before
                    {
                        return pass(
                            t(
                                format!("{s}: tcp_info {name} fell from {before} to {value} after a retransmission (total_retrans={retrans})"),
                                format!("{s}：重传之后（total_retrans={retrans}），tcp_info {name} 从 {before} 降到 {value}"),
                            ),
                            i,
                        );
                    }
                }
                let who = socket.as_deref().map(|s| format!(" {s}")).unwrap_or_default();
                let want = match at_least {
                    Some(min) => t(format!("{name} reach {min}"), format!("{name} 达到 {min}")),
                    None => t(format!("{name} fall after a retransmission"), format!("{name} 在重传之后下降")),
                };
                let seen = match highest {
                    Some(h) => t(format!(" (the highest was {h})"), format!("（最高为 {h}）")),
                    None => t(" (no tcp_info sample)".into(), "（没有 tcp_info 样本）".into()),
                };
                fail(t(
                    format!("no tcp_info sample of socket{who} saw {want}{seen}"),
                    format!("socket{who} 的 tcp_info 样本中没有看到 {want}{seen}"),
                ))
            }
            Checkpoint::AllFinished => {
                let ends: Vec<_> = lines
                    .iter()
                    .enumerate()
                    .filter_map(|(i, l)| match l {
                        Line::Interp(InterpEvent::LaneEnd {
                            lane, status, line, ..
                        }) => Some((i, lane, *status, *line)),
                        _ => None,
                    })
                    .collect();
                let bad: Vec<String> = ends
                    .iter()
                    .filter(|(_, _, s, _)| *s != EndStatus::Finished)
                    .map(|(_, lane, s, line)| {
                        let at = line.map(|l| format!(" @{l}")).unwrap_or_default();
                        format!("{lane}: {}{at}", status_name(*s))
                    })
                    .collect();
                match (ends.last(), bad.is_empty()) {
                    (Some((i, ..)), true) => pass(
                        t("every lane finished".into(), "所有 lane 都正常结束".into()),
                        *i,
                    ),
                    (None, _) => fail(t("no lane ended".into(), "没有 lane 结束".into())),
                    (_, false) => fail(t(
                        format!("not every lane finished ({})", bad.join("; ")),
                        format!("并非所有 lane 都正常结束（{}）", bad.join("; ")),
                    )),
                }
            }
        }
    }
}

fn status_name(status: EndStatus) -> &'static str {
    match status {
        EndStatus::Finished => "finished",
        EndStatus::Error => "error",
        EndStatus::Assert => "assert",
        EndStatus::Blocked => "blocked",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use socklab_wire::tcp::TcpState;
    use socklab_wire::tcpinfo::{ExpertMark, TcpInfo};

    fn step(lane: &str, call: &str, result: Option<&str>, errno: Option<&str>) -> Line {
        Line::Interp(InterpEvent::Step {
            lane: lane.into(),
            line: 1,
            call: call.into(),
            ok: result.is_some(),
            result: result.map(Into::into),
            errno: errno.map(Into::into),
            errno_num: errno.map(|_| 98),
            function: None,
            depth: None,
            module: None,
            message: None,
        })
    }

    fn state(socket: &str, from: &str, to: &str) -> Line {
        Line::Kernel(KernelLine::State {
            socket: socket.into(),
            from: from.parse().unwrap(),
            to: to.parse().unwrap(),
            local: "127.0.0.1:1".into(),
            peer: "127.0.0.1:2".into(),
        })
    }

    #[test]
    fn each_kind_passes_and_fails_with_a_reason() {
        let lines = vec![
            step("client", "sent = cli.send(data)", Some("8192"), None),
            step("client", "data = cli.recv(1024)", Some("b''"), None),
            step(
                "server",
                "srv.bind((\"127.0.0.1\", 5400))",
                None,
                Some("EADDRINUSE"),
            ),
            state("cli", "FIN_WAIT2", "TIME_WAIT"),
            Line::Interp(InterpEvent::Print {
                lane: "client".into(),
                line: 3,
                text: "got b'hi'".into(),
            }),
            Line::Interp(InterpEvent::LaneEnd {
                lane: "client".into(),
                status: EndStatus::Finished,
                line: None,
                message: None,
                traceback: None,
            }),
        ];
        let check = |c: Checkpoint| c.evaluate(&lines, Lang::En);
        assert!(
            check(Checkpoint::ShortSend {
                lane: None,
                call_contains: "send(".into(),
                asked: 20000
            })
            .passed
        );
        assert!(
            !check(Checkpoint::ShortSend {
                lane: None,
                call_contains: "send(".into(),
                asked: 100
            })
            .passed
        );
        assert!(
            check(Checkpoint::RecvEmpty {
                lane: Some("client".into()),
                call_contains: "recv".into()
            })
            .passed
        );
        assert!(
            !check(Checkpoint::RecvEmpty {
                lane: Some("server".into()),
                call_contains: "recv".into()
            })
            .passed
        );
        assert!(
            check(Checkpoint::Errno {
                name: "EADDRINUSE".into(),
                lane: None,
                call_contains: Some("bind".into())
            })
            .passed
        );
        let no = check(Checkpoint::Errno {
            name: "ECONNREFUSED".into(),
            lane: None,
            call_contains: None,
        });
        assert!(
            !no.passed && no.reason.contains("EADDRINUSE"),
            "{}",
            no.reason
        );
        assert!(
            check(Checkpoint::State {
                to: TcpState::TimeWait,
                from: Some(TcpState::FinWait2),
                socket: None
            })
            .passed
        );
        let closing = check(Checkpoint::State {
            to: TcpState::Closing,
            from: None,
            socket: None,
        });
        assert!(
            !closing.passed && closing.reason.contains("TIME_WAIT"),
            "{}",
            closing.reason
        );
        assert!(
            check(Checkpoint::Print {
                lane: None,
                equals: Some("got b'hi'".into()),
                contains: None
            })
            .passed
        );
        assert!(
            !check(Checkpoint::Print {
                lane: None,
                equals: Some("got".into()),
                contains: None
            })
            .passed
        );
        assert!(check(Checkpoint::AllFinished).passed);
        assert!(
            check(Checkpoint::LaneEnd {
                lane: "client".into(),
                status: "finished".into()
            })
            .passed
        );
        assert!(
            !check(Checkpoint::LaneEnd {
                lane: "client".into(),
                status: "error".into()
            })
            .passed
        );
        let ok = Checkpoint::StepOk {
            lane: None,
            call_contains: "recv".into(),
            result_equals: Some("b'hi'".into()),
            result_contains: None,
        };
        let verdict = check(ok);
        assert!(
            !verdict.passed && verdict.reason.contains("b''"),
            "{}",
            verdict.reason
        );
        assert!(
            !check(Checkpoint::Segment {
                flags: Some("RST".into()),
                expert: None
            })
            .passed
        );
    }

    #[test]
    fn state_checks_say_when_the_relay_reports_no_states() {
        let verdict = Checkpoint::State {
            to: TcpState::TimeWait,
            from: None,
            socket: None,
        }
        .evaluate(&[], Lang::Zh);
        assert!(!verdict.passed);
        assert!(verdict.reason.contains("TCP"), "{}", verdict.reason);
    }

    fn sample(socket: &str, cwnd: u32, total_retrans: u32) -> Line {
        let info = TcpInfo { cwnd, total_retrans, ..TcpInfo::default() };
        Line::Kernel(KernelLine::TcpInfo { socket: socket.into(), info, ts_us: 1 })
    }

    fn segment(flags: &str, expert: Vec<ExpertMark>) -> Line {
        Line::Kernel(KernelLine::Segment {
            src: "10.0.0.2:4000".into(),
            dst: "10.0.0.1:6400".into(),
            proto: "TCP".into(),
            flags: flags.into(),
            seq: Some(1),
            ack: Some(1),
            len: 1448,
            expert,
            host: Some("laptop".into()),
        })
    }

    #[test]
    fn segments_are_judged_by_flags_and_expert_marks() {
        let lines = vec![segment("ACK", vec![]), segment("PSH,ACK", vec![ExpertMark::Retransmission])];
        let check = |flags: Option<&str>, expert| Checkpoint::Segment { flags: flags.map(Into::into), expert }.evaluate(&lines, Lang::En);
        assert!(check(None, Some(ExpertMark::Retransmission)).passed);
        assert!(check(Some("PSH,ACK"), Some(ExpertMark::Retransmission)).passed);
        assert!(!check(Some("ACK"), Some(ExpertMark::Retransmission)).passed);
        let no = check(None, Some(ExpertMark::DupAck));
        assert!(!no.passed && no.reason.contains("[dup_ack]"), "{}", no.reason);
        assert!(check(Some("ACK"), None).passed);
    }

    #[test]
    fn tcp_info_checks_see_a_field_reach_a_value_or_fall() {
        let lines = vec![sample("s", 10, 0), sample("conn", 10, 0), sample("s", 20, 0), sample("conn", 8, 0), sample("s", 14, 2)];
        let check = |socket: Option<&str>, field, at_least, fell| {
            Checkpoint::TcpInfo { socket: socket.map(Into::into), field, at_least, fell }.evaluate(&lines, Lang::En)
        };
        assert!(check(None, TcpInfoField::TotalRetrans, Some(1), false).passed);
        let no = check(None, TcpInfoField::TotalRetrans, Some(3), false);
        assert!(!no.passed && no.reason.contains("highest was 2"), "{}", no.reason);
        assert!(check(Some("s"), TcpInfoField::Cwnd, Some(20), false).passed);
        assert!(!check(Some("conn"), TcpInfoField::Cwnd, Some(20), false).passed);
        // Each socket against its own samples: s fell 20 → 14 after retransmitting; conn's
        // 10 → 8 came with no retransmission (as BBR's cwnd 4 for an instant after a handshake).
        let fell = check(Some("s"), TcpInfoField::Cwnd, None, true);
        assert!(fell.passed && fell.reason.contains("from 20 to 14 after a retransmission (total_retrans=2)"), "{}", fell.reason);
        let no = check(Some("conn"), TcpInfoField::Cwnd, None, true);
        assert!(!no.passed && no.reason.contains("after a retransmission"), "{}", no.reason);
        assert!(!check(Some("s"), TcpInfoField::TotalRetrans, None, true).passed);
        let none = Checkpoint::TcpInfo { socket: None, field: TcpInfoField::Cwnd, at_least: None, fell: true }.evaluate(&[], Lang::Zh);
        assert!(!none.passed && none.reason.contains("没有 tcp_info 样本"), "{}", none.reason);
    }

    #[test]
    fn the_page_s_sample_filter_keeps_every_verdict() {
        let lines: Vec<Line> = [(10, 0), (10, 0), (12, 0), (12, 0), (12, 1), (9, 1), (9, 1), (9, 1), (30, 1), (30, 3)]
            .into_iter()
            .map(|(cwnd, retrans)| sample("s", cwnd, retrans))
            .collect();
        let mut filter = SampleFilter::default();
        let kept: Vec<Line> = lines.iter().filter(|l| filter.keeps(l)).cloned().collect();
        assert_eq!(kept.len(), 6);
        for field in TcpInfoField::ALL {
            for (at_least, fell) in [(None, true), (Some(1), false), (Some(3), false), (Some(12), false), (Some(31), false)] {
                let check = Checkpoint::TcpInfo { socket: None, field, at_least, fell };
                assert_eq!(check.evaluate(&lines, Lang::En).passed, check.evaluate(&kept, Lang::En).passed, "{check:?}");
            }
        }
    }
}
