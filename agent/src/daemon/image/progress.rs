//! Pull progress of containers waiting for their image: per layer, bytes done of total,
//! published for `/containers` (and so `agentctl inspect`) while the image is fetched.

use std::collections::BTreeMap;
use std::sync::{LazyLock, Mutex, MutexGuard};

use oci_bundles::pull::Progress;
use serde::Serialize;
use serde_json::Value as Json;

/// Progress of one layer of a pull.
#[derive(Debug, Clone, Serialize)]
pub struct LayerProgress {
    /// The layer's digest.
    pub digest: String,
    /// Bytes fetched.
    pub done: u64,
    /// Size, when the registry said.
    pub total: Option<u64>,
    /// Already in the store: nothing to fetch.
    pub cached: bool,
}

/// A container waiting for its image.
#[derive(Debug, Clone, Serialize)]
pub struct ImagePull {
    /// The image name.
    pub image: String,
    /// `pulling`, `importing` or `provisioning`.
    pub phase: &'static str,
    /// Per-layer progress (pulls from a registry).
    pub layers: Vec<LayerProgress>,
}

/// Pulls in flight, by container id.
static PULLS: LazyLock<Mutex<BTreeMap<String, ImagePull>>> = LazyLock::new(Mutex::default);

pub(super) fn pulls() -> MutexGuard<'static, BTreeMap<String, ImagePull>> {
    PULLS.lock().unwrap_or_else(|p| p.into_inner())
}

/// The pull progress of `container_id`, while it waits for its image.
pub fn pull_json(container_id: &str) -> Option<Json> {
    pulls()
        .get(container_id)
        .and_then(|p| serde_json::to_value(p).ok())
}

/// Records a pull's progress under the id of the container that fetches, and of every
/// container waiting for the same image; the pull stops when all of them are cancelled.
pub(super) struct Reporter(pub(super) String);

impl Progress for Reporter {
    fn layer(&self, digest: &str, done: u64, total: Option<u64>, cached: bool) {
        let sharing = super::waiting::sharing(&self.0);
        let mut all = pulls();
        for id in sharing {
            let Some(pull) = all.get_mut(&id) else {
                continue;
            };
            let entry = LayerProgress {
                digest: digest.to_owned(),
                done,
                total,
                cached,
            };
            match pull.layers.iter_mut().find(|l| l.digest == digest) {
                Some(l) => *l = entry,
                None => pull.layers.push(entry),
            }
        }
    }

    fn cancelled(&self) -> bool {
        super::waiting::abandoned(&self.0)
    }
}
