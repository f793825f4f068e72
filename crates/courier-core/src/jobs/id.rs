//! Job tokens: 128 bits, the first 48 the submission time in milliseconds, the other 80
//! random, written as 26 characters of Crockford's base32 (the ULID layout), so tokens
//! sort by submission time and say when they were made.

use crate::{ErrorCode, ServiceError};
use std::{
    fmt,
    str::FromStr,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const LENGTH: usize = 26;

/// The token of a queued job: a string a caller can store and hand to another process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(u128);

impl JobId {
    /// A new token, made now.
    pub fn generate() -> Self {
        let millis = now_millis() & ((1 << 48) - 1);
        let random = fastrand::u128(..) & ((1 << 80) - 1);
        Self((u128::from(millis) << 80) | random)
    }

    /// When the job was submitted, in milliseconds since the Unix epoch.
    pub const fn submitted_ms(self) -> u64 {
        (self.0 >> 80) as u64
    }

    /// How long ago the job was submitted.
    pub fn age(self) -> Duration {
        Duration::from_millis(now_millis().saturating_sub(self.submitted_ms()))
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = [0u8; LENGTH];
        for (index, byte) in text.iter_mut().enumerate() {
            let shift = 5 * (LENGTH - 1 - index);
            *byte = ALPHABET[((self.0 >> shift) & 31) as usize];
        }
        f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
    }
}

impl FromStr for JobId {
    type Err = ServiceError;

    /// Reads a token, in either case; anything else is a 400.
    ///
    /// ```
    /// # use courier_core as courier;
    /// use courier::jobs::JobId;
    /// let id = JobId::generate();
    /// assert_eq!(id.to_string().to_lowercase().parse::<JobId>().unwrap(), id);
    /// assert!("not-a-token".parse::<JobId>().is_err());
    /// ```
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || ServiceError::new(ErrorCode::BadRequest, format!("`{}` is not a job token", shorten(text)));
        if text.len() != LENGTH || text.as_bytes()[0] > b'7' {
            return Err(bad());
        }
        let mut value = 0u128;
        for byte in text.bytes() {
            let digit = ALPHABET.iter().position(|known| *known == byte.to_ascii_uppercase()).ok_or_else(bad)?;
            value = (value << 5) | digit as u128;
        }
        Ok(Self(value))
    }
}

impl serde::Serialize for JobId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for JobId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for JobId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "JobId".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "the job's token",
            "pattern": "^[0-9A-HJKMNP-TV-Z]{26}$"
        })
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as u64)
}

fn shorten(text: &str) -> &str {
    text.char_indices().nth(40).map_or(text, |(end, _)| &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_read_back_sort_by_time_and_refuse_anything_else() {
        let first = JobId::generate();
        let text = first.to_string();
        assert_eq!(text.len(), 26);
        assert_eq!(text.parse::<JobId>().unwrap(), first);
        assert!(first.age() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(2));
        assert!(JobId::generate().to_string() > text);
        for bad in [
            "",
            "8ZZZZZZZZZZZZZZZZZZZZZZZZZ",
            "01ARZ3NDEKTSV4RRFFQ69G5FAU",
            "01ARZ3NDEKTSV4RRFFQ69G5FA",
            "é".repeat(13).as_str(),
        ] {
            assert_eq!(bad.parse::<JobId>().unwrap_err().code, ErrorCode::BadRequest, "{bad}");
        }
    }
}
