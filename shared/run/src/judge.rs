//! The open lesson's checkpoints, judged in the relay on what the session's
//! runs did: the interpreter's events and the kernel's, as the command
//! line's transcript lines in the kernel's order. The page shows the verdicts
//! (`RunUpdate::reports`); it carries no checkpoint code.

use socklab_lang::interp::InterpEvent;
use socklab_lang::order::{Key, insert_at};
use socklab_lang::transcript::{self, KernelLine, Line};
use socklab_lessons::{self as lessons, Lang, Lesson, SampleFilter, Verdict};
use socklab_wire::protocol::{Event, SockId};

/// Transcript lines kept for judging; the oldest go first.
pub const MAX_JUDGED_LINES: usize = 5_000;

pub struct Judge {
    lesson: Option<&'static Lesson>,
    lang: Lang,
    /// The current run's transcript, in key order, and its keys.
    log: Vec<Line>,
    keys: Vec<Key>,
    /// Which `TCP_INFO` samples the log keeps (those a checkpoint could judge differently).
    filter: SampleFilter,
    /// The script's names for the session's sockets.
    names: Vec<(SockId, String)>,
    /// The verdicts last told (none yet: those of no lesson); None: tell them.
    told: Option<Vec<Verdict>>,
    /// The transcript or the lesson changed since the verdicts were last decided.
    changed: bool,
}

impl Default for Judge {
    fn default() -> Judge {
        Judge {
            lesson: None,
            lang: Lang::En,
            log: Vec::new(),
            keys: Vec::new(),
            filter: SampleFilter::default(),
            names: Vec::new(),
            told: Some(Vec::new()),
            changed: false,
        }
    }
}

impl Judge {
    /// Whether a lesson is open (the session's events are then worth seeing).
    pub fn is_open(&self) -> bool {
        self.lesson.is_some()
    }

    /// Judges lesson `number` from now on (a different lesson: from an
    /// empty transcript), in `lang`. An unknown lesson closes it.
    pub fn open(&mut self, number: Option<u32>, lang: Lang) {
        let lesson = number.and_then(lessons::get);
        if lesson.map(Lesson::number) != self.lesson.map(Lesson::number) {
            self.clear();
        }
        (self.lesson, self.lang) = (lesson, lang);
        self.told = None;
        self.changed = true;
    }

    /// A new run: its transcript starts empty.
    pub fn clear(&mut self) {
        self.log.clear();
        self.keys.clear();
        self.filter = SampleFilter::default();
        self.changed = true;
    }

    pub fn interp(&mut self, key: Key, event: &InterpEvent) {
        self.log(key, Line::Interp(event.clone()));
    }

    /// A kernel event, its socket named as the script names it.
    pub fn kernel(&mut self, event: &Event) {
        let key = Key::event(event).unwrap_or_else(|| self.keys.last().copied().unwrap_or_default());
        let names = &self.names;
        let known = |sock: SockId| names.iter().find(|(named, _)| *named == sock).map(|(_, name)| name.clone());
        if let Some(line) = Line::kernel(event, known)
            && self.filter.keeps(&line)
        {
            self.log(key, line);
        }
    }

    /// The script named sockets: kernel lines that came before get the names.
    pub fn named(&mut self, names: &[(SockId, String)]) {
        for (sock, name) in names {
            let unnamed = transcript::unnamed_socket(*sock);
            for line in &mut self.log {
                if let Line::Kernel(KernelLine::State { socket, .. } | KernelLine::TcpInfo { socket, .. }) = line
                    && *socket == unnamed
                {
                    socket.clone_from(name);
                    self.changed = true;
                }
            }
            match self.names.iter_mut().find(|(named, _)| named == sock) {
                Some(known) => known.1.clone_from(name),
                None => self.names.push((*sock, name.clone())),
            }
        }
    }

    /// The open lesson's verdicts, one per step, when they differ from
    /// those last told (none open: empty, told once).
    pub fn verdicts(&mut self) -> Option<Vec<Verdict>> {
        if !std::mem::take(&mut self.changed) {
            return None;
        }
        let now: Vec<Verdict> = match self.lesson {
            Some(lesson) => lesson.steps().iter().map(|step| step.check.evaluate(&self.log, self.lang)).collect(),
            None => Vec::new(),
        };
        if self.told.as_ref() == Some(&now) {
            return None;
        }
        self.told = Some(now.clone());
        Some(now)
    }

    fn log(&mut self, key: Key, line: Line) {
        let at = insert_at(self.keys.iter().copied(), key);
        self.log.insert(at, line);
        self.keys.insert(at, key);
        self.changed = true;
        let excess = self.log.len().saturating_sub(MAX_JUDGED_LINES);
        self.log.drain(..excess);
        self.keys.drain(..excess);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ran(lane: &str, line: u32, call: &str) -> InterpEvent {
        InterpEvent::Step {
            lane: lane.into(),
            line,
            call: call.into(),
            ok: true,
            result: Some("None".into()),
            errno: None,
            errno_num: None,
            message: None,
            function: None,
            depth: None,
            module: None,
        }
    }

    fn tcp(sock: SockId, from: &str, to: &str, ts_us: u64) -> Event {
        Event::State {
            sock: Some(sock),
            from: from.parse().unwrap(),
            to: to.parse().unwrap(),
            local: "127.0.0.1:40000".into(),
            peer: "127.0.0.1:5500".into(),
            ts_us,
        }
    }

    fn wire(flags: &str, ts_us: u64) -> Event {
        Event::Segment {
            src: "127.0.0.1:40000".into(),
            dst: "127.0.0.1:5500".into(),
            proto: "TCP".into(),
            flags: flags.into(),
            seq: Some(0),
            ack: None,
            len: 0,
            ts_us,
            expert: Vec::new(),
            host: None,
        }
    }

    /// Lesson 2's verdict on step `id`.
    fn passed(judge: &Judge, verdicts: &[Verdict], id: &str) -> bool {
        let index = judge.lesson.unwrap().steps().iter().position(|step| step.id == id).unwrap();
        verdicts[index].passed
    }

    #[test]
    fn a_lesson_is_judged_on_the_run_in_the_kernel_s_order() {
        let mut judge = Judge::default();
        assert_eq!(judge.verdicts(), None, "no lesson, nothing to tell");
        judge.open(Some(2), Lang::En);
        let verdicts = judge.verdicts().unwrap();
        assert_eq!(verdicts.len(), 4);
        assert!(verdicts.iter().all(|v| !v.passed));
        assert_eq!(judge.verdicts(), None, "told once");

        judge.interp(Key::call(10), &ran("server", 5, "srv.listen(5)"));
        let verdicts = judge.verdicts().unwrap();
        assert!(passed(&judge, &verdicts, "listening") && !passed(&judge, &verdicts, "accepted"));

        // Kernel lines go where the kernel's clock puts them, named as the
        // script names the socket, even when it names it later.
        judge.interp(Key::call(100), &ran("client", 14, "cli.connect(addr)"));
        judge.kernel(&wire("SYN", 102));
        judge.kernel(&tcp(4, "SYN_SENT", "ESTABLISHED", 106));
        judge.kernel(&tcp(4, "CLOSE", "SYN_SENT", 101));
        judge.interp(Key::call(200), &ran("client", 15, "cli.send(b'hi')"));
        judge.named(&[(4, "cli".into())]);
        let log: Vec<String> = judge.log.iter().map(Line::human).collect();
        let at = |needle: &str| log.iter().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle} in {log:#?}"));
        let order = [at("srv.listen"), at("cli.connect"), at("cli  CLOSE → SYN_SENT"), at("TCP SYN seq"), at("cli  SYN_SENT → ESTABLISHED"), at("cli.send")];
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?} in {log:#?}");

        // Another language: the same verdicts, in its words.
        let english = judge.verdicts().unwrap_or_else(|| judge.told.clone().unwrap());
        judge.open(Some(2), Lang::Zh);
        let chinese = judge.verdicts().unwrap();
        assert_eq!(english.iter().map(|v| v.passed).collect::<Vec<_>>(), chinese.iter().map(|v| v.passed).collect::<Vec<_>>());
        let pending = chinese.iter().position(|v| !v.passed).unwrap();
        assert!(chinese[pending].reason.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{:?}", chinese[pending]);

        // A new run starts from nothing; another lesson too; none: told empty.
        judge.clear();
        assert!(judge.verdicts().unwrap().iter().all(|v| !v.passed));
        judge.interp(Key::call(300), &ran("server", 5, "srv.listen(5)"));
        judge.open(Some(3), Lang::En);
        assert!(judge.log.is_empty());
        judge.open(None, Lang::En);
        assert_eq!(judge.verdicts(), Some(Vec::new()));
        assert!(!judge.is_open());
    }

    #[test]
    fn a_library_step_is_in_the_transcript() {
        let mut judge = Judge::default();
        let mut library = ran("client", 68, "self.socket.connect(addr)");
        if let InterpEvent::Step { module, .. } = &mut library {
            *module = Some("socketserver".into());
        }
        judge.interp(Key::call(1), &library);
        assert!(judge.log.iter().any(|l| l.human().starts_with("client:socketserver.py:68")), "{:?}", judge.log);
    }

    #[test]
    fn tcp_info_checkpoints_read_the_samples_the_log_keeps() {
        let mut judge = Judge::default();
        judge.open(Some(17), Lang::En);
        judge.named(&[(4, "s".into())]);
        let step = |judge: &mut Judge, id: &str| {
            let verdicts = judge.verdicts().unwrap_or_else(|| judge.told.clone().unwrap());
            let index = judge.lesson.unwrap().steps().iter().position(|step| step.id == id).unwrap();
            verdicts[index].passed
        };
        let sample = |cwnd, ts_us| Event::TcpInfo { sock: 4, info: socklab_wire::tcpinfo::TcpInfo { cwnd, unacked: 3, ..Default::default() }, ts_us };
        for (cwnd, ts_us) in [(10, 1), (10, 2), (14, 3), (14, 4), (22, 5)] {
            judge.kernel(&sample(cwnd, ts_us));
        }
        let kept = judge.log.iter().filter(|line| matches!(line, Line::Kernel(KernelLine::TcpInfo { .. }))).count();
        assert_eq!(kept, 3, "a sample like the one before is left out");
        assert!(step(&mut judge, "cwnd-20") && !step(&mut judge, "cwnd-30"));
        judge.kernel(&sample(31, 6));
        assert!(step(&mut judge, "cwnd-30"));
    }
}
