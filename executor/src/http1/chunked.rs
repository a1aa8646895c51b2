//! Reading a `Transfer-Encoding: chunked` body piece by piece (the SUBSCRIBE event stream,
//! chunked error bodies): chunk-size lines, data, the CRLF after it, trailers.

use bytes::{Buf, BytesMut};

use super::{Chunk, Connection, HttpError, MAX_BODY, MAX_HEAD};

impl Connection {
    /// The next piece of a chunked body; `None` after the last chunk. Cancel-safe.
    pub async fn next_chunk(&mut self) -> Result<Option<BytesMut>, HttpError> {
        loop {
            match self.chunk {
                Chunk::Done => return Ok(None),
                Chunk::Data(left) if !self.buf.is_empty() => {
                    let take = left.min(self.buf.len());
                    let data = self.buf.split_to(take);
                    self.chunk = if take == left {
                        Chunk::DataEnd
                    } else {
                        Chunk::Data(left - take)
                    };
                    // The CRLF after the data is taken at once when it is here already, so
                    // that a connection between chunks is seen as idle.
                    if self.chunk == Chunk::DataEnd && self.buf.starts_with(b"\r\n") {
                        self.buf.advance(2);
                        self.chunk = Chunk::Size;
                    }
                    return Ok(Some(data));
                }
                Chunk::Data(_) => {}
                Chunk::DataEnd => {
                    if self.buf.len() >= 2 {
                        if &self.buf[..2] != b"\r\n" {
                            return Err(HttpError::Malformed("chunk without CRLF".into()));
                        }
                        self.buf.advance(2);
                        self.chunk = Chunk::Size;
                        continue;
                    }
                }
                Chunk::Size => {
                    if let Some(line_end) = find_crlf(&self.buf) {
                        let size = parse_chunk_size(&self.buf[..line_end])?;
                        self.buf.advance(line_end + 2);
                        self.chunk = if size == 0 {
                            self.skip_trailers().await?;
                            Chunk::Done
                        } else {
                            Chunk::Data(size)
                        };
                        continue;
                    }
                    if self.buf.len() > MAX_HEAD {
                        return Err(HttpError::Malformed("chunk size line too long".into()));
                    }
                }
            }
            self.fill().await?;
        }
    }

    /// Skips trailer lines up to the empty line ending a chunked body.
    async fn skip_trailers(&mut self) -> Result<(), HttpError> {
        loop {
            match find_crlf(&self.buf) {
                Some(0) => {
                    self.buf.advance(2);
                    return Ok(());
                }
                Some(end) => self.buf.advance(end + 2),
                None if self.buf.len() > MAX_HEAD => {
                    return Err(HttpError::Malformed("trailers too large".into()));
                }
                None => self.fill().await?,
            }
        }
    }
}

fn find_crlf(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|w| w == b"\r\n")
}

fn parse_chunk_size(line: &[u8]) -> Result<usize, HttpError> {
    let text = std::str::from_utf8(line).unwrap_or("");
    let hex = text.split(';').next().unwrap_or("").trim();
    usize::from_str_radix(hex, 16)
        .ok()
        .filter(|size| *size <= MAX_BODY * 64)
        .ok_or_else(|| HttpError::Malformed(format!("bad chunk size line {text:?}")))
}
