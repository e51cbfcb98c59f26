//! Serde for the enums that travel as one of a fixed set of names: written as
//! their `name()`, read back with their `FromStr`, so each name is spelt once
//! (and the page's wasm carries no derived field-matching code for them).

use std::fmt::Display;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::Deserializer;
use serde::de::{self, Visitor};

/// A name that is none of a type's names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no {what} is called {name:?}")]
pub struct UnknownName {
    /// What the type names, e.g. `TCP state`.
    pub what: &'static str,
    pub name: String,
}

/// The value among `all` that `name_of` calls `name`.
pub(crate) fn find<T: Copy>(
    all: &[T],
    name_of: fn(T) -> &'static str,
    what: &'static str,
    name: &str,
) -> Result<T, UnknownName> {
    all.iter()
        .copied()
        .find(|&value| name_of(value) == name)
        .ok_or_else(|| UnknownName {
            what,
            name: name.to_string(),
        })
}

/// Reads a `T` from a string with `T::from_str`, its error as serde's.
pub(crate) fn deserialize<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: Display,
{
    struct Name<T>(PhantomData<T>);

    impl<T> Visitor<'_> for Name<T>
    where
        T: FromStr,
        T::Err: Display,
    {
        type Value = T;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a name")
        }

        fn visit_str<E: de::Error>(self, name: &str) -> Result<T, E> {
            name.parse().map_err(E::custom)
        }
    }

    deserializer.deserialize_str(Name(PhantomData))
}

/// `Serialize` as `self.name()` and `Deserialize` by [`deserialize`], for a
/// `Copy` type with `fn name(self) -> &'static str` and `FromStr`.
macro_rules! by_name {
    ($type:ty) => {
        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.name())
            }
        }

        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::named::deserialize(deserializer)
            }
        }
    };
}

pub(crate) use by_name;
