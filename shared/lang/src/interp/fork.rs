//! `os.fork()`: a new lane with a copy of the program's state, whose sockets
//! are the relay's duplicates of the parent's (so a `close()` in one leaves
//! the other's open, as in the kernel).
//!
//! The copy is deep and keeps sharing within the program: two names for one
//! list in the parent are two names for one list in the child.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::class::{Class, Instance, Wrapped};
use super::exception::{Exception, Raise};
use super::generator::Generator;
use super::library::Object;
use super::process::Process;
use super::value::{Cell, Function, IterState, Items, Namespace, Pairs, SocketObj, Value, lock};
use super::vm::{LaneVm, Shared};
use super::{CallResult, LaneState, Yield};
use socklab_wire::protocol::{OsError, Outcome, Ret, SockId, SockInfo};

/// Copies values for a forked child, mapping the parent's sockets to the child's.
pub(super) struct Copier {
    socks: HashMap<SockId, Arc<SocketObj>>,
    /// Open sockets met while copying (what `fork` asks the relay to duplicate).
    pub found: Vec<Arc<SocketObj>>,
    memo: HashMap<usize, Value>,
    cells: HashMap<usize, Cell>,
    spaces: HashMap<usize, Namespace>,
    classes: HashMap<usize, Arc<Class>>,
}

fn key<T: ?Sized>(p: &Arc<T>) -> usize {
    Arc::as_ptr(p).cast::<()>() as usize
}

impl Copier {
    fn new(socks: HashMap<SockId, Arc<SocketObj>>) -> Copier {
        Copier {
            socks,
            found: Vec::new(),
            memo: HashMap::new(),
            cells: HashMap::new(),
            spaces: HashMap::new(),
            classes: HashMap::new(),
        }
    }

    /// A method call native code waits for, in the child.
    pub(super) fn need(&mut self, n: &super::dunder::Need) -> super::dunder::Need {
        use super::dunder::Need;
        match n {
            Need::Eq(a, b) => Need::Eq(self.value(a), self.value(b)),
            Need::Hash(v) => Need::Hash(self.value(v)),
            Need::Format(v, spec) => Need::Format(self.value(v), spec.clone()),
            Need::Repr(v) => Need::Repr(self.value(v)),
        }
    }

    pub(super) fn value(&mut self, v: &Value) -> Value {
        // Past the nesting limit the VM raises RecursionError before `fork` is sent.
        let Some(_level) = super::deep::Guard::enter("while copying the program for fork()") else {
            return Value::None;
        };
        match v {
            Value::List(l) | Value::Set(l) | Value::FrozenSet(l) => {
                if let Some(done) = self.memo.get(&key(l)) {
                    return done.clone();
                }
                let new = Arc::new(Mutex::new(Items::default()));
                let made = match v {
                    Value::Set(_) => Value::Set(new.clone()),
                    Value::FrozenSet(_) => Value::FrozenSet(new.clone()),
                    _ => Value::List(new.clone()),
                };
                self.memo.insert(key(l), made.clone());
                let items = lock(l).clone();
                let copied = items.iter().map(|x| self.value(x)).collect();
                *lock(&new) = copied;
                made
            }
            Value::Dict(d) => {
                if let Some(done) = self.memo.get(&key(d)) {
                    return done.clone();
                }
                let new = Arc::new(Mutex::new(Pairs::default()));
                self.memo.insert(key(d), Value::Dict(new.clone()));
                let pairs = lock(d).clone();
                let copied = pairs.iter().map(|(k, x)| (self.value(k), self.value(x))).collect();
                *lock(&new) = copied;
                Value::Dict(new)
            }
            Value::Tuple(items) => Value::tuple(items.iter().map(|x| self.value(x)).collect()),
            Value::ByteArray(b) => {
                if let Some(done) = self.memo.get(&key(b)) {
                    return done.clone();
                }
                let made = Value::ByteArray(Arc::new(Mutex::new(lock(b).clone())));
                self.memo.insert(key(b), made.clone());
                made
            }
            Value::Socket(s) => Value::Socket(self.socket(s)),
            Value::File(f) => {
                if let Some(done) = self.memo.get(&key(f)) {
                    return done.clone();
                }
                let sock = self.socket(&f.sock);
                let made = Value::File(Arc::new(f.fork_copy(sock)));
                self.memo.insert(key(f), made.clone());
                made
            }
            Value::Instance(i) => {
                if let Some(done) = self.memo.get(&key(i)) {
                    return done.clone();
                }
                let new = Arc::new(Instance {
                    class: self.class(&i.class),
                    attrs: Mutex::new(super::class::Attrs::default()),
                    str_cache: Mutex::new(None),
                    repr_cache: Mutex::new(None),
                    hash: Mutex::new(*lock(&i.hash)),
                });
                self.memo.insert(key(i), Value::Instance(new.clone()));
                let attrs = lock(&i.attrs).clone();
                let copied = attrs.iter().map(|(k, x)| (k.clone(), self.value(x))).collect();
                *lock(&new.attrs) = copied;
                Value::Instance(new)
            }
            Value::Class(c) => Value::Class(self.class(c)),
            Value::Function(f) => Value::Function(self.function(f)),
            Value::BoundMethod(m) => Value::BoundMethod(Arc::new((self.value(&m.0), self.value(&m.1)))),
            Value::Method(m) => Value::Method(Arc::new((self.value(&m.0), m.1))),
            Value::Super(s) => Value::Super(Arc::new((self.class(&s.0), self.value(&s.1)))),
            Value::Wrapped(w) => Value::Wrapped(Arc::new(match &**w {
                Wrapped::Static(f) => Wrapped::Static(self.value(f)),
                Wrapped::ClassMethod(f) => Wrapped::ClassMethod(self.value(f)),
                Wrapped::Property { get, set } => Wrapped::Property {
                    get: self.value(get),
                    set: set.as_ref().map(|s| self.value(s)),
                },
            })),
            Value::Iter(state) => Value::Iter(Box::new(self.iter_state(state))),
            Value::Generator(g) => Value::Generator(self.generator(g)),
            Value::MemoryView(m) => {
                if let Some(done) = self.memo.get(&key(m)) {
                    return done.clone();
                }
                // The bytes: the child's copy of the bytearray the view looks at.
                let base = match self.value(&Value::ByteArray(m.base().clone())) {
                    Value::ByteArray(b) => b,
                    _ => Arc::new(Mutex::new(lock(m.base()).clone())),
                };
                let made = Value::MemoryView(Arc::new(m.fork_copy(base)));
                self.memo.insert(key(m), made.clone());
                made
            }
            Value::Object(o) => match &**o {
                Object::Lock(held) => {
                    if let Some(done) = self.memo.get(&key(o)) {
                        return done.clone();
                    }
                    let made = Value::Object(Arc::new(Object::Lock(Mutex::new(*lock(held)))));
                    self.memo.insert(key(o), made.clone());
                    made
                }
                _ => v.clone(),
            },
            other => other.clone(),
        }
    }

    /// An iterator's state, its items and generator copied.
    pub(super) fn iter_state(&mut self, state: &IterState) -> IterState {
        match state {
            IterState::Items { items, next } => IterState::Items {
                items: items.iter().map(|x| self.value(x)).collect(),
                next: *next,
            },
            IterState::File(f) => match self.value(&Value::File(f.clone())) {
                Value::File(f) => IterState::File(f),
                _ => IterState::File(f.clone()),
            },
            IterState::FileEnum { file, next } => match self.value(&Value::File(file.clone())) {
                Value::File(f) => IterState::FileEnum { file: f, next: *next },
                _ => IterState::FileEnum { file: file.clone(), next: *next },
            },
            IterState::Gen { genr, next } => IterState::Gen { genr: self.generator(genr), next: *next },
            IterState::Seq { obj, next } => IterState::Seq { obj: self.value(obj), next: *next },
            other => other.clone(),
        }
    }

    /// A generator object: the child's own, with a copy of its suspended frame.
    pub(super) fn generator(&mut self, g: &Arc<Generator>) -> Arc<Generator> {
        if let Some(Value::Generator(done)) = self.memo.get(&key(g)) {
            return done.clone();
        }
        let made = g.fork_shell();
        self.memo.insert(key(g), Value::Generator(made.clone()));
        g.fork_fill(&made, self);
        made
    }

    fn socket(&mut self, s: &Arc<SocketObj>) -> Arc<SocketObj> {
        if let Some(new) = self.socks.get(&s.id()) {
            return new.clone();
        }
        if !s.is_closed() && !self.found.iter().any(|f| f.id() == s.id()) {
            self.found.push(s.clone());
        }
        // Closed in the parent (or only being listed): the child's copy is closed.
        let copy = Arc::new(SocketObj::new(s.info));
        copy.mark_closed();
        copy.set_timeout(s.timeout());
        copy
    }

    fn class(&mut self, c: &Arc<Class>) -> Arc<Class> {
        if let Some(done) = self.classes.get(&key(c)) {
            return done.clone();
        }
        let mro = c.mro.iter().map(|b| self.class(b)).collect();
        let new = Arc::new(Class {
            name: c.name,
            mro,
            exc_base: c.exc_base,
            attrs: Mutex::new(HashMap::new()),
            getattribute: c.getattribute,
        });
        self.classes.insert(key(c), new.clone());
        let attrs = lock(&c.attrs).clone();
        let copied = attrs.iter().map(|(k, x)| (k.clone(), self.value(x))).collect();
        *lock(&new.attrs) = copied;
        new
    }

    fn function(&mut self, f: &Arc<Function>) -> Arc<Function> {
        if let Some(Value::Function(done)) = self.memo.get(&key(f)) {
            return done.clone();
        }
        let owner = OnceLock::new();
        if let Some(class) = f.owner.get().and_then(std::sync::Weak::upgrade) {
            let _ = owner.set(Arc::downgrade(&self.class(&class)));
        }
        let new = Arc::new(Function {
            code: f.code.clone(),
            defaults: f.defaults.iter().map(|d| self.value(d)).collect(),
            kwdefaults: f.kwdefaults.iter().map(|d| d.as_ref().map(|d| self.value(d))).collect(),
            closure: f.closure.iter().map(|(n, c)| (n.clone(), self.cell(c))).collect(),
            globals: self.namespace(&f.globals),
            library: f.library,
            owner,
        });
        self.memo.insert(key(f), Value::Function(new.clone()));
        new
    }

    pub(super) fn cell(&mut self, c: &Cell) -> Cell {
        if let Some(done) = self.cells.get(&key(c)) {
            return done.clone();
        }
        let new: Cell = Arc::new(Mutex::new(None));
        self.cells.insert(key(c), new.clone());
        let v = lock(c).clone();
        *lock(&new) = v.map(|v| self.value(&v));
        new
    }

    pub(super) fn namespace(&mut self, ns: &Namespace) -> Namespace {
        if let Some(done) = self.spaces.get(&key(ns)) {
            return done.clone();
        }
        let new = Namespace::default();
        self.spaces.insert(key(ns), new.clone());
        let vars = lock(ns).clone();
        let copied = vars.iter().map(|(k, x)| (k.clone(), self.value(x))).collect();
        *lock(&new) = copied;
        new
    }
}

/// The open sockets the lane's program can reach: what the child inherits.
pub(super) fn open_sockets(lane: &LaneVm) -> Vec<Arc<SocketObj>> {
    let mut c = Copier::new(HashMap::new());
    lane.copy_state(&mut c);
    let modules: Vec<Namespace> = lock(&lane.process).modules.values().cloned().collect();
    for ns in &modules {
        c.namespace(ns);
    }
    c.found
}

impl LaneVm {
    /// The relay answered `fork`: the child lane starts, the parent gets its pid.
    pub(super) fn forked(&mut self, shared: &mut Shared, socks: Vec<Arc<SocketObj>>, result: CallResult) -> Yield {
        let infos: Vec<SockInfo> = match result {
            CallResult::Outcome(Outcome::Ok { value: Ret::Forked { socks } }) => socks,
            CallResult::Outcome(Outcome::Ok { .. }) => Vec::new(),
            CallResult::Rejected { message } => return self.fail(shared, Raise::Fatal(message)),
            CallResult::Outcome(Outcome::Cancelled) => {
                let e = OsError { errno: "EINTR".into(), errno_num: 4, message: "cancelled".into() };
                return self.fail(shared, Raise::Exception(Exception::os(&e)));
            }
            CallResult::Outcome(Outcome::Err { error }) => return self.fail(shared, Raise::Exception(Exception::os(&error))),
        };
        let mut map = HashMap::new();
        for (old, info) in socks.iter().zip(infos) {
            let new = Arc::new(SocketObj::new(info));
            new.set_timeout(old.timeout());
            // The child's copy goes by the parent's variable name.
            if let Some(name) = shared.socket_names.get(&old.id()).cloned() {
                shared.socket_names.entry(new.id()).or_insert(name);
            }
            map.insert(old.id(), new);
        }
        let mut c = Copier::new(map);
        let parent_pid = self.pid();
        let (name, lib, modules) = {
            let mut process = lock(&self.process);
            process.children_started += 1;
            let name = format!("{}/fork-{}", process.name, process.children_started);
            (name, process.lib.clone(), process.modules.clone())
        };
        let mut pid = parent_pid + 1;
        while shared.procs.contains_key(&pid) {
            pid += 1;
        }
        let modules = modules.iter().map(|(m, ns)| (*m, c.namespace(ns))).collect();
        let mut lib = lib;
        lib.pid = pid;
        let process = Arc::new(Mutex::new(Process {
            name: name.clone(),
            lib,
            modules,
            threads_started: 0,
            children_started: 0,
        }));
        let ident = shared.new_ident();
        let mut child = self.copy_lane(&mut c, name.clone(), process, ident);
        child.frame.stack.push(Value::Int(0));
        super::threads::new_process(shared, pid, parent_pid);
        shared.threads.insert(ident, super::threads::ThreadRec { lane: name, pid, daemon: false, done: false });
        shared.spawned.push(child);
        shared.lanes_changed = true;
        self.frame.stack.push(Value::Int(pid));
        self.state = LaneState::Ready;
        self.resume_with(shared)
    }
}
