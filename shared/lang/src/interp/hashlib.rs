//! `hashlib`: md5, sha1 and the sha2 family on RustCrypto's implementations,
//! with CPython's objects (`update`, `digest`, `hexdigest`, `copy`,
//! `digest_size`, `block_size`, `name`) and messages.

use std::sync::{Arc, Mutex};

use sha2::Digest;

use super::args::Args;
use super::exception::Exception;
use super::library::Object;
use super::sockets::Flow;
use super::value::{Value, lock};
use crate::names::LibFn;

/// A hash object's running state.
#[derive(Clone)]
enum State {
    Md5(md5::Md5),
    Sha1(sha1::Sha1),
    Sha224(sha2::Sha224),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

/// A hash object (`hashlib.sha256()`): shared by every name that holds it.
pub struct Hash {
    name: &'static str,
    state: Mutex<State>,
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hash({})", self.name)
    }
}

impl Hash {
    fn new(name: &str) -> Option<Hash> {
        let (name, state) = match name.to_ascii_lowercase().as_str() {
            "md5" => ("md5", State::Md5(md5::Md5::new())),
            "sha1" => ("sha1", State::Sha1(sha1::Sha1::new())),
            "sha224" => ("sha224", State::Sha224(sha2::Sha224::new())),
            "sha256" => ("sha256", State::Sha256(sha2::Sha256::new())),
            "sha384" => ("sha384", State::Sha384(sha2::Sha384::new())),
            "sha512" => ("sha512", State::Sha512(sha2::Sha512::new())),
            _ => return None,
        };
        Some(Hash { name, state: Mutex::new(state) })
    }

    pub fn repr(&self) -> String {
        // CPython adds " @ 0x…": an address means nothing here.
        format!("<{} _hashlib.HASH object>", self.name)
    }

    fn update(&self, data: &[u8]) {
        match &mut *lock(&self.state) {
            State::Md5(h) => h.update(data),
            State::Sha1(h) => h.update(data),
            State::Sha224(h) => h.update(data),
            State::Sha256(h) => h.update(data),
            State::Sha384(h) => h.update(data),
            State::Sha512(h) => h.update(data),
        }
    }

    fn digest(&self) -> Vec<u8> {
        match lock(&self.state).clone() {
            State::Md5(h) => h.finalize().to_vec(),
            State::Sha1(h) => h.finalize().to_vec(),
            State::Sha224(h) => h.finalize().to_vec(),
            State::Sha256(h) => h.finalize().to_vec(),
            State::Sha384(h) => h.finalize().to_vec(),
            State::Sha512(h) => h.finalize().to_vec(),
        }
    }

    fn digest_size(&self) -> i64 {
        match self.name {
            "md5" => 16,
            "sha1" => 20,
            "sha224" => 28,
            "sha256" => 32,
            "sha384" => 48,
            _ => 64,
        }
    }

    fn block_size(&self) -> i64 {
        if matches!(self.name, "sha384" | "sha512") { 128 } else { 64 }
    }
}

/// The bytes a hash takes, with CPython's messages.
fn data_of(v: &Value) -> Result<Arc<[u8]>, Exception> {
    match v {
        Value::Str(_) => Err(Exception::type_error("Strings must be encoded before hashing")),
        Value::Bytes(_) | Value::ByteArray(_) | Value::MemoryView(_) => super::args::to_bytes(v),
        _ => Err(Exception::type_error("object supporting the buffer API required")),
    }
}

/// `hashlib.sha256(data=b'')`, …, `hashlib.new(name, data=b'')`.
pub(super) fn construct(f: LibFn, args: Args) -> Result<Flow, Exception> {
    let (name, data) = if f == LibFn::HashlibNew {
        let [name, data, _] = args.bind(["name", "data", "usedforsecurity"], 1)?;
        let name = match name {
            Some(Value::Str(s)) => s.to_string(),
            Some(other) => {
                return Err(Exception::type_error(format!(
                    "new() argument 'name' must be str, not {}",
                    other.type_name()
                )));
            }
            None => String::new(),
        };
        (name, data)
    } else {
        let [data, _] = args.bind(["string", "usedforsecurity"], 0)?;
        (f.short_name().to_string(), data)
    };
    let hash = Hash::new(&name).ok_or_else(|| Exception::value_error(format!("unsupported hash type {name}")))?;
    if let Some(data) = data {
        hash.update(&data_of(&data)?);
    }
    Ok(Flow::Value(Value::Object(Arc::new(Object::Hash(hash)))))
}

/// `h.name`, `h.digest_size`, `h.block_size`, and its methods.
pub(super) fn attr(obj: &Arc<Object>, h: &Hash, name: &str) -> Option<Value> {
    let method = |m: &'static str| Some(Value::Method(Arc::new((Value::Object(obj.clone()), m))));
    match name {
        "name" => Some(Value::str(h.name)),
        "digest_size" => Some(Value::Int(h.digest_size())),
        "block_size" => Some(Value::Int(h.block_size())),
        "update" => method("update"),
        "digest" => method("digest"),
        "hexdigest" => method("hexdigest"),
        "copy" => method("copy"),
        _ => None,
    }
}

/// A hash object's method.
pub(super) fn method(h: &Hash, name: &str, args: Args) -> Result<Flow, Exception> {
    let value = match name {
        "update" => {
            let [data] = args.bind(["obj"], 1)?;
            h.update(&data_of(&data.unwrap_or(Value::None))?);
            Value::None
        }
        "digest" => {
            args.bind::<0>([], 0)?;
            Value::bytes(h.digest())
        }
        "hexdigest" => {
            args.bind::<0>([], 0)?;
            Value::str(h.digest().iter().map(|b| format!("{b:02x}")).collect::<String>())
        }
        _ => {
            args.bind::<0>([], 0)?;
            let copy = Hash { name: h.name, state: Mutex::new(lock(&h.state).clone()) };
            Value::Object(Arc::new(Object::Hash(copy)))
        }
    };
    Ok(Flow::Value(value))
}
