//! Parsing a response head (status line and the headers that matter here) with `httparse`.

use super::{HttpError, MAX_HEADERS};

/// How the body of a response is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `Content-Length` bytes.
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the peer closes.
    UntilClose,
}

/// A response status line and the headers that matter here.
#[derive(Debug, Clone, Copy)]
pub struct Head {
    /// HTTP status code.
    pub status: u16,
    /// How the body is delimited.
    pub body: BodyKind,
    /// `Connection: close`.
    pub close: bool,
}

/// Parses a complete response head at the start of `buf`: its length and what it says.
pub fn parse_head(buf: &[u8]) -> Result<Option<(usize, Head)>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(err) => return Err(HttpError::Malformed(err.to_string())),
    };
    let status = response.code.unwrap_or(0);
    let mut body = BodyKind::UntilClose;
    let mut close = response.version == Some(0);
    for header in response.headers.iter() {
        let value = std::str::from_utf8(header.value).unwrap_or("").trim();
        if header.name.eq_ignore_ascii_case("content-length") && body != BodyKind::Chunked {
            let len = value
                .parse()
                .map_err(|_| HttpError::Malformed(format!("Content-Length {value:?}")))?;
            body = BodyKind::Length(len);
        } else if header.name.eq_ignore_ascii_case("transfer-encoding")
            && value.to_ascii_lowercase().ends_with("chunked")
        {
            body = BodyKind::Chunked;
        } else if header.name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        }
    }
    // Statuses that never carry a body.
    if status == 204 || status == 304 {
        body = BodyKind::Length(0);
    }
    Ok(Some((
        len,
        Head {
            status,
            body,
            close,
        },
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_heads() {
        let (len, head) = parse_head(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\nX")
            .unwrap()
            .unwrap();
        assert_eq!(
            (len, head.status, head.body),
            (44, 202, BodyKind::Length(0))
        );
        let (_, head) = parse_head(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(head.body, BodyKind::Chunked);
        assert!(head.close);
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-")
            .unwrap()
            .is_none());
        assert!(parse_head(b"garbage\r\n\r\n").is_err());
    }
}
