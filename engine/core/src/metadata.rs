//! `Metadata`: the annotations tree every record carries (SPEC §1), and its JSON conversion.
//!
//! The tree is JSON plus two things JSON lacks: byte strings and non-finite floats. Equality is
//! bit-exact on floats (so `0.0 != -0.0`) except that any two NaNs are equal: SPEC §1 lets NaN
//! payloads change, nothing else.
//!
//! JSON conversion is lossless on the JSON subset and refuses the rest instead of guessing:
//! - [`Metadata::to_json`] fails on `Bytes` and on non-finite floats (JSON has no spelling for
//!   them; inventing one, like base64 strings, would not survive the way back).
//! - JSON text round-trips floats exactly because serde_json is built with `float_roundtrip`.
//! - [`Metadata::from_json`] maps integers in `i64` range to `I64`, other numbers that serde_json
//!   holds as floats to `F64`, and fails on unsigned integers above `i64::MAX` (they would lose
//!   precision as `F64`).

use std::collections::BTreeMap;

/// A JSON-like tree. Maps have string keys kept in sorted (byte) order.
#[derive(
    Clone,
    Debug,
    Default,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    serde::Serialize,
    serde::Deserialize,
)]
#[rkyv(serialize_bounds(
    __S: rkyv::ser::Writer + rkyv::ser::Allocator,
    __S::Error: rkyv::rancor::Source,
))]
#[rkyv(deserialize_bounds(__D::Error: rkyv::rancor::Source))]
#[rkyv(bytecheck(bounds(
    __C: rkyv::validation::ArchiveContext,
    __C::Error: rkyv::rancor::Source,
)))]
pub enum Metadata {
    #[default]
    /// JSON `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed 64-bit integer.
    I64(i64),
    /// A float, kept bit for bit (`-0.0`, NaN payloads).
    F64(f64),
    /// A UTF-8 string.
    String(String),
    /// Bytes (no JSON form).
    Bytes(Vec<u8>),
    /// A list.
    List(#[rkyv(omit_bounds)] Vec<Metadata>),
    /// A map with string keys, in key order.
    Map(#[rkyv(omit_bounds)] BTreeMap<String, Metadata>),
}

impl PartialEq for Metadata {
    fn eq(&self, other: &Self) -> bool {
        use Metadata::*;
        match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (I64(a), I64(b)) => a == b,
            (F64(a), F64(b)) => (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits(),
            (String(a), String(b)) => a == b,
            (Bytes(a), Bytes(b)) => a == b,
            (List(a), List(b)) => a == b,
            (Map(a), Map(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Metadata {}

/// Why a value has no lossless counterpart on the other side.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MetadataJsonError {
    /// Bytes, which JSON cannot hold.
    #[error("bytes at {path} have no JSON representation")]
    Bytes {
        /// Where in the tree (`$.a[0]`).
        path: String,
    },
    /// A NaN or an infinity, which JSON cannot hold.
    #[error("non-finite float {value} at {path} has no JSON representation")]
    NonFinite {
        /// Where in the tree.
        path: String,
        /// The value.
        value: String,
    },
    /// A JSON number outside `i64` that an `f64` would round.
    #[error("number {value} at {path} is outside i64 and would lose precision as f64")]
    OutOfRange {
        /// Where in the tree.
        path: String,
        /// The number.
        value: String,
    },
}

impl Metadata {
    /// Converts to JSON; see the module docs for what is refused.
    pub fn to_json(&self) -> Result<serde_json::Value, MetadataJsonError> {
        self.to_json_at("$")
    }

    fn to_json_at(&self, path: &str) -> Result<serde_json::Value, MetadataJsonError> {
        use serde_json::Value;
        Ok(match self {
            Metadata::Null => Value::Null,
            Metadata::Bool(b) => Value::Bool(*b),
            Metadata::I64(i) => Value::from(*i),
            Metadata::F64(f) => match serde_json::Number::from_f64(*f) {
                Some(n) => Value::Number(n),
                None => {
                    return Err(MetadataJsonError::NonFinite {
                        path: path.to_string(),
                        value: f.to_string(),
                    })
                }
            },
            Metadata::String(s) => Value::String(s.clone()),
            Metadata::Bytes(_) => {
                return Err(MetadataJsonError::Bytes {
                    path: path.to_string(),
                })
            }
            Metadata::List(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, m)| m.to_json_at(&format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
            Metadata::Map(map) => Value::Object(
                map.iter()
                    .map(|(k, m)| Ok((k.clone(), m.to_json_at(&format!("{path}.{k}"))?)))
                    .collect::<Result<_, MetadataJsonError>>()?,
            ),
        })
    }

    /// Converts from JSON; see the module docs for what is refused.
    pub fn from_json(value: &serde_json::Value) -> Result<Metadata, MetadataJsonError> {
        Self::from_json_at(value, "$")
    }

    fn from_json_at(value: &serde_json::Value, path: &str) -> Result<Metadata, MetadataJsonError> {
        use serde_json::Value;
        Ok(match value {
            Value::Null => Metadata::Null,
            Value::Bool(b) => Metadata::Bool(*b),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Metadata::I64(i)
                } else if n.is_u64() {
                    return Err(MetadataJsonError::OutOfRange {
                        path: path.to_string(),
                        value: n.to_string(),
                    });
                } else {
                    // Neither i64 nor u64: serde_json holds it as a finite f64.
                    Metadata::F64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => Metadata::String(s.clone()),
            Value::Array(items) => Metadata::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Self::from_json_at(v, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => Metadata::Map(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), Self::from_json_at(v, &format!("{path}.{k}"))?)))
                    .collect::<Result<_, MetadataJsonError>>()?,
            ),
        })
    }

    /// Convenience: a map from pairs.
    pub fn map<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Metadata)>) -> Metadata {
        Metadata::Map(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nan_payloads_compare_equal_but_signed_zero_does_not() {
        assert_eq!(Metadata::F64(f64::NAN), Metadata::F64(-f64::NAN));
        assert_ne!(Metadata::F64(0.0), Metadata::F64(-0.0));
        assert_ne!(Metadata::I64(1), Metadata::F64(1.0));
    }

    #[test]
    fn json_round_trip_keeps_int_float_distinction() {
        let v = json!({"a": 1, "b": 1.0, "c": [null, true, "x"], "d": {"": -0.5}});
        let m = Metadata::from_json(&v).unwrap();
        assert_eq!(
            m,
            Metadata::map([
                ("a", Metadata::I64(1)),
                ("b", Metadata::F64(1.0)),
                (
                    "c",
                    Metadata::List(vec![
                        Metadata::Null,
                        Metadata::Bool(true),
                        Metadata::String("x".into())
                    ])
                ),
                ("d", Metadata::map([("", Metadata::F64(-0.5))])),
            ])
        );
        assert_eq!(m.to_json().unwrap(), v);
    }

    #[test]
    fn json_refuses_what_it_cannot_hold() {
        let bytes = Metadata::map([("k", Metadata::List(vec![Metadata::Bytes(vec![1])]))]);
        assert_eq!(
            bytes.to_json().unwrap_err(),
            MetadataJsonError::Bytes {
                path: "$.k[0]".into()
            }
        );
        assert!(matches!(
            Metadata::F64(f64::INFINITY).to_json(),
            Err(MetadataJsonError::NonFinite { .. })
        ));
        assert!(matches!(
            Metadata::from_json(&json!(u64::MAX)),
            Err(MetadataJsonError::OutOfRange { .. })
        ));
    }
}
