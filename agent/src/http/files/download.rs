//! The body of `/files/download`: the file read [`CHUNK`] bytes at a time on the bounded
//! blocking pool, the next read started only when hyper asks for the next frame, i.e. once the
//! previous chunk was written to the socket. Memory per download is a chunk or two, whatever
//! the file's size (a sparse 2 GB file is 2 GB of zeros on the wire, not in RSS).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use tokio::task::JoinHandle;

use super::RespBody;
use crate::sandbox_files::{blocking, read_at};

/// Bytes read per step.
pub const CHUNK: usize = 256 << 10;

/// A streamed download of `size` bytes of `file` (`Content-Length: size`). A read error or a
/// file that shrank ends the body early, which hyper reports to the client by closing the
/// connection short of the announced length.
pub fn body(file: std::fs::File, size: u64) -> RespBody {
    FileChunks {
        file: Arc::new(file),
        offset: 0,
        end: size,
        pending: None,
    }
    .boxed()
}

#[derive(Debug)]
struct FileChunks {
    file: Arc<std::fs::File>,
    offset: u64,
    end: u64,
    pending: Option<JoinHandle<Option<Vec<u8>>>>,
}

impl Body for FileChunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.offset >= self.end {
            return Poll::Ready(None);
        }
        let this = &mut *self;
        let pending = this.pending.get_or_insert_with(|| {
            let (file, offset) = (Arc::clone(&this.file), this.offset);
            let len = usize::try_from((this.end - offset).min(CHUNK as u64)).unwrap_or(CHUNK);
            tokio::spawn(async move {
                blocking(move || {
                    read_at(&file, offset, len).map_err(|source| {
                        crate::sandbox_files::FileError::Io {
                            path: String::new(),
                            source,
                        }
                    })
                })
                .await
                .ok()
                .filter(|data| !data.is_empty())
            })
        });
        let chunk = match Pin::new(pending).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result.ok().flatten(),
        };
        this.pending = None;
        match chunk {
            Some(data) => {
                this.offset += data.len() as u64;
                Poll::Ready(Some(Ok(Frame::data(Bytes::from(data)))))
            }
            None => {
                tracing::warn!("download ended early: the file could not be read");
                this.offset = this.end;
                Poll::Ready(None)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.offset >= self.end
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.end - self.offset)
    }
}

impl Drop for FileChunks {
    fn drop(&mut self) {
        if let Some(p) = self.pending.take() {
            p.abort();
        }
    }
}
