//! Response bodies: a fixed buffer, or a RecordIO event stream fed by a
//! [`crate::master::Sink`] (sent chunked: no length is known).

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use hyper::body::{Frame, SizeHint};

use crate::master::SinkReceiver;

/// Largest chunk assembled from queued events in one write.
const MAX_CHUNK: usize = 256 * 1024;

/// A response body.
#[derive(Debug)]
pub enum Body {
    /// A complete body (taken on first poll).
    Full(Option<Bytes>),
    /// An event stream; ends when every sender is dropped.
    Stream(SinkReceiver),
}

impl Body {
    /// An empty body.
    pub fn empty() -> Self {
        Body::Full(None)
    }

    /// A complete body.
    pub fn full(b: impl Into<Bytes>) -> Self {
        let b = b.into();
        if b.is_empty() {
            Body::Full(None)
        } else {
            Body::Full(Some(b))
        }
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Body::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Body::Stream(rx) => match rx.poll_recv(cx) {
                Poll::Ready(Some(first)) => {
                    // Coalesce whatever else is queued into one chunk.
                    let Ok(next) = rx.try_recv() else {
                        return Poll::Ready(Some(Ok(Frame::data(first))));
                    };
                    let mut buf = BytesMut::with_capacity(first.len() + next.len());
                    buf.extend_from_slice(&first);
                    buf.extend_from_slice(&next);
                    while buf.len() < MAX_CHUNK {
                        match rx.try_recv() {
                            Ok(more) => buf.extend_from_slice(&more),
                            Err(_) => break,
                        }
                    }
                    Poll::Ready(Some(Ok(Frame::data(buf.freeze()))))
                }
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Body::Full(None) => SizeHint::with_exact(0),
            Body::Stream(_) => SizeHint::default(),
        }
    }
}
