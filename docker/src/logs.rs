//! The multiplexed stream of `GET /containers/{id}/logs` for a container without a TTY:
//! frames of an 8-byte header (`[stream, 0, 0, 0, len as u32 big-endian]`, stream 1 =
//! stdout, 2 = stderr) followed by `len` bytes.

use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::DockerError;

/// Splits a multiplexed byte stream into (stream, payload) frames; feed it chunks in order.
#[derive(Debug, Default)]
pub struct Demuxer {
    buffer: Vec<u8>,
}

impl Demuxer {
    /// Adds `chunk` and returns every complete frame as `(stream, bytes)`.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<(u8, Vec<u8>)> {
        self.buffer.extend_from_slice(chunk);
        let mut out = Vec::new();
        loop {
            if self.buffer.len() < 8 {
                return out;
            }
            let len = u32::from_be_bytes([
                self.buffer[4],
                self.buffer[5],
                self.buffer[6],
                self.buffer[7],
            ]);
            let len = usize::try_from(len).unwrap_or(usize::MAX);
            let Some(end) = len.checked_add(8).filter(|end| *end <= self.buffer.len()) else {
                return out;
            };
            let stream = self.buffer[0];
            let payload = self.buffer[8..end].to_vec();
            self.buffer.drain(..end);
            out.push((stream, payload));
        }
    }
}

/// Copies a container's log stream to `stdout`/`stderr` until the container's output ends.
pub async fn copy_logs<O, E>(
    mut body: Incoming,
    stdout: &mut O,
    stderr: &mut E,
) -> Result<(), DockerError>
where
    O: AsyncWrite + Unpin,
    E: AsyncWrite + Unpin,
{
    let mut demuxer = Demuxer::default();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        for (stream, payload) in demuxer.push(&data) {
            let result = if stream == 2 {
                stderr.write_all(&payload).await
            } else {
                stdout.write_all(&payload).await
            };
            if let Err(err) = result {
                tracing::warn!(%err, "cannot write the container's output");
            }
        }
        let _ = stdout.flush().await;
        let _ = stderr.flush().await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_across_chunks_are_reassembled() {
        let mut wire = vec![1, 0, 0, 0, 0, 0, 0, 3];
        wire.extend_from_slice(b"out");
        wire.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 2]);
        wire.extend_from_slice(b"er");
        let mut d = Demuxer::default();
        assert!(d.push(&wire[..5]).is_empty());
        let frames = d.push(&wire[5..12]);
        assert_eq!(frames, vec![(1, b"out".to_vec())]);
        assert_eq!(d.push(&wire[12..]), vec![(2, b"er".to_vec())]);
    }
}
