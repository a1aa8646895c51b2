//! `agentctl logs`: a sandbox file read through the agent's `/files/read` endpoint
//! (`?path=<abs path>&offset=N&length=M` → `{"data": "...", "offset": N}`), optionally
//! polled for new data like `tail -f`.

use std::io::Write;
use std::time::Duration;

use serde::Deserialize;

use super::http::{encode_query_value, AgentHttp};
use super::CtlError;

/// Bytes asked for per request.
pub const READ_LENGTH: usize = 64 * 1024;

/// One `/files/read` answer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FileChunk {
    /// The bytes read (as text).
    pub data: String,
    /// Where they start.
    pub offset: u64,
}

/// The `/files/read` request for `path` at `offset`.
pub fn read_path(path: &str, offset: u64) -> String {
    format!(
        "/files/read?path={}&offset={offset}&length={READ_LENGTH}",
        encode_query_value(path)
    )
}

/// Copies `path` (a file in a sandbox, host path) to `out` from the start; with `follow`,
/// keeps polling every `interval` for appended data and never returns `Ok`.
pub async fn copy_file(
    http: &AgentHttp,
    path: &str,
    follow: bool,
    interval: Duration,
    out: &mut impl Write,
) -> Result<(), CtlError> {
    let mut offset = 0u64;
    loop {
        let chunk: FileChunk = http.get_json(&read_path(path, offset)).await?;
        if chunk.data.is_empty() {
            if !follow {
                return Ok(());
            }
            tokio::time::sleep(interval).await;
            continue;
        }
        out.write_all(chunk.data.as_bytes())?;
        out.flush()?;
        offset = chunk.offset + u64::try_from(chunk.data.len()).unwrap_or(u64::MAX);
    }
}
