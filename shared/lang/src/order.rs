//! One order for a run: calls, kernel transitions and segments by the
//! kernel's own clock (`ts_us` of events and results, `CLOCK_MONOTONIC`).
//!
//! Kernel events reach a client late and out of step with the call results
//! (the tracepoint is read by another thread), so consumers do not list them
//! as they come: each line gets a [`Key`] and goes where its time puts it
//! ([`insert_at`]), or waits in a [`Merge`] until nothing earlier can come.

use std::collections::HashMap;

use socklab_wire::protocol::Event;
use socklab_wire::tcp::TcpState;

use crate::interp::InterpEvent;

/// Where a line sits: its time, then a rank that orders what one microsecond
/// holds (the tracepoint tells time to the microsecond).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize, serde::Deserialize)]
pub struct Key {
    pub ts_us: u64,
    pub rank: u8,
}

impl Key {
    /// A call made at `ts_us`: before what it causes within that microsecond.
    pub fn call(ts_us: u64) -> Key {
        Key { ts_us, rank: 0 }
    }

    /// A kernel event's key; `None` for one without a time (sockets made, closed, names resolved).
    pub fn event(event: &Event) -> Option<Key> {
        match event {
            // A state a socket enters by its own doing comes before the segment
            // it sends (SYN_SENT then SYN); one entered on a segment's arrival after it.
            Event::State { from, to, ts_us, .. } => {
                let own = matches!(
                    (from, to),
                    (_, TcpState::SynSent | TcpState::FinWait1 | TcpState::LastAck | TcpState::Listen)
                        | (TcpState::Established | TcpState::CloseWait, TcpState::Close)
                );
                Some(Key { ts_us: *ts_us, rank: if own { 1 } else { 3 } })
            }
            Event::Segment { ts_us, .. } => Some(Key { ts_us: *ts_us, rank: 2 }),
            // A sample reads what the call or segment of its microsecond left.
            Event::TcpInfo { ts_us, .. } => Some(Key { ts_us: *ts_us, rank: 4 }),
            Event::SocketCreated { .. } | Event::SocketClosed { .. } | Event::Resolved { .. } => None,
        }
    }
}

/// Gives interpreter events their time: a step that made calls takes its first
/// call's (the client feeds [`Stamps::answered`]); anything else came right
/// after the latest call answered.
#[derive(Debug, Clone, Default)]
pub struct Stamps {
    /// By lane name: the first call answered since the lane's last step.
    lanes: HashMap<String, u64>,
    /// The latest call time known.
    now: u64,
}

impl Stamps {
    /// A call of lane `lane` was answered; its system call was made at `ts_us`.
    pub fn answered(&mut self, lane: &str, ts_us: u64) {
        self.lanes.entry(lane.to_owned()).or_insert(ts_us);
        self.now = self.now.max(ts_us);
    }

    /// The key of an interpreter event, taken in the order the interpreter emitted them.
    pub fn key(&mut self, event: &InterpEvent) -> Key {
        let ts_us = match event {
            InterpEvent::Step { lane, .. } => self.lanes.remove(lane),
            InterpEvent::Print { lane, .. } | InterpEvent::LaneEnd { lane, .. } => self.lanes.get(lane).copied(),
        };
        Key::call(ts_us.unwrap_or(self.now))
    }

    /// A key for a line with no time of its own (a note, a problem): now.
    pub fn now(&self) -> Key {
        Key::call(self.now)
    }
}

/// Where a line with `key` goes in lines ordered by `keys`: after every line
/// not later than it, so lines of one time keep the order they came in.
pub fn insert_at(keys: impl DoubleEndedIterator<Item = Key> + ExactSizeIterator, key: Key) -> usize {
    // Lines mostly come in order: look from the end.
    let len = keys.len();
    len - keys.rev().take_while(|k| *k > key).count()
}

/// Lines held until nothing earlier can still come, then let go in order.
#[derive(Debug)]
pub struct Merge<T> {
    held: Vec<(Key, T)>,
}

impl<T> Default for Merge<T> {
    fn default() -> Self {
        Merge { held: Vec::new() }
    }
}

impl<T> Merge<T> {
    pub fn push(&mut self, key: Key, item: T) {
        let at = insert_at(self.held.iter().map(|(k, _)| *k), key);
        self.held.insert(at, (key, item));
    }

    /// Lets go of every line before `ts_us`, in order.
    pub fn release_before(&mut self, ts_us: u64) -> Vec<T> {
        let n = self.held.iter().take_while(|(k, _)| k.ts_us < ts_us).count();
        self.held.drain(..n).map(|(_, item)| item).collect()
    }

    /// Lets go of everything, in order.
    pub fn release_all(&mut self) -> Vec<T> {
        self.held.drain(..).map(|(_, item)| item).collect()
    }

    /// The earliest time held.
    pub fn oldest(&self) -> Option<u64> {
        self.held.first().map(|(k, _)| k.ts_us)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(from: &str, to: &str, ts_us: u64) -> Event {
        Event::State {
            sock: Some(1),
            from: from.parse().unwrap(),
            to: to.parse().unwrap(),
            local: "127.0.0.1:40000".into(),
            peer: "127.0.0.1:5500".into(),
            ts_us,
        }
    }

    fn segment(flags: &str, ts_us: u64) -> Event {
        Event::Segment {
            src: "a".into(),
            dst: "b".into(),
            proto: "TCP".into(),
            flags: flags.into(),
            seq: None,
            ack: None,
            len: 0,
            ts_us,
            expert: Vec::new(),
            host: None,
        }
    }

    #[test]
    fn one_microsecond_orders_cause_before_effect() {
        // All in one microsecond, arriving in the worst order.
        let mut merge = Merge::default();
        let came = [
            (Key::event(&state("SYN_SENT", "ESTABLISHED", 10)), "ESTABLISHED"),
            (Key::event(&segment("SYN", 10)), "SYN"),
            (Key::event(&state("CLOSE", "SYN_SENT", 10)), "SYN_SENT"),
            (Some(Key::call(10)), "connect"),
        ];
        for (key, name) in came {
            merge.push(key.unwrap(), name);
        }
        assert_eq!(merge.release_all(), ["connect", "SYN_SENT", "SYN", "ESTABLISHED"]);
    }

    #[test]
    fn the_merge_lets_go_only_of_what_is_older() {
        let mut merge = Merge::default();
        for (ts, name) in [(30, "c"), (10, "a"), (20, "b"), (10, "a2")] {
            merge.push(Key::call(ts), name);
        }
        assert_eq!(merge.oldest(), Some(10));
        assert_eq!(merge.release_before(20), ["a", "a2"]);
        assert_eq!(merge.release_before(20), Vec::<&str>::new());
        assert_eq!(merge.release_all(), ["b", "c"]);
        assert_eq!(merge.oldest(), None);
    }

    #[test]
    fn steps_take_their_calls_time_and_the_rest_follows() {
        let step = |lane: &str| InterpEvent::Step {
            lane: lane.into(),
            line: 1,
            call: "x".into(),
            ok: true,
            result: None,
            errno: None,
            errno_num: None,
            message: None,
            function: None,
            depth: None,
            module: None,
        };
        let mut stamps = Stamps::default();
        stamps.answered("cli", 50);
        stamps.answered("cli", 70);
        stamps.answered("srv", 60);
        assert_eq!(stamps.key(&step("cli")), Key::call(50), "a statement's first call");
        assert_eq!(stamps.key(&step("srv")), Key::call(60));
        assert_eq!(stamps.key(&step("cli")), Key::call(70), "no call of its own: after the latest");
        assert_eq!(stamps.now(), Key::call(70));
    }
}
