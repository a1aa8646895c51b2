//! Query strings: repeated keys, percent-decoding, Marathon's case-insensitive booleans
//! (marathon-python sends `force=True`).

use percent_encoding::percent_decode_str;

/// A parsed query string.
#[derive(Debug, Clone, Default)]
pub struct Query(Vec<(String, String)>);

fn decode(s: &str) -> String {
    percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

impl Query {
    /// Parses `a=1&b=2&a=3`.
    pub fn parse(q: &str) -> Self {
        Self(
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (decode(k), decode(v)),
                    None => (decode(p), String::new()),
                })
                .collect(),
        )
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key` (comma-separated values split too).
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.split(',').map(str::to_owned).collect::<Vec<_>>())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// A boolean flag (`true`, `True`, `1`, or present without a value).
    pub fn flag(&self, key: &str) -> bool {
        self.get(key)
            .is_some_and(|v| v.is_empty() || v.eq_ignore_ascii_case("true") || v == "1")
    }

    /// A boolean with a default when absent.
    pub fn flag_or(&self, key: &str, default: bool) -> bool {
        match self.get(key) {
            None => default,
            Some(_) => self.flag(key),
        }
    }
}
