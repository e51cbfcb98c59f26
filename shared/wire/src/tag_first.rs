//! Reads JSON whose internally tagged enums carry their tag first, as the
//! relay writes them, without serde's buffering of the whole object.
//!
//! serde decodes `#[serde(tag = "…")]` enums by buffering each object into an
//! intermediate tree, so every type inside is decoded twice over in code. The
//! page builds its decoded enums as plainly (externally) tagged ones instead
//! (`cfg_attr(not(target_arch = "wasm32"), serde(tag = …))`), and this reader
//! takes an object's first entry as the tag: `{"type": "run", …}` is variant
//! `run` with the rest of the object as its fields. An object whose first key
//! is a variant's name is read as serde's external tagging (`{"blocked": …}`),
//! and a string as a unit variant.
//!
//! The text is parsed once into a tree (one parser for every type); each
//! type's decoder then walks the tree, which takes far less code per type
//! than reading the text directly. Errors are plain text: describing a wrong
//! value never formats a float, so the page carries no float formatting.

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, MapAccess, Unexpected};
use serde::de::{SeqAccess, VariantAccess, Visitor};
use serde::forward_to_deserialize_any;
use std::fmt;

/// Decodes one JSON text, tag-first enums included.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
    Json::parse(text)?.decode()
}

/// Why a text could not be decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
    fn invalid_type(unexp: Unexpected, exp: &dyn de::Expected) -> Self {
        Error(format!("invalid type: {}, expected {exp}", describe(&unexp)))
    }
    fn invalid_value(unexp: Unexpected, exp: &dyn de::Expected) -> Self {
        Error(format!("invalid value: {}, expected {exp}", describe(&unexp)))
    }
}

/// A wrong value as serde says it, a float without its digits.
fn describe(unexp: &Unexpected) -> String {
    match unexp {
        Unexpected::Bool(v) => format!("boolean `{v}`"),
        Unexpected::Unsigned(v) => format!("integer `{v}`"),
        Unexpected::Signed(v) => format!("integer `{v}`"),
        Unexpected::Float(_) => "a floating point number".into(),
        Unexpected::Char(v) => format!("character `{v}`"),
        Unexpected::Str(v) => format!("string {v:?}"),
        Unexpected::Bytes(_) => "byte array".into(),
        Unexpected::Unit => "null".into(),
        Unexpected::Option => "Option value".into(),
        Unexpected::NewtypeStruct => "newtype struct".into(),
        Unexpected::Seq => "sequence".into(),
        Unexpected::Map => "map".into(),
        Unexpected::Enum => "enum".into(),
        Unexpected::UnitVariant => "unit variant".into(),
        Unexpected::NewtypeVariant => "newtype variant".into(),
        Unexpected::TupleVariant => "tuple variant".into(),
        Unexpected::StructVariant => "struct variant".into(),
        Unexpected::Other(other) => (*other).into(),
    }
}

/// A parsed JSON text, to be decoded as one type or another.
pub struct Json(Node);

impl Json {
    pub fn parse(text: &str) -> Result<Json, Error> {
        serde_json::from_str(text).map(Json).map_err(|e| Error(e.to_string()))
    }

    /// The value of an object's first entry, when it is a string: the tag.
    pub fn tag(&self) -> Option<&str> {
        match &self.0 {
            Node::Map(entries) => match entries.first() {
                Some((_, Node::Str(tag))) => Some(tag),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, Error> {
        T::deserialize(Val::Node(&self.0))
    }
}

/// A parsed JSON value; objects keep their entries in order.
enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl<'de> de::Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Uint(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Node::Map(entries))
    }
}

/// What a decoder reads: a node, or the entries of an object after its tag.
#[derive(Clone, Copy)]
enum Val<'de> {
    Node(&'de Node),
    Fields(&'de [(String, Node)]),
}

impl<'de> Val<'de> {
    fn unexpected(self) -> Unexpected<'de> {
        match self {
            Val::Node(Node::Null) => Unexpected::Unit,
            Val::Node(Node::Bool(v)) => Unexpected::Bool(*v),
            Val::Node(Node::Int(v)) => Unexpected::Signed(*v),
            Val::Node(Node::Uint(v)) => Unexpected::Unsigned(*v),
            Val::Node(Node::Float(v)) => Unexpected::Float(*v),
            Val::Node(Node::Str(v)) => Unexpected::Str(v),
            Val::Node(Node::Seq(_)) => Unexpected::Seq,
            Val::Node(Node::Map(_)) | Val::Fields(_) => Unexpected::Map,
        }
    }

    fn entries(self) -> Option<&'de [(String, Node)]> {
        match self {
            Val::Node(Node::Map(entries)) => Some(entries),
            Val::Fields(entries) => Some(entries),
            _ => None,
        }
    }
}

impl<'de> Deserializer<'de> for Val<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Val::Node(Node::Null) => visitor.visit_unit(),
            Val::Node(Node::Bool(v)) => visitor.visit_bool(*v),
            Val::Node(Node::Int(v)) => visitor.visit_i64(*v),
            Val::Node(Node::Uint(v)) => visitor.visit_u64(*v),
            Val::Node(Node::Float(v)) => visitor.visit_f64(*v),
            Val::Node(Node::Str(v)) => visitor.visit_borrowed_str(v),
            Val::Node(Node::Seq(_)) => self.deserialize_seq(visitor),
            Val::Node(Node::Map(_)) | Val::Fields(_) => self.deserialize_map(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Val::Node(Node::Null) => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Val::Node(Node::Seq(items)) => {
                let mut seq = Items(items.iter());
                let value = visitor.visit_seq(&mut seq)?;
                match seq.0.len() {
                    0 => Ok(value),
                    _ => Err(de::Error::invalid_length(items.len(), &"fewer elements in array")),
                }
            }
            _ => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(self, _: &'static str, _: usize, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.entries() {
            Some(entries) => visitor.visit_map(Entries { iter: entries.iter(), value: None }),
            None => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
        }
    }

    /// A struct is read from an object only, so the visitor's path for an
    /// array (serde's compact form, never sent) is not built.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if let Val::Node(Node::Str(name)) = self {
            return visitor.visit_enum(Tagged { variant: name, fields: Val::Fields(&[]), first: true });
        }
        let Some(entries) = self.entries() else {
            return Err(de::Error::invalid_type(self.unexpected(), &"a variant name, or an object with its tag first"));
        };
        let Some(((key, value), rest)) = entries.split_first() else {
            return Err(de::Error::invalid_length(0, &"an object with its tag first"));
        };
        if variants.contains(&key.as_str()) {
            return visitor.visit_enum(Tagged { variant: key, fields: Val::Node(value), first: false });
        }
        match value {
            Node::Str(variant) => visitor.visit_enum(Tagged { variant, fields: Val::Fields(rest), first: true }),
            _ => Err(de::Error::invalid_type(Val::Node(value).unexpected(), &"a string")),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Val::Node(Node::Null) => visitor.visit_unit(),
            _ => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf identifier
    }
}

struct Items<'de>(std::slice::Iter<'de, Node>);

impl<'de> SeqAccess<'de> for &mut Items<'de> {
    type Error = Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>, Error> {
        self.0.next().map(|node| seed.deserialize(Val::Node(node))).transpose()
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Entries<'de> {
    iter: std::slice::Iter<'de, (String, Node)>,
    value: Option<&'de Node>,
}

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = Error;

    // Keys are names: read as they are.
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.iter.next() else { return Ok(None) };
        self.value = Some(value);
        seed.deserialize(BorrowedStrDeserializer::new(key)).map(Some)
    }
    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Error> {
        match self.value.take() {
            Some(node) => seed.deserialize(Val::Node(node)),
            None => Err(de::Error::custom("a value asked for before its key")),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// A variant and where its fields are: the rest of the object (`first`, the
/// tag was its first entry, or a unit variant's name) or the value of its
/// one entry.
struct Tagged<'de> {
    variant: &'de str,
    fields: Val<'de>,
    first: bool,
}

impl<'de> EnumAccess<'de> for Tagged<'de> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self), Error> {
        Ok((seed.deserialize(BorrowedStrDeserializer::new(self.variant))?, self))
    }
}

impl<'de> VariantAccess<'de> for Tagged<'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        if self.first { Ok(()) } else { de::Deserialize::deserialize(self.fields) }
    }
    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, Error> {
        seed.deserialize(self.fields)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, Error> {
        if self.first {
            return Err(de::Error::custom(format_args!("variant {} has no field names", self.variant)));
        }
        self.fields.deserialize_seq(visitor)
    }
    fn struct_variant<V: Visitor<'de>>(self, _: &'static [&'static str], visitor: V) -> Result<V::Value, Error> {
        self.fields.deserialize_map(visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Msg {
        Hello { version: u32, inner: Option<Inner> },
        Run(Update),
        Pending,
        Pair(u8, u8),
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Update {
        #[serde(default)]
        lanes: Vec<Status>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Inner {
        Ok { value: i64 },
        Cancelled,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Status {
        Ready,
        Blocked { what: String },
        Ended(u8),
    }

    #[test]
    fn tags_come_first_at_every_depth() {
        let hello: Msg = from_str(r#"{"type":"hello","version":1,"inner":{"outcome":"ok","value":-3}}"#).unwrap();
        assert_eq!(hello, Msg::Hello { version: 1, inner: Some(Inner::Ok { value: -3 }) });
        let cancelled: Msg = from_str(r#"{"type":"hello","inner":{"outcome":"cancelled"},"version":2}"#).unwrap();
        assert_eq!(cancelled, Msg::Hello { version: 2, inner: Some(Inner::Cancelled) });
        assert_eq!(from_str::<Msg>(r#"{"type":"pending"}"#).unwrap(), Msg::Pending);
        assert_eq!(from_str::<Msg>(r#"{"type":"run"}"#).unwrap(), Msg::Run(Update { lanes: vec![] }));
    }

    #[test]
    fn external_tags_and_unit_names_are_read_too() {
        let text = r#"{"type":"run","lanes":["ready",{"blocked":{"what":"a client"}},{"ended":3}]}"#;
        let lanes = vec![Status::Ready, Status::Blocked { what: "a client".into() }, Status::Ended(3)];
        assert_eq!(from_str::<Msg>(text).unwrap(), Msg::Run(Update { lanes }));
        assert_eq!(from_str::<Msg>(r#"{"pair":[1,2]}"#).unwrap(), Msg::Pair(1, 2));
    }

    #[test]
    fn bad_input_is_named() {
        for (text, says) in [
            (r#"{"type":"nonsense"}"#, "unknown variant `nonsense`"),
            (r#"{"type":"hello"}"#, "missing field `version`"),
            (r#"{"type":"pair","a":1}"#, "variant pair has no field names"),
            (r#"{}"#, "invalid length 0"),
            (r#"{"type":"pending"} x"#, "trailing characters"),
            (r#"{"type":7}"#, "invalid type: integer `7`, expected a string"),
        ] {
            let error = from_str::<Msg>(text).unwrap_err().to_string();
            assert!(error.contains(says), "{text}: {error}");
        }
    }
}
