//! Script classes and their instances: attribute lookup through the method
//! resolution order, bound methods, and the decorator wrappers. Calling
//! methods is the VM's job (frames, never Rust recursion); this module only finds them.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use super::exception::Exception;
use super::value::{Function, Value, lock};
use crate::names::ExcClass;

/// A class made by a `class` statement.
#[derive(Debug)]
pub struct Class {
    /// Interned: `Value::type_name` hands out `&'static str`.
    pub name: &'static str,
    /// The classes after this one in method resolution order.
    pub mro: Vec<Arc<Class>>,
    /// The builtin exception class it derives from, if it is an exception class.
    pub exc_base: Option<ExcClass>,
    pub attrs: Mutex<HashMap<String, Value>>,
    /// It or a base defined `__getattribute__` in its body: every attribute
    /// read on an instance calls it (looked up once, when the class is made).
    pub getattribute: bool,
}

/// An instance's attributes, in the order they were first set (as a
/// CPython instance `__dict__` keeps them: `vars()` and reprs show it).
#[derive(Debug, Clone, Default)]
pub struct Attrs(Vec<(String, Value)>);

impl Drop for Attrs {
    /// A chain of instances (a linked list) frees without recursing.
    fn drop(&mut self) {
        super::deep::free_pairs(std::mem::take(&mut self.0));
    }
}

impl Attrs {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    pub fn insert(&mut self, name: String, value: Value) -> Option<Value> {
        match self.0.iter_mut().find(|(k, _)| *k == name) {
            Some((_, v)) => Some(std::mem::replace(v, value)),
            None => {
                self.0.push((name, value));
                None
            }
        }
    }

    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let i = self.0.iter().position(|(k, _)| k == name)?;
        Some(self.0.remove(i).1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.0.iter().map(|(_, v)| v)
    }
}

impl FromIterator<(String, Value)> for Attrs {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Attrs {
        let mut attrs = Attrs::default();
        for (k, v) in iter {
            attrs.insert(k, v);
        }
        attrs
    }
}

/// An instance of a script class.
#[derive(Debug)]
pub struct Instance {
    pub class: Arc<Class>,
    pub attrs: Mutex<Attrs>,
    /// `__str__`/`__repr__` results the VM computed for the operation under way
    /// (native code such as `print` reads them; see `LaneVm::fill`).
    pub str_cache: Mutex<Option<String>>,
    pub repr_cache: Mutex<Option<String>>,
    /// What its `__hash__` last answered: the hash a dict or set that holds
    /// it as a key goes by (CPython keeps the hash with the entry).
    pub hash: Mutex<Option<i64>>,
}

/// `staticmethod(f)`, `classmethod(f)`, `property(fget, fset)`.
#[derive(Debug, Clone)]
pub enum Wrapped {
    Static(Value),
    ClassMethod(Value),
    Property { get: Value, set: Option<Value> },
}

/// Names of the class machinery, usable as values (`@staticmethod`, `super()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    Super,
    Object,
    StaticMethod,
    ClassMethod,
    Property,
    /// Fallbacks for builtins that know script classes; a builtin of the same
    /// name, where one exists, is found first.
    Type,
    IsInstance,
    IsSubclass,
    /// The `NotImplemented` an operator method returns to hand over.
    NotImplemented,
}

impl Special {
    pub fn from_name(name: &str) -> Option<Special> {
        Some(match name {
            "super" => Special::Super,
            "object" => Special::Object,
            "staticmethod" => Special::StaticMethod,
            "classmethod" => Special::ClassMethod,
            "property" => Special::Property,
            "type" => Special::Type,
            "isinstance" => Special::IsInstance,
            "issubclass" => Special::IsSubclass,
            "NotImplemented" => Special::NotImplemented,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Special::Super => "super",
            Special::Object => "object",
            Special::StaticMethod => "staticmethod",
            Special::ClassMethod => "classmethod",
            Special::Property => "property",
            Special::Type => "type",
            Special::IsInstance => "isinstance",
            Special::IsSubclass => "issubclass",
            Special::NotImplemented => "NotImplemented",
        }
    }
}

fn intern(name: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = lock(NAMES.get_or_init(Default::default));
    if let Some(n) = names.get(name) {
        return n;
    }
    let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
    names.insert(leaked);
    leaked
}

impl Class {
    /// Builds a class from its bases (`Value`s) and the names its body bound.
    pub fn new(name: &str, bases: &[Value], attrs: HashMap<String, Value>) -> Result<Arc<Class>, Exception> {
        if ["__eq__", "__hash__", "__format__"].iter().any(|m| attrs.contains_key(*m)) {
            super::dunder::arm();
        }
        let mut script_bases = Vec::new();
        let mut exc_base = None;
        for b in bases {
            match b {
                Value::Class(c) => {
                    exc_base = exc_base.or(c.exc_base);
                    script_bases.push(c.clone());
                }
                Value::ExcClass(c) => exc_base = exc_base.or(Some(*c)),
                Value::Special(Special::Object) => {}
                other => {
                    return Err(Exception::type_error(format!(
                        "a class can derive only from classes and exception classes, not {}",
                        other.type_name()
                    )));
                }
            }
        }
        // Depth-first, left to right, each class kept at its last place: the
        // C3 order for the single and diamond hierarchies programs use.
        let mut order: Vec<Arc<Class>> = Vec::new();
        for b in &script_bases {
            for c in std::iter::once(b).chain(&b.mro) {
                order.retain(|o| !Arc::ptr_eq(o, c));
                order.push(c.clone());
            }
        }
        let getattribute = attrs.contains_key("__getattribute__") || order.iter().any(|c| c.getattribute);
        let class = Arc::new(Class {
            name: intern(name),
            mro: order,
            exc_base,
            attrs: Mutex::new(attrs),
            getattribute,
        });
        // Methods learn their class, for `super()`.
        for v in lock(&class.attrs).values() {
            let f = match v {
                Value::Function(f) => Some(f),
                Value::Wrapped(w) => match &**w {
                    Wrapped::Static(Value::Function(f)) | Wrapped::ClassMethod(Value::Function(f)) => Some(f),
                    Wrapped::Property { get, set } => {
                        for p in std::iter::once(get).chain(set) {
                            if let Value::Function(f) = p {
                                let _ = f.owner.set(Arc::downgrade(&class));
                            }
                        }
                        None
                    }
                    _ => None,
                },
                _ => None,
            };
            if let Some(f) = f {
                let _ = f.owner.set(Arc::downgrade(&class));
            }
        }
        Ok(class)
    }

    /// The class and the classes after it in resolution order.
    pub fn chain(self: &Arc<Class>) -> impl Iterator<Item = &Arc<Class>> {
        std::iter::once(self).chain(self.mro.iter())
    }

    /// Looks a name up through the resolution order.
    pub fn lookup(self: &Arc<Class>, name: &str) -> Option<Value> {
        self.chain().find_map(|c| lock(&c.attrs).get(name).cloned())
    }

    /// Looks a name up in the classes after `after` in this class's order.
    pub fn lookup_after(self: &Arc<Class>, after: &Arc<Class>, name: &str) -> Option<Value> {
        self.chain()
            .skip_while(|c| !Arc::ptr_eq(c, after))
            .skip(1)
            .find_map(|c| lock(&c.attrs).get(name).cloned())
    }

    pub fn is_subclass_of(self: &Arc<Class>, other: &Arc<Class>) -> bool {
        self.chain().any(|c| Arc::ptr_eq(c, other))
    }

    /// Whether its instances are unhashable: the first class in its order
    /// that defines `__eq__` or `__hash__` sets `__hash__ = None` or defines
    /// `__eq__` without `__hash__` (which CPython makes None).
    pub fn unhashable(self: &Arc<Class>) -> bool {
        self.chain().find_map(|c| {
            let attrs = lock(&c.attrs);
            match attrs.get("__hash__") {
                Some(h) => Some(matches!(h, Value::None)),
                None => attrs.contains_key("__eq__").then_some(true),
            }
        }) == Some(true)
    }

    /// A script method (a `def` in the class) with this name, if any.
    pub fn method(self: &Arc<Class>, name: &str) -> Option<Arc<Function>> {
        match self.lookup(name) {
            Some(Value::Function(f)) => Some(f),
            _ => None,
        }
    }
}

impl Instance {
    pub fn new(class: Arc<Class>) -> Arc<Instance> {
        Arc::new(Instance {
            class,
            attrs: Mutex::new(Attrs::default()),
            str_cache: Mutex::new(None),
            repr_cache: Mutex::new(None),
            hash: Mutex::new(None),
        })
    }

    pub fn get(&self, name: &str) -> Option<Value> {
        lock(&self.attrs).get(name).cloned()
    }

    /// `e.args` of an exception instance.
    pub fn args(&self) -> Vec<Value> {
        match self.get("args") {
            Some(Value::Tuple(t)) => t.to_vec(),
            _ => Vec::new(),
        }
    }

    /// `str()` without a script `__str__`: an exception's message from its args,
    /// else the repr.
    pub fn default_str(&self) -> String {
        if self.class.exc_base.is_some() {
            let args = self.args();
            return match args.as_slice() {
                [] => String::new(),
                [one] => one.to_str(),
                _ => Value::tuple(args).repr(),
            };
        }
        self.default_repr()
    }

    /// `repr()` without a script `__repr__`: `ProtocolError('bad')` for an
    /// exception; else CPython's form without the address, which means nothing here.
    pub fn default_repr(&self) -> String {
        if self.class.exc_base.is_some() {
            let args = self.args();
            let inner = Value::tuple(args.clone()).repr();
            return if args.len() == 1 {
                format!("{}({})", self.class.name, &inner[1..inner.len() - 2])
            } else {
                format!("{}{inner}", self.class.name)
            };
        }
        let module = match lock(&self.class.attrs).get("__module__").cloned() {
            Some(Value::Str(m)) => m.to_string(),
            _ => "__main__".to_string(),
        };
        format!("<{module}.{} object>", self.class.name)
    }

    pub fn to_str(&self) -> String {
        if let Some(s) = lock(&self.str_cache).clone() {
            return s;
        }
        if self.class.method("__str__").is_none()
            && let Some(s) = lock(&self.repr_cache).clone()
        {
            return s;
        }
        self.default_str()
    }

    pub fn repr(&self) -> String {
        lock(&self.repr_cache).clone().unwrap_or_else(|| self.default_repr())
    }

    /// The exception to raise for this instance, if its class is an exception class.
    pub fn to_exception(self: &Arc<Instance>) -> Option<Exception> {
        let class = self.class.exc_base?;
        let mut e = Exception::new(class, self.default_str());
        e.traceback = super::traceback::instance_traceback(self);
        e.instance = Some(ScriptExc(self.clone()));
        Some(e)
    }
}

/// The instance behind a raised script exception. Equal when it is the same object.
#[derive(Debug, Clone)]
pub struct ScriptExc(pub Arc<Instance>);

impl PartialEq for ScriptExc {
    fn eq(&self, other: &ScriptExc) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Keeps `Weak` in one place: a function's class, set once when its class is built.
pub type Owner = OnceLock<Weak<Class>>;
