//! msgpack extension values: a type code and opaque bytes, and the one extension type
//! msgpack itself defines, the timestamp (type −1).
//!
//! wslink defines no extension types, but its peers send them: the JS client's msgpack
//! encoder writes a JS `Date` as a timestamp, and Python's msgpack hands out `ExtType`
//! and `Timestamp` objects that re-encode as the same extension. A [`Value::Ext`] keeps
//! such a value as it came, so echoing it gives the peer back the same type:
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use wslink_core::{Ext, Timestamp, Value};
//!
//! let when = Timestamp::new(1_700_000_000, 250_000_000).unwrap();
//! let value = Value::from(when);
//! assert_eq!(value.as_ext().unwrap().tag, Timestamp::EXT_TYPE);
//! assert_eq!(value.as_timestamp(), Some(when));
//! assert_eq!(
//!     std::time::SystemTime::try_from(when).unwrap(),
//!     UNIX_EPOCH + Duration::new(1_700_000_000, 250_000_000)
//! );
//!
//! let custom = Value::from(Ext::new(7, &b"\x01\x02"[..]));
//! assert_eq!(custom.as_timestamp(), None);
//! ```
//!
//! With serde, [`Ext`] and [`Timestamp`] are (de)serializable fields of your own types,
//! using the newtype name `_ExtStruct` that `rmp-serde` uses for extensions too.
//! On the 1.x wire (JSON), which has no extensions, an extension is written as the map
//! `{"type": tag, "data": <binary>}`, the shape the JS client gives an extension it does
//! not know; JSON never decodes into an extension.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde::{de, ser};

use super::Value;

/// The serde newtype name under which an extension travels (`rmp-serde`'s name).
pub const EXT_STRUCT_NAME: &str = "_ExtStruct";

/// A msgpack extension value: a type code and its bytes, kept as received.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ext {
    /// The extension type: −128..=−1 are reserved by msgpack (−1 is the timestamp),
    /// 0..=127 are the application's.
    pub tag: i8,
    /// The payload, shared without copies.
    pub data: Bytes,
}

impl Ext {
    /// An extension with this type code and payload.
    pub fn new(tag: i8, data: impl Into<Bytes>) -> Self {
        Ext {
            tag,
            data: data.into(),
        }
    }
}

/// A point in time as msgpack's timestamp extension (type −1) holds it: seconds since
/// the Unix epoch (negative before it) and nanoseconds within that second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp {
    seconds: i64,
    nanoseconds: u32,
}

/// A timestamp whose nanoseconds are not below one second, or a time out of range.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid timestamp: {0}")]
pub struct TimestampError(&'static str);

impl Timestamp {
    /// The extension type msgpack reserves for timestamps.
    pub const EXT_TYPE: i8 = -1;

    /// A timestamp; `nanoseconds` must be below 1 000 000 000.
    pub fn new(seconds: i64, nanoseconds: u32) -> Result<Self, TimestampError> {
        if nanoseconds >= 1_000_000_000 {
            return Err(TimestampError("nanoseconds must be below one second"));
        }
        Ok(Timestamp {
            seconds,
            nanoseconds,
        })
    }

    /// Seconds since the Unix epoch.
    pub fn seconds(&self) -> i64 {
        self.seconds
    }

    /// Nanoseconds within the second.
    pub fn nanoseconds(&self) -> u32 {
        self.nanoseconds
    }

    /// Reads a timestamp 32, 64 or 96 payload; `None` for another length or an invalid
    /// nanosecond field.
    pub fn from_ext_data(data: &[u8]) -> Option<Self> {
        match *data {
            [a, b, c, d] => Timestamp::new(u32::from_be_bytes([a, b, c, d]).into(), 0).ok(),
            [..] if data.len() == 8 => {
                let packed = u64::from_be_bytes(data.try_into().ok()?);
                Timestamp::new((packed & ((1 << 34) - 1)) as i64, (packed >> 34) as u32).ok()
            }
            [..] if data.len() == 12 => {
                let nanos = u32::from_be_bytes(data[..4].try_into().ok()?);
                let seconds = i64::from_be_bytes(data[4..].try_into().ok()?);
                Timestamp::new(seconds, nanos).ok()
            }
            _ => None,
        }
    }

    /// The smallest payload that holds this time: timestamp 32, 64 or 96.
    pub fn to_ext_data(&self) -> Bytes {
        let (seconds, nanos) = (self.seconds, self.nanoseconds);
        if (0..1 << 34).contains(&seconds) {
            let packed = (u64::from(nanos) << 34) | seconds as u64;
            if packed <= u64::from(u32::MAX) {
                return Bytes::copy_from_slice(&(packed as u32).to_be_bytes());
            }
            return Bytes::copy_from_slice(&packed.to_be_bytes());
        }
        let mut out = Vec::with_capacity(12);
        out.extend_from_slice(&nanos.to_be_bytes());
        out.extend_from_slice(&seconds.to_be_bytes());
        out.into()
    }

    /// This timestamp as an extension value.
    pub fn to_ext(&self) -> Ext {
        Ext::new(Self::EXT_TYPE, self.to_ext_data())
    }
}

impl TryFrom<&Ext> for Timestamp {
    type Error = TimestampError;
    fn try_from(ext: &Ext) -> Result<Self, TimestampError> {
        if ext.tag != Timestamp::EXT_TYPE {
            return Err(TimestampError("not extension type -1"));
        }
        Timestamp::from_ext_data(&ext.data).ok_or(TimestampError("not a 4, 8 or 12 byte payload"))
    }
}

impl TryFrom<SystemTime> for Timestamp {
    type Error = TimestampError;
    fn try_from(t: SystemTime) -> Result<Self, TimestampError> {
        let out_of_range = TimestampError("beyond ±2^63 seconds");
        match t.duration_since(UNIX_EPOCH) {
            Ok(after) => Timestamp::new(
                i64::try_from(after.as_secs()).map_err(|_| out_of_range)?,
                after.subsec_nanos(),
            ),
            Err(e) => {
                // Before the epoch: floor the seconds so the nanoseconds stay positive.
                let before = e.duration();
                let mut seconds = -i64::try_from(before.as_secs()).map_err(|_| out_of_range)?;
                let mut nanos = before.subsec_nanos();
                if nanos > 0 {
                    seconds -= 1;
                    nanos = 1_000_000_000 - nanos;
                }
                Timestamp::new(seconds, nanos)
            }
        }
    }
}

impl TryFrom<Timestamp> for SystemTime {
    type Error = TimestampError;
    fn try_from(t: Timestamp) -> Result<Self, TimestampError> {
        let out_of_range = TimestampError("not representable as a SystemTime");
        let nanos = Duration::from_nanos(t.nanoseconds.into());
        if t.seconds >= 0 {
            UNIX_EPOCH.checked_add(Duration::from_secs(t.seconds as u64) + nanos)
        } else {
            UNIX_EPOCH
                .checked_sub(Duration::from_secs(t.seconds.unsigned_abs()))
                .and_then(|s| s.checked_add(nanos))
        }
        .ok_or(out_of_range)
    }
}

impl fmt::Display for Ext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Ok(t) = Timestamp::try_from(self) {
            return write!(f, "<timestamp {}.{:09}>", t.seconds, t.nanoseconds);
        }
        write!(f, "<ext {}: {} bytes>", self.tag, self.data.len())
    }
}

impl From<Ext> for Value {
    fn from(ext: Ext) -> Self {
        Value::Ext(ext)
    }
}

impl From<Timestamp> for Value {
    fn from(t: Timestamp) -> Self {
        Value::Ext(t.to_ext())
    }
}

impl ser::Serialize for Ext {
    fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(EXT_STRUCT_NAME, &(self.tag, serde_bytes_ref(&self.data)))
    }
}

/// Serializes a byte slice with `serialize_bytes` (a `&[u8]` alone would be a sequence).
fn serde_bytes_ref(b: &[u8]) -> impl ser::Serialize + '_ {
    struct AsBytes<'a>(&'a [u8]);
    impl ser::Serialize for AsBytes<'_> {
        fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(self.0)
        }
    }
    AsBytes(b)
}

impl<'de> de::Deserialize<'de> for Ext {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ExtVisitor;
        impl<'de> de::Visitor<'de> for ExtVisitor {
            type Value = Ext;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a msgpack extension value")
            }
            fn visit_newtype_struct<D: de::Deserializer<'de>>(self, d: D) -> Result<Ext, D::Error> {
                let (tag, data): (i8, Value) = de::Deserialize::deserialize(d)?;
                match data {
                    Value::Bin(data) => Ok(Ext { tag, data }),
                    other => Err(de::Error::invalid_type(
                        de::Unexpected::Other(other.kind()),
                        &"binary extension data",
                    )),
                }
            }
        }
        d.deserialize_newtype_struct(EXT_STRUCT_NAME, ExtVisitor)
    }
}

impl ser::Serialize for Timestamp {
    fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_ext().serialize(s)
    }
}

impl<'de> de::Deserialize<'de> for Timestamp {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let ext = Ext::deserialize(d)?;
        Timestamp::try_from(&ext).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_use_the_smallest_of_the_three_layouts() {
        let cases: &[(i64, u32, usize)] = &[
            (0, 0, 4),
            (u32::MAX as i64, 0, 4),
            (1 << 32, 0, 8),
            (1, 1, 8),
            ((1 << 34) - 1, 999_999_999, 8),
            (1 << 34, 0, 12),
            (-1, 500, 12),
            (i64::MIN, 999_999_999, 12),
        ];
        for &(s, n, len) in cases {
            let t = Timestamp::new(s, n).unwrap();
            let data = t.to_ext_data();
            assert_eq!(data.len(), len, "{s}.{n}");
            assert_eq!(Timestamp::from_ext_data(&data), Some(t), "{s}.{n}");
        }
    }

    #[test]
    fn invalid_payloads_are_not_timestamps() {
        // 64-bit layout with nanoseconds = 2^30 - 1 > 999 999 999.
        let bad64 = (((1u64 << 30) - 1) << 34).to_be_bytes();
        assert_eq!(Timestamp::from_ext_data(&bad64), None);
        let mut bad96 = vec![0x3b, 0x9a, 0xca, 0x00]; // 1e9 nanoseconds
        bad96.extend_from_slice(&0i64.to_be_bytes());
        assert_eq!(Timestamp::from_ext_data(&bad96), None);
        assert_eq!(Timestamp::from_ext_data(&[1, 2, 3]), None);
        assert!(Timestamp::try_from(&Ext::new(5, vec![0; 4])).is_err());
        assert!(Timestamp::new(0, 1_000_000_000).is_err());
    }

    #[test]
    fn system_times_before_the_epoch_floor_their_seconds() {
        let t = UNIX_EPOCH - Duration::from_millis(1500);
        let ts = Timestamp::try_from(t).unwrap();
        assert_eq!((ts.seconds(), ts.nanoseconds()), (-2, 500_000_000));
        assert_eq!(SystemTime::try_from(ts).unwrap(), t);
    }

    #[test]
    fn serde_goes_through_the_ext_struct() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Event {
            at: Timestamp,
            raw: Ext,
        }
        let event = Event {
            at: Timestamp::new(10, 20).unwrap(),
            raw: Ext::new(3, &b"xyz"[..]),
        };
        let value = crate::to_value(&event).unwrap();
        assert_eq!(value["at"].as_timestamp(), Some(event.at));
        assert_eq!(value["raw"], Value::Ext(event.raw.clone()));
        assert_eq!(crate::from_value::<Event>(value).unwrap(), event);
    }
}
