//! `/files/{browse,read,download}` (Mesos `files.cpp`) and the operator calls LIST_FILES and
//! READ_FILE. Only paths inside `<work_dir>/slaves` are served: the path is canonicalized
//! (so `..` and symlinks pointing out are resolved first) and must stay under that root;
//! anything else is 403, a missing file 404.

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, CONTENT_DISPOSITION, CONTENT_TYPE};
use hyper::Response;
use serde_json::{json, Value as Json};

use super::{json, query_param, HttpError, RespBody};
use crate::daemon::Agent;

/// Largest read served at once.
pub const MAX_READ: u64 = 4 << 20;

/// Routes `/files/<op>`.
pub fn handle(
    agent: &Agent,
    path: &str,
    query: Option<&str>,
) -> Result<Response<RespBody>, HttpError> {
    let op = path.trim_start_matches("/files/").trim_end_matches(".json");
    let requested = query_param(query, "path")
        .ok_or_else(|| HttpError::BadRequest("Expecting 'path=value' in query".into()))?;
    match op {
        "browse" => json(&browse(agent, &requested)?),
        "read" => {
            let offset = number(query, "offset")?;
            let length = number(query, "length")?;
            let (data, offset) = read(agent, &requested, offset, length)?;
            json(&json!({ "data": String::from_utf8_lossy(&data), "offset": offset }))
        }
        "download" => download(agent, &requested),
        _ => Err(HttpError::NotFound(format!("No endpoint at {path}"))),
    }
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

/// Canonicalizes `requested` and checks that it is inside the sandboxes root.
pub fn resolve(agent: &Agent, requested: &str) -> Result<PathBuf, HttpError> {
    let root = agent.config.work_dir.join("slaves");
    let root = root.canonicalize().unwrap_or(root);
    let path = Path::new(requested);
    if !path.is_absolute() {
        return Err(HttpError::BadRequest(format!(
            "'{requested}' is not an absolute path"
        )));
    }
    let real = path.canonicalize().map_err(|_| {
        if path
            .components()
            .any(|c| c == std::path::Component::ParentDir)
        {
            HttpError::Forbidden(format!("'{requested}' is not inside a sandbox"))
        } else {
            HttpError::NotFound(format!("'{requested}' was not found"))
        }
    })?;
    if !real.starts_with(&root) {
        return Err(HttpError::Forbidden(format!(
            "'{requested}' is not inside a sandbox"
        )));
    }
    Ok(real)
}

/// `/files/browse`: the directory's entries, Mesos `FileInfo` JSON.
pub fn browse(agent: &Agent, requested: &str) -> Result<Vec<Json>, HttpError> {
    let dir = resolve(agent, requested)?;
    let entries = std::fs::read_dir(&dir)
        .map_err(|e| HttpError::BadRequest(format!("Cannot list '{requested}': {e}")))?;
    let mut out: Vec<Json> = entries
        .flatten()
        .filter_map(|e| {
            let meta = e.path().symlink_metadata().ok()?;
            Some(file_info(&Path::new(requested).join(e.file_name()), &meta))
        })
        .collect();
    out.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
    Ok(out)
}

fn file_info(path: &Path, meta: &std::fs::Metadata) -> Json {
    let uid = nix::unistd::User::from_uid(meta.uid().into())
        .ok()
        .flatten()
        .map_or_else(|| meta.uid().to_string(), |u| u.name);
    let gid = nix::unistd::Group::from_gid(meta.gid().into())
        .ok()
        .flatten()
        .map_or_else(|| meta.gid().to_string(), |g| g.name);
    json!({
        "path": path.display().to_string(),
        "nlink": meta.nlink(),
        "size": meta.size(),
        "mtime": meta.mtime(),
        "mode": mode_string(meta),
        "uid": uid,
        "gid": gid,
    })
}

fn mode_string(meta: &std::fs::Metadata) -> String {
    let mode = meta.permissions().mode();
    let kind = if meta.is_dir() {
        'd'
    } else if meta.file_type().is_symlink() {
        'l'
    } else {
        '-'
    };
    let mut s = String::from(kind);
    for shift in [6u32, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
}

/// Reads `length` bytes at `offset` (Mesos: no offset, or -1, answers the size and no data).
pub fn read(
    agent: &Agent,
    requested: &str,
    offset: Option<i64>,
    length: Option<i64>,
) -> Result<(Vec<u8>, u64), HttpError> {
    let path = resolve(agent, requested)?;
    if path.is_dir() {
        return Err(HttpError::BadRequest(format!(
            "'{requested}' is a directory"
        )));
    }
    let mut file = std::fs::File::open(&path)
        .map_err(|e| HttpError::NotFound(format!("Failed to open '{requested}': {e}")))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let offset = match offset {
        None | Some(-1) => return Ok((Vec::new(), size)),
        Some(o) => u64::try_from(o)
            .map_err(|_| HttpError::BadRequest(format!("Negative offset provided: {o}")))?,
    };
    let length = match length {
        None | Some(-1) => MAX_READ,
        Some(l) => u64::try_from(l)
            .map_err(|_| HttpError::BadRequest(format!("Negative length provided: {l}")))?
            .min(MAX_READ),
    };
    if offset >= size {
        return Ok((Vec::new(), offset.min(size)));
    }
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| HttpError::BadRequest(format!("Failed to seek: {e}")))?;
    let mut data = Vec::new();
    file.take(length)
        .read_to_end(&mut data)
        .map_err(|e| HttpError::BadRequest(format!("Failed to read: {e}")))?;
    Ok((data, offset))
}

fn download(agent: &Agent, requested: &str) -> Result<Response<RespBody>, HttpError> {
    let path = resolve(agent, requested)?;
    if path.is_dir() {
        return Err(HttpError::BadRequest(format!(
            "Cannot download a directory: '{requested}'"
        )));
    }
    let data = std::fs::read(&path)
        .map_err(|e| HttpError::NotFound(format!("Failed to read '{requested}': {e}")))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut resp = Response::new(Full::new(Bytes::from(data)).boxed());
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename={name}")) {
        resp.headers_mut().insert(CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
