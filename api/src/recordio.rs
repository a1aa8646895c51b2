//! RecordIO framing used by the scheduler, executor and operator event streams
//! (Mesos `docs/recordio.md`):
//!
//! ```text
//! records     = *record
//! record      = record-size LF record-data
//! record-size = 1*DIGIT      ; decimal length of record-data in bytes, never 0
//! ```
//!
//! [`encode`] frames one record; [`Decoder`] splits a byte stream back into records and
//! accepts arbitrary chunk boundaries (HTTP chunks are independent of records).

use serde::Serialize;

/// Default limit on a single record's size accepted by [`Decoder::new`] (64 MiB).
pub const DEFAULT_MAX_RECORD_SIZE: usize = 64 * 1024 * 1024;

/// Longest accepted size header: `u64::MAX` has 20 digits.
const MAX_HEADER_DIGITS: usize = 20;

/// Frames `record` as `<len>\n<data>`.
pub fn encode(record: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(record.len() + MAX_HEADER_DIGITS + 1);
    encode_into(record, &mut out);
    out
}

/// Appends the framed `record` to `out`.
pub fn encode_into(record: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(record.len().to_string().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(record);
}

/// Serialises `message` as JSON and frames it, ready to write to an event stream.
pub fn encode_json<T: Serialize + ?Sized>(message: &T) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(message).map(|json| encode(&json))
}

/// Why a RecordIO stream could not be decoded. After an error the [`Decoder`] stays
/// failed and returns the same error for every later call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordIoError {
    /// The size header contained something other than ASCII digits.
    #[error("invalid RecordIO size header: unexpected byte 0x{byte:02x} ({byte_char:?})")]
    InvalidSize {
        /// The offending byte.
        byte: u8,
        /// The byte as a character, for the message.
        byte_char: char,
    },
    /// The size header was empty (a bare `\n`).
    #[error("invalid RecordIO size header: no digits before newline")]
    EmptySize,
    /// A record size of 0, which the format forbids.
    #[error("invalid RecordIO record size 0")]
    ZeroSize,
    /// The size header does not fit in 64 bits.
    #[error("RecordIO size header is too long")]
    SizeOverflow,
    /// A record larger than the configured maximum.
    #[error("RecordIO record of {size} bytes exceeds the maximum of {max} bytes")]
    TooLarge {
        /// Announced size.
        size: u64,
        /// Configured maximum.
        max: usize,
    },
    /// The stream ended in the middle of a record (see [`Decoder::finish`]).
    #[error("RecordIO stream ended inside a record ({missing} bytes missing)")]
    Truncated {
        /// Bytes still expected (0 if it ended inside the size header).
        missing: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Reading the size: digits so far and the value they form.
    Header { digits: usize, size: u64 },
    /// Reading `remaining` more bytes of record data into `buf`.
    Record { remaining: usize },
    /// A previous error; sticky.
    Failed(RecordIoError),
}

/// Incremental RecordIO decoder.
///
/// ```
/// use meseta_api::recordio::{encode, Decoder};
/// let mut stream = encode(br#"{"type":"HEARTBEAT"}"#);
/// stream.extend(encode(b"second"));
/// let mut decoder = Decoder::new();
/// let mut records = decoder.decode(&stream[..7]).unwrap();
/// records.extend(decoder.decode(&stream[7..]).unwrap());
/// assert_eq!(records, vec![br#"{"type":"HEARTBEAT"}"#.to_vec(), b"second".to_vec()]);
/// assert!(decoder.finish().is_ok());
/// ```
#[derive(Debug, Clone)]
pub struct Decoder {
    max_record_size: usize,
    state: State,
    buf: Vec<u8>,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// A decoder accepting records up to [`DEFAULT_MAX_RECORD_SIZE`].
    pub fn new() -> Self {
        Self::with_max_record_size(DEFAULT_MAX_RECORD_SIZE)
    }

    /// A decoder accepting records up to `max_record_size` bytes.
    pub fn with_max_record_size(max_record_size: usize) -> Self {
        Self {
            max_record_size,
            state: State::Header { digits: 0, size: 0 },
            buf: Vec::new(),
        }
    }

    /// Feeds the next chunk of the stream, returning the records it completed (possibly
    /// none). A chunk may end anywhere, including inside the size header.
    pub fn decode(&mut self, mut chunk: &[u8]) -> Result<Vec<Vec<u8>>, RecordIoError> {
        let mut records = Vec::new();
        while !chunk.is_empty() {
            match &mut self.state {
                State::Failed(err) => return Err(err.clone()),
                State::Header { digits, size } => {
                    let byte = chunk[0];
                    chunk = &chunk[1..];
                    if byte == b'\n' {
                        let (digits, size) = (*digits, *size);
                        self.start_record(digits, size)?;
                    } else if byte.is_ascii_digit() {
                        *digits += 1;
                        let next = size
                            .checked_mul(10)
                            .and_then(|s| s.checked_add(u64::from(byte - b'0')));
                        match next {
                            Some(next) if *digits <= MAX_HEADER_DIGITS => *size = next,
                            _ => return Err(self.fail(RecordIoError::SizeOverflow)),
                        }
                    } else {
                        return Err(self.fail(RecordIoError::InvalidSize {
                            byte,
                            byte_char: char::from(byte),
                        }));
                    }
                }
                State::Record { remaining } => {
                    let take = (*remaining).min(chunk.len());
                    self.buf.extend_from_slice(&chunk[..take]);
                    chunk = &chunk[take..];
                    *remaining -= take;
                    if *remaining == 0 {
                        records.push(std::mem::take(&mut self.buf));
                        self.state = State::Header { digits: 0, size: 0 };
                    }
                }
            }
        }
        if let State::Failed(err) = &self.state {
            return Err(err.clone());
        }
        Ok(records)
    }

    /// Call at end of stream: an error if the stream stopped inside a record or header.
    pub fn finish(&self) -> Result<(), RecordIoError> {
        match &self.state {
            State::Header { digits: 0, .. } => Ok(()),
            State::Header { .. } => Err(RecordIoError::Truncated { missing: 0 }),
            State::Record { remaining } => Err(RecordIoError::Truncated {
                missing: *remaining,
            }),
            State::Failed(err) => Err(err.clone()),
        }
    }

    /// Whether the decoder is between records (nothing buffered).
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Header { digits: 0, .. })
    }

    fn start_record(&mut self, digits: usize, size: u64) -> Result<(), RecordIoError> {
        if digits == 0 {
            return Err(self.fail(RecordIoError::EmptySize));
        }
        if size == 0 {
            return Err(self.fail(RecordIoError::ZeroSize));
        }
        let remaining = match usize::try_from(size) {
            Ok(n) if n <= self.max_record_size => n,
            _ => {
                let max = self.max_record_size;
                return Err(self.fail(RecordIoError::TooLarge { size, max }));
            }
        };
        // Reserve up to 64 KiB up front; a larger record grows as its bytes arrive.
        self.buf = Vec::with_capacity(remaining.min(64 * 1024));
        self.state = State::Record { remaining };
        Ok(())
    }

    fn fail(&mut self, err: RecordIoError) -> RecordIoError {
        self.buf.clear();
        self.state = State::Failed(err.clone());
        err
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream() -> Vec<u8> {
        let mut s = encode(br#"{"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"f"}}}"#);
        s.extend(encode(br#"{"type":"HEARTBEAT"}"#));
        s.extend(encode(b"x"));
        s
    }

    #[test]
    fn encodes_length_prefix() {
        assert_eq!(
            encode(br#"{"type":"HEARTBEAT"}"#),
            b"20\n{\"type\":\"HEARTBEAT\"}".to_vec()
        );
        let json = encode_json(&serde_json::json!({"a": 1})).unwrap();
        assert_eq!(json, b"7\n{\"a\":1}".to_vec());
    }

    #[test]
    fn decodes_whole_stream() {
        let mut d = Decoder::new();
        let records = d.decode(&stream()).unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(records[1], br#"{"type":"HEARTBEAT"}"#.to_vec());
        assert!(d.is_idle());
        assert_eq!(d.finish(), Ok(()));
    }

    #[test]
    fn any_chunking_gives_the_same_records() {
        let s = stream();
        let expected = Decoder::new().decode(&s).unwrap();
        for size in 1..=s.len() {
            let mut d = Decoder::new();
            let mut got = Vec::new();
            for chunk in s.chunks(size) {
                got.extend(d.decode(chunk).unwrap());
            }
            assert_eq!(got, expected, "chunk size {size}");
            assert_eq!(d.finish(), Ok(()));
        }
        // Every split point of a two-way split, including empty chunks.
        for at in 0..=s.len() {
            let mut d = Decoder::new();
            let mut got = d.decode(&s[..at]).unwrap();
            got.extend(d.decode(&[]).unwrap());
            got.extend(d.decode(&s[at..]).unwrap());
            assert_eq!(got, expected, "split at {at}");
        }
    }

    #[test]
    fn rejects_zero_size() {
        let mut d = Decoder::new();
        assert_eq!(d.decode(b"0\n"), Err(RecordIoError::ZeroSize));
        // Sticky.
        assert_eq!(d.decode(b"1\na"), Err(RecordIoError::ZeroSize));
        assert_eq!(d.finish(), Err(RecordIoError::ZeroSize));
    }

    #[test]
    fn rejects_non_digits_and_empty_header() {
        let mut d = Decoder::new();
        let err = d.decode(b"1a\n").unwrap_err();
        assert!(matches!(err, RecordIoError::InvalidSize { byte: b'a', .. }));
        assert!(err.to_string().contains("0x61"), "{err}");
        assert_eq!(Decoder::new().decode(b"\n"), Err(RecordIoError::EmptySize));
        assert!(Decoder::new().decode(b" 5\nhello").is_err());
        assert!(Decoder::new().decode(b"-5\nhello").is_err());
        // Records already completed in the same chunk are lost with the error; the stream
        // is unusable anyway.
        assert!(Decoder::new().decode(b"1\na?").is_err());
    }

    #[test]
    fn rejects_oversized_records() {
        let mut d = Decoder::with_max_record_size(4);
        assert_eq!(d.decode(b"4\nabcd").unwrap(), vec![b"abcd".to_vec()]);
        assert_eq!(
            d.decode(b"5\n"),
            Err(RecordIoError::TooLarge { size: 5, max: 4 })
        );
        let err = Decoder::new()
            .decode(b"99999999999999999999999\n")
            .unwrap_err();
        assert_eq!(err, RecordIoError::SizeOverflow);
        let huge = format!("{}\n", u64::MAX);
        let err = Decoder::new().decode(huge.as_bytes()).unwrap_err();
        assert!(matches!(err, RecordIoError::TooLarge { .. }), "{err}");
    }

    #[test]
    fn truncated_stream_is_reported() {
        let mut d = Decoder::new();
        assert!(d.decode(b"10\nabc").unwrap().is_empty());
        assert!(!d.is_idle());
        assert_eq!(d.finish(), Err(RecordIoError::Truncated { missing: 7 }));
        let mut d = Decoder::new();
        d.decode(b"12").unwrap();
        assert_eq!(d.finish(), Err(RecordIoError::Truncated { missing: 0 }));
    }
}
