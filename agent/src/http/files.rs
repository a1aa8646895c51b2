//! `/files/{browse,read,download}` (Mesos `files.cpp`) over [`crate::sandbox_files`]: every
//! path is opened beneath its sandbox in one step, only regular files and directories are
//! served, and all file I/O runs on the blocking pool with a bound.
//!
//! Beyond Mesos: `browse` answers at most [`listing::MAX_PAGE`] entries (sorted by path); the
//! `offset` and `limit` query parameters page through larger directories, and the headers
//! `X-Meseta-Total-Entries` and (when more follow) `X-Meseta-Next-Offset` say how. `download`
//! streams the file in [`CHUNK`]-byte reads, each only once the previous one was sent.

mod download;

use std::path::Path;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderName, HeaderValue, CONTENT_DISPOSITION, CONTENT_TYPE};
use hyper::Response;
use nix::sys::stat::{FileStat, SFlag};
use serde_json::{json, Value as Json};

use super::{json, query_param, HttpError, RespBody};
use crate::daemon::Agent;
use crate::sandbox_files::listing::{self, Owners};
use crate::sandbox_files::{self, blocking, FileError};

pub use download::CHUNK;

/// Largest read served at once.
pub const MAX_READ: u64 = 4 << 20;

/// Total entries of a browsed directory.
pub const TOTAL_HEADER: &str = "x-meseta-total-entries";
/// The `offset` of the next page of a browsed directory.
pub const NEXT_HEADER: &str = "x-meseta-next-offset";

impl From<FileError> for HttpError {
    fn from(e: FileError) -> Self {
        let msg = e.to_string();
        match e {
            FileError::NotAbsolute(_)
            | FileError::Unsupported { .. }
            | FileError::IsDirectory(_) => Self::BadRequest(msg),
            FileError::Outside(_) | FileError::Denied(_) => Self::Forbidden(msg),
            FileError::NotFound(_) => Self::NotFound(msg),
            FileError::Io { .. } => Self::BadRequest(msg),
            FileError::Pool => Self::ServiceUnavailable(msg),
        }
    }
}

/// Routes `/files/<op>`.
pub async fn handle(
    agent: &Agent,
    path: &str,
    query: Option<&str>,
) -> Result<Response<RespBody>, HttpError> {
    let op = path.trim_start_matches("/files/").trim_end_matches(".json");
    let requested = query_param(query, "path")
        .ok_or_else(|| HttpError::BadRequest("Expecting 'path=value' in query".into()))?;
    match op {
        "browse" => {
            let offset = number(query, "offset")?.unwrap_or(0).max(0);
            let limit = number(query, "limit")?.map_or(listing::MAX_PAGE as i64, |l| l.max(0));
            let (body, count, total) =
                browse(agent, &requested, to_usize(offset), to_usize(limit)).await?;
            let next = to_usize(offset).saturating_add(count);
            let mut resp = Response::new(Full::new(Bytes::from(body)).boxed());
            resp.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            let headers = resp.headers_mut();
            headers.insert(HeaderName::from_static(TOTAL_HEADER), total.into());
            if next < total && count > 0 {
                headers.insert(HeaderName::from_static(NEXT_HEADER), next.into());
            }
            Ok(resp)
        }
        "read" => {
            let offset = number(query, "offset")?;
            let length = number(query, "length")?;
            let (data, offset, _) = read(agent, &requested, offset, length).await?;
            json(&json!({ "data": String::from_utf8_lossy(&data), "offset": offset }))
        }
        "download" => download(agent, &requested).await,
        _ => Err(HttpError::NotFound(format!("No endpoint at {path}"))),
    }
}

fn to_usize(v: i64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

fn number(query: Option<&str>, name: &str) -> Result<Option<i64>, HttpError> {
    query_param(query, name)
        .map(|v| {
            v.parse::<i64>().map_err(|_| {
                HttpError::BadRequest(format!("Failed to parse {name}: '{v}' is not a number"))
            })
        })
        .transpose()
}

/// One directory entry (or the file itself, browsing a file) as Mesos `FileInfo` JSON.
#[derive(Debug)]
pub struct Info {
    /// The path as the client names it.
    pub path: String,
    /// `lstat` of the entry.
    pub stat: FileStat,
    /// Owner user name.
    pub uid: String,
    /// Owner group name.
    pub gid: String,
}

/// Lists `requested` from `offset` (at most `limit` entries); returns them and the total.
pub async fn list(
    agent: &Agent,
    requested: &str,
    offset: usize,
    limit: usize,
) -> Result<(Vec<Info>, usize), HttpError> {
    let work_dir = agent.config.work_dir.clone();
    let requested = requested.to_owned();
    let result = blocking(move || {
        let opened = sandbox_files::open(&work_dir, &requested)?;
        let mut owners = Owners::default();
        let mut info = |path: String, stat: FileStat| Info {
            path,
            uid: owners.user(stat.st_uid),
            gid: owners.group(stat.st_gid),
            stat,
        };
        if !opened.is_dir {
            // Mesos answers a file's own entry.
            return Ok((vec![info(requested.clone(), opened.stat)], 1));
        }
        let page = listing::list(opened.fd, offset, limit).map_err(|e| FileError::Io {
            path: requested.clone(),
            source: e.into(),
        })?;
        let infos = page
            .entries
            .into_iter()
            .map(|e| {
                info(
                    Path::new(&requested).join(&e.name).display().to_string(),
                    e.stat,
                )
            })
            .collect();
        Ok((infos, page.total))
    })
    .await?;
    Ok(result)
}

async fn browse(
    agent: &Agent,
    requested: &str,
    offset: usize,
    limit: usize,
) -> Result<(Vec<u8>, usize, usize), HttpError> {
    let (infos, total) = list(agent, requested, offset, limit).await?;
    // Up to 10,000 entries become ~3 MB of JSON: built off the runtime, so that `/health`
    // and executor calls are not kept waiting behind a large listing.
    tokio::task::spawn_blocking(move || {
        let json: Vec<Json> = infos
            .iter()
            .map(|i| {
                json!({
                    "path": i.path,
                    "nlink": i.stat.st_nlink,
                    "size": i.stat.st_size,
                    "mtime": i.stat.st_mtime,
                    "mode": mode_string(&i.stat),
                    "uid": i.uid,
                    "gid": i.gid,
                })
            })
            .collect();
        serde_json::to_vec(&json)
            .map(|body| (body, infos.len(), total))
            .map_err(|e| HttpError::BadRequest(format!("encoding the response: {e}")))
    })
    .await
    .map_err(|e| HttpError::ServiceUnavailable(format!("listing failed: {e}")))?
}

fn mode_string(stat: &FileStat) -> String {
    let kind = match SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT {
        SFlag::S_IFDIR => 'd',
        SFlag::S_IFLNK => 'l',
        _ => '-',
    };
    let mode = stat.st_mode;
    let mut s = String::from(kind);
    for shift in [6u32, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
}

/// Reads `length` bytes at `offset` (Mesos: no offset, or -1, answers the size and no data);
/// returns the data, the offset and the file's size.
pub async fn read(
    agent: &Agent,
    requested: &str,
    offset: Option<i64>,
    length: Option<i64>,
) -> Result<(Vec<u8>, u64, u64), HttpError> {
    let offset = match offset {
        None | Some(-1) => None,
        Some(o) => Some(
            u64::try_from(o)
                .map_err(|_| HttpError::BadRequest(format!("Negative offset provided: {o}")))?,
        ),
    };
    let length = match length {
        None | Some(-1) => MAX_READ,
        Some(l) => u64::try_from(l)
            .map_err(|_| HttpError::BadRequest(format!("Negative length provided: {l}")))?
            .min(MAX_READ),
    };
    let work_dir = agent.config.work_dir.clone();
    let requested = requested.to_owned();
    let result = blocking(move || {
        let opened = sandbox_files::open(&work_dir, &requested)?;
        if opened.is_dir {
            return Err(FileError::IsDirectory(requested));
        }
        let size = u64::try_from(opened.stat.st_size).unwrap_or(0);
        let Some(offset) = offset else {
            return Ok((Vec::new(), size, size));
        };
        if offset >= size {
            return Ok((Vec::new(), size, size));
        }
        let len = usize::try_from(length.min(size - offset)).unwrap_or(0);
        let data = sandbox_files::read_at(&std::fs::File::from(opened.fd), offset, len).map_err(
            |source| FileError::Io {
                path: requested,
                source,
            },
        )?;
        Ok((data, offset, size))
    })
    .await?;
    Ok(result)
}

async fn download(agent: &Agent, requested: &str) -> Result<Response<RespBody>, HttpError> {
    let work_dir = agent.config.work_dir.clone();
    let path = requested.to_owned();
    let opened = blocking(move || sandbox_files::open(&work_dir, &path)).await?;
    if opened.is_dir {
        return Err(HttpError::BadRequest(format!(
            "Cannot download a directory: '{requested}'"
        )));
    }
    let size = u64::try_from(opened.stat.st_size).unwrap_or(0);
    let mut resp = Response::new(download::body(std::fs::File::from(opened.fd), size));
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    let name = Path::new(requested)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename={name}")) {
        resp.headers_mut().insert(CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
