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

use serde::de::value::{MapAccessDeserializer, StrDeserializer, StringDeserializer};
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess};
use serde::de::{SeqAccess, VariantAccess, Visitor};
use std::fmt;

/// Decodes one JSON text, tag-first enums included.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    let mut json = serde_json::Deserializer::from_str(text);
    let value = T::deserialize(Tags(&mut json))?;
    json.end()?;
    Ok(value)
}

/// Wraps a deserializer, visitor, seed or access so that every value below it
/// is read through [`Tags`] too, and enums tag-first.
pub struct Tags<T>(pub T);

macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            self.0.$method($($arg,)* Tags(visitor))
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Tags<D> {
    type Error = D::Error;

    forward! {
        deserialize_any();
        deserialize_bool();
        deserialize_i8();
        deserialize_i16();
        deserialize_i32();
        deserialize_i64();
        deserialize_u8();
        deserialize_u16();
        deserialize_u32();
        deserialize_u64();
        deserialize_f32();
        deserialize_f64();
        deserialize_char();
        deserialize_str();
        deserialize_string();
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_option();
        deserialize_unit();
        deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str);
        deserialize_seq();
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_map();
        deserialize_identifier();
        deserialize_ignored_any();
    }

    /// A struct is read from an object only, so the visitor's path for an
    /// array (serde's compact form, never sent) is not built.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(Tags(visitor))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(Enum { variants, visitor })
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Tags<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.0.expecting(f)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<V::Value, E> {
        self.0.visit_bool(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<V::Value, E> {
        self.0.visit_i64(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<V::Value, E> {
        self.0.visit_u64(v)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<V::Value, E> {
        self.0.visit_f64(v)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        self.0.visit_str(v)
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        self.0.visit_borrowed_str(v)
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        self.0.visit_string(v)
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<V::Value, E> {
        self.0.visit_bytes(v)
    }
    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_none()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_some(Tags(d))
    }
    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_unit()
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_newtype_struct(Tags(d))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.0.visit_seq(Tags(seq))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(Tags(map))
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Tags<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Tags(d))
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Tags<A> {
    type Error = A::Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>, A::Error> {
        self.0.next_element_seed(Tags(seed))
    }
    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Tags<A> {
    type Error = A::Error;

    // Keys are names and numbers: read as they are.
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(seed)
    }
    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.0.next_value_seed(Tags(seed))
    }
    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

/// An enum's value: a unit variant's name, or an object.
struct Enum<V> {
    variants: &'static [&'static str],
    visitor: V,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Enum<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a variant name, or an object with its tag first")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        self.visitor.visit_enum(StrDeserializer::<E>::new(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<V::Value, A::Error> {
        let Some(key) = map.next_key::<String>()? else {
            return Err(de::Error::invalid_length(0, &"an object with its tag first"));
        };
        if self.variants.contains(&key.as_str()) {
            return self.visitor.visit_enum(Tagged { variant: key, map, first: false });
        }
        let variant = map.next_value::<String>()?;
        self.visitor.visit_enum(Tagged { variant, map, first: true })
    }
}

/// A variant and where its fields are: the rest of the object (`first`, the
/// tag was its first entry) or the value of its one entry.
pub struct Tagged<A> {
    pub variant: String,
    pub map: A,
    pub first: bool,
}

impl<'de, A: MapAccess<'de>> EnumAccess<'de> for Tagged<A> {
    type Error = A::Error;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self), A::Error> {
        let name: StringDeserializer<A::Error> = self.variant.clone().into_deserializer();
        Ok((seed.deserialize(name)?, self))
    }
}

impl<'de, A: MapAccess<'de>> VariantAccess<'de> for Tagged<A> {
    type Error = A::Error;

    fn unit_variant(mut self) -> Result<(), A::Error> {
        if self.first {
            while self.map.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
            Ok(())
        } else {
            self.map.next_value()
        }
    }
    fn newtype_variant_seed<S: DeserializeSeed<'de>>(mut self, seed: S) -> Result<S::Value, A::Error> {
        if self.first {
            seed.deserialize(MapAccessDeserializer::new(Tags(self.map)))
        } else {
            self.map.next_value_seed(Tags(seed))
        }
    }
    fn tuple_variant<V: Visitor<'de>>(mut self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        if self.first {
            return Err(de::Error::custom(format_args!("variant {} has no field names", self.variant)));
        }
        self.map.next_value_seed(Tuple { len, visitor })
    }
    fn struct_variant<V: Visitor<'de>>(
        mut self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        if self.first {
            visitor.visit_map(Tags(self.map))
        } else {
            self.map.next_value_seed(Struct { fields, visitor })
        }
    }
}

struct Tuple<V> {
    len: usize,
    visitor: V,
}

impl<'de, V: Visitor<'de>> DeserializeSeed<'de> for Tuple<V> {
    type Value = V::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        Tags(d).deserialize_tuple(self.len, self.visitor)
    }
}

struct Struct<V> {
    fields: &'static [&'static str],
    visitor: V,
}

impl<'de, V: Visitor<'de>> DeserializeSeed<'de> for Struct<V> {
    type Value = V::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        Tags(d).deserialize_struct("", self.fields, self.visitor)
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
