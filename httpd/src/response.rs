//! A response body for servers that answer either a complete buffer or an open-ended stream
//! of chunks (Server-Sent Events, RecordIO event streams): a stream ends when its senders are
//! dropped. The server never times a response, so a stream lives as long as the client reads
//! it. Chunks already queued when the connection is ready to write are sent as one write (up
//! to [`MAX_CHUNK`] bytes), so a burst of small events costs one syscall, not one each.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use hyper::body::{Frame, SizeHint};
use tokio::sync::mpsc;

/// Largest chunk assembled from queued stream chunks in one write.
pub const MAX_CHUNK: usize = 256 * 1024;

/// A response body.
#[derive(Debug)]
pub enum ResponseBody {
    /// A complete body (taken on first poll).
    Full(Option<Bytes>),
    /// Chunks from a bounded channel until every sender is dropped.
    Stream(mpsc::Receiver<Bytes>),
    /// Chunks from an unbounded channel until every sender is dropped.
    Unbounded(mpsc::UnboundedReceiver<Bytes>),
}

impl ResponseBody {
    /// An empty body.
    pub fn empty() -> Self {
        Self::Full(None)
    }

    /// A complete body.
    pub fn full(b: impl Into<Bytes>) -> Self {
        let b = b.into();
        if b.is_empty() {
            Self::Full(None)
        } else {
            Self::Full(Some(b))
        }
    }
}

impl From<&'static [u8]> for ResponseBody {
    fn from(b: &'static [u8]) -> Self {
        Self::full(b)
    }
}

impl From<String> for ResponseBody {
    fn from(b: String) -> Self {
        Self::full(b)
    }
}

/// `first` followed by whatever `next` yields without waiting, as one chunk of at most about
/// [`MAX_CHUNK`] bytes.
fn coalesce(first: Bytes, mut next: impl FnMut() -> Option<Bytes>) -> Bytes {
    let Some(second) = next() else {
        return first;
    };
    let mut buf = BytesMut::with_capacity(first.len() + second.len());
    buf.extend_from_slice(&first);
    buf.extend_from_slice(&second);
    while buf.len() < MAX_CHUNK {
        match next() {
            Some(more) => buf.extend_from_slice(&more),
            None => break,
        }
    }
    buf.freeze()
}

type PollFrame = Poll<Option<Result<Frame<Bytes>, Infallible>>>;

fn frame(chunk: Poll<Option<Bytes>>, next: impl FnMut() -> Option<Bytes>) -> PollFrame {
    chunk.map(|c| c.map(|first| Ok(Frame::data(coalesce(first, next)))))
}

impl hyper::body::Body for ResponseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> PollFrame {
        match self.get_mut() {
            Self::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Self::Stream(rx) => {
                let first = rx.poll_recv(cx);
                frame(first, || rx.try_recv().ok())
            }
            Self::Unbounded(rx) => {
                let first = rx.poll_recv(cx);
                frame(first, || rx.try_recv().ok())
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Self::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Self::Full(None) => SizeHint::with_exact(0),
            Self::Stream(_) | Self::Unbounded(_) => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    #[tokio::test]
    async fn queued_chunks_go_out_as_one_frame_and_the_stream_ends_with_its_senders() {
        let (tx, rx) = mpsc::unbounded_channel();
        for c in ["a", "b", "c"] {
            tx.send(Bytes::from_static(c.as_bytes())).unwrap();
        }
        let mut body = ResponseBody::Unbounded(rx);
        let f = body.frame().await.unwrap().unwrap();
        assert_eq!(f.into_data().unwrap(), "abc");
        tx.send(Bytes::from_static(b"d")).unwrap();
        drop(tx);
        let f = body.frame().await.unwrap().unwrap();
        assert_eq!(f.into_data().unwrap(), "d");
        assert!(body.frame().await.is_none());

        let (tx, rx) = mpsc::channel(4);
        tx.send(Bytes::from_static(b"x")).await.unwrap();
        tx.send(Bytes::from_static(b"y")).await.unwrap();
        drop(tx);
        let all = ResponseBody::Stream(rx).collect().await.unwrap().to_bytes();
        assert_eq!(all, "xy");
    }

    #[test]
    fn empty_and_full_bodies_have_exact_sizes() {
        use hyper::body::Body as _;
        assert!(ResponseBody::full(Vec::new()).is_end_stream());
        assert!(ResponseBody::empty().is_end_stream());
        assert_eq!(ResponseBody::full("abc").size_hint().exact(), Some(3));
    }
}
