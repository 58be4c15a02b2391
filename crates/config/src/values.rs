//! Serde helpers for values that the reference writes either as a number or as a list of one.
//!
//! The reference reads only the first element of `TEST.UPDATE_INTERVALS.<dataset>`,
//! `TEST.ONLINE_SIZES.<dataset>` and, in the score stage, `DATA.MAX_SAMPLE_INTERVAL`,
//! one per online template. With one online template a longer list would be
//! silently cut, so it is rejected instead.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};

struct OneOrSingleList;

impl<'de> Visitor<'de> for OneOrSingleList {
    type Value = usize;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a non-negative integer or a list of one non-negative integer")
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<usize, E> {
        usize::try_from(value).map_err(|_| E::custom(format!("{value} is too large")))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<usize, E> {
        usize::try_from(value).map_err(|_| E::invalid_value(de::Unexpected::Signed(value), &self))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let Some(first) = seq.next_element::<usize>()? else {
            return Err(de::Error::invalid_length(0, &self));
        };
        let mut extra = 0;
        while seq.next_element::<de::IgnoredAny>()?.is_some() {
            extra += 1;
        }
        if extra > 0 {
            return Err(de::Error::custom(format!(
                "found a list of {} values, but only one online template is supported, \
                 so give one value",
                extra + 1
            )));
        }
        Ok(first)
    }
}

/// Deserializes `200` or `[200]` into 200.
pub(crate) fn deserialize_one_or_single_list<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<usize, D::Error> {
    deserializer.deserialize_any(OneOrSingleList)
}

#[derive(Deserialize)]
#[serde(transparent)]
struct OneValue(#[serde(deserialize_with = "deserialize_one_or_single_list")] usize);

/// Serde adapter for a map from dataset name to one number, written as `NAME: [n]`
/// like the reference's files and read from `NAME: [n]` or `NAME: n`.
pub(crate) mod per_dataset {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        map: &BTreeMap<String, usize>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_map(Some(map.len()))?;
        for (name, value) in map {
            out.serialize_entry(name, &[*value])?;
        }
        out.end()
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<String, usize>, D::Error> {
        let raw = BTreeMap::<String, OneValue>::deserialize(deserializer)?;
        Ok(raw
            .into_iter()
            .map(|(name, value)| (name, value.0))
            .collect())
    }
}
