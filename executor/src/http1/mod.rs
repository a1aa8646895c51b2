//! A minimal HTTP/1.1 client connection on a tokio `TcpStream` (or, to the agent, a
//! `UnixStream`: [`Stream`]): write one request, read the
//! response head (parsed by `httparse`) and its body, whole or as a stream of chunks.
//!
//! Hand-written rather than hyper's client: the executors only ever POST small JSON bodies
//! to the agent and GET health-check URLs, and hyper's client machinery is ~250 KiB of
//! resident text in every executor process (one per task).
//!
//! Every read goes into the connection's own buffer through `read_buf`, so the streaming
//! reads ([`Connection::next_chunk`]) are cancel-safe.
//!
//! [`head`] parses response heads; [`chunked`] reads `Transfer-Encoding: chunked` bodies.

mod chunked;
mod head;

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpStream, UnixStream};

pub use head::{parse_head, BodyKind, Head};

/// Largest response head accepted.
pub(crate) const MAX_HEAD: usize = 16 * 1024;
/// Largest non-streamed body accepted (error texts, empty 202 bodies).
pub(crate) const MAX_BODY: usize = 1024 * 1024;
/// Headers parsed per response.
const MAX_HEADERS: usize = 32;

/// A broken or unexpected response.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// Reading or writing the socket failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The peer closed the connection before a complete response.
    #[error("connection closed before the response was complete")]
    Closed,
    /// The response is not HTTP/1.1 as expected.
    #[error("malformed HTTP response: {0}")]
    Malformed(String),
}

/// Where a chunked body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk: this many data bytes left.
    Data(usize),
    /// Expecting the CRLF after a chunk's data.
    DataEnd,
    /// The last chunk was read (trailers are skipped).
    Done,
}

/// The socket under a [`Connection`]. (tokio-util's `Either` does this delegation, but the
/// executor's lean static build does not otherwise need that crate.)
#[derive(Debug)]
pub enum Stream {
    /// TCP (the agent's `ip:port`, health-checked services).
    Tcp(TcpStream),
    /// The agent's Unix socket (`MESOS_DOMAIN_SOCKET`).
    Unix(UnixStream),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Self::Unix(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Self::Unix(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_flush(cx),
            Self::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Self::Unix(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

impl std::os::fd::AsFd for Stream {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        match self {
            Self::Tcp(s) => s.as_fd(),
            Self::Unix(s) => s.as_fd(),
        }
    }
}

impl From<TcpStream> for Stream {
    fn from(stream: TcpStream) -> Self {
        Self::Tcp(stream)
    }
}

impl From<UnixStream> for Stream {
    fn from(stream: UnixStream) -> Self {
        Self::Unix(stream)
    }
}

/// One client connection.
#[derive(Debug)]
pub struct Connection {
    stream: Stream,
    buf: BytesMut,
    chunk: Chunk,
}

impl Connection {
    /// Connects to `endpoint` (`host:port`) with Nagle off.
    pub async fn connect(endpoint: &str) -> std::io::Result<Self> {
        let stream = TcpStream::connect(endpoint).await?;
        let _ = stream.set_nodelay(true);
        Ok(Self::new(stream))
    }

    /// Connects to the Unix socket at `path`.
    pub async fn connect_unix(path: &std::path::Path) -> std::io::Result<Self> {
        Ok(Self::new(UnixStream::connect(path).await?))
    }

    /// Wraps a connected stream.
    pub fn new(stream: impl Into<Stream>) -> Self {
        Self {
            stream: stream.into(),
            buf: BytesMut::with_capacity(4096),
            chunk: Chunk::Size,
        }
    }

    /// Whether nothing is buffered and the next byte starts a chunk (or a response): the
    /// connection can be handed over as a bare socket.
    pub fn is_idle(&self) -> bool {
        self.buf.is_empty() && self.chunk == Chunk::Size
    }

    /// The socket.
    pub fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(&self.stream)
    }

    /// Writes a whole request (head and body).
    pub async fn send(&mut self, request: &[u8]) -> std::io::Result<()> {
        self.chunk = Chunk::Size;
        self.stream.write_all(request).await
    }

    /// Reads more bytes into the buffer; `Closed` at end of stream.
    async fn fill(&mut self) -> Result<(), HttpError> {
        if self.stream.read_buf(&mut self.buf).await? == 0 {
            return Err(HttpError::Closed);
        }
        Ok(())
    }

    /// Reads the response head (skipping `1xx` interim responses).
    pub async fn read_head(&mut self) -> Result<Head, HttpError> {
        loop {
            if let Some((len, head)) = parse_head(&self.buf)? {
                self.buf.advance(len);
                if (100..200).contains(&head.status) {
                    continue;
                }
                return Ok(head);
            }
            if self.buf.len() > MAX_HEAD {
                return Err(HttpError::Malformed("response head too large".into()));
            }
            self.fill().await?;
        }
    }

    /// Reads a whole (bounded) body.
    pub async fn read_body(&mut self, kind: BodyKind) -> Result<Vec<u8>, HttpError> {
        let mut out = Vec::new();
        match kind {
            BodyKind::Length(len) => {
                if len > MAX_BODY {
                    return Err(HttpError::Malformed(format!("body of {len} bytes")));
                }
                while self.buf.len() < len {
                    self.fill().await?;
                }
                out.extend_from_slice(&self.buf.split_to(len));
            }
            BodyKind::Chunked => {
                while let Some(data) = self.next_chunk().await? {
                    if out.len() + data.len() > MAX_BODY {
                        return Err(HttpError::Malformed("body too large".into()));
                    }
                    out.extend_from_slice(&data);
                }
            }
            BodyKind::UntilClose => loop {
                match self.fill().await {
                    Ok(()) if self.buf.len() > MAX_BODY => {
                        return Err(HttpError::Malformed("body too large".into()));
                    }
                    Ok(()) => {}
                    Err(HttpError::Closed) => {
                        out.extend_from_slice(&self.buf.split());
                        break;
                    }
                    Err(err) => return Err(err),
                }
            },
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use tokio::net::TcpListener;

    use super::*;

    /// Serves `response` to the first connection, in pieces of 3 bytes.
    async fn serve(response: &'static [u8]) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 256];
            let _ = conn.read(&mut request).await;
            for piece in response.chunks(3) {
                conn.write_all(piece).await.unwrap();
                conn.flush().await.unwrap();
                tokio::task::yield_now().await;
            }
        });
        addr
    }

    #[tokio::test]
    async fn reads_chunked_and_sized_bodies_split_anywhere() {
        let addr = serve(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
              5;x=y\r\nhello\r\nb\r\n, wonderful\r\n0\r\nTrailer: t\r\n\r\n",
        )
        .await;
        let mut conn = Connection::connect(&addr).await.unwrap();
        conn.send(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let head = conn.read_head().await.unwrap();
        assert_eq!(head.status, 200);
        let body = conn.read_body(head.body).await.unwrap();
        assert_eq!(body, b"hello, wonderful");

        let addr = serve(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 4\r\n\r\nnope").await;
        let mut conn = Connection::connect(&addr).await.unwrap();
        conn.send(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let head = conn.read_head().await.unwrap();
        assert_eq!(head.status, 400);
        assert_eq!(conn.read_body(head.body).await.unwrap(), b"nope");
    }
}
