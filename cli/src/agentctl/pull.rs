//! `agentctl pull IMAGE`: puts an image in the node's image store (`--docker_store_dir`) ahead
//! of tasks, as the agent's provisioner would, with one progress bar per layer. The source is
//! `--docker_registry` as the agent reads it: a registry URL, or a directory of `docker save`
//! tarballs named `<image>.tar` (Mesos's local puller).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use oci_bundles::pull::{Progress, Puller};
use oci_bundles::{Limits, Reference, Store};

use super::CtlError;

/// Where to pull from and to.
#[derive(Debug, Clone)]
pub struct PullArgs {
    /// The image, e.g. `busybox:latest` or `localhost:5000/team/app:v2`.
    pub image: String,
    /// Registry URL or directory of `docker save` tarballs.
    pub registry: String,
    /// The image store.
    pub store: PathBuf,
    /// Docker `config.json` with registry credentials.
    pub docker_config: Option<PathBuf>,
}

/// One bar per layer, created when the layer's first bytes arrive.
struct Bars {
    multi: MultiProgress,
    bars: Mutex<Vec<(String, ProgressBar)>>,
    style: ProgressStyle,
}

impl Bars {
    fn new() -> Self {
        let style = ProgressStyle::with_template(
            "{prefix:.bold} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        Self {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::default(),
            style,
        }
    }

    fn bar(&self, digest: &str, total: Option<u64>) -> ProgressBar {
        let mut bars = self.bars.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, b)) = bars.iter().find(|(d, _)| d == digest) {
            return b.clone();
        }
        let b = self
            .multi
            .add(ProgressBar::new(total.unwrap_or(0)).with_style(self.style.clone()));
        b.set_prefix(
            digest
                .trim_start_matches("sha256:")
                .chars()
                .take(12)
                .collect::<String>(),
        );
        bars.push((digest.to_owned(), b.clone()));
        b
    }
}

impl Progress for Bars {
    fn layer(&self, digest: &str, done: u64, total: Option<u64>, cached: bool) {
        let b = self.bar(digest, total);
        if let Some(t) = total {
            b.set_length(t);
        }
        b.set_position(done);
        if cached {
            b.finish_with_message("already in the store");
        } else if total.is_some_and(|t| done >= t) {
            b.finish_with_message("done");
        }
    }
}

/// Pulls (or imports) the image; writes one summary line to `out`.
pub fn pull(args: &PullArgs, out: &mut impl Write) -> Result<(), CtlError> {
    let err = |m: String| CtlError::Pull(m);
    let reference = Reference::parse(&args.image).map_err(|e| err(e.to_string()))?;
    let store = Store::open(&args.store, Limits::default()).map_err(|e| err(e.to_string()))?;
    let start = Instant::now();
    let (image, cached) =
        if args.registry.starts_with("http://") || args.registry.starts_with("https://") {
            let config = match &args.docker_config {
                Some(p) => Some(
                    std::fs::read_to_string(p)
                        .map_err(|e| err(format!("--docker_config {}: {e}", p.display())))?,
                ),
                None => None,
            };
            let puller =
                Puller::new(&args.registry, config.as_deref()).map_err(|e| err(e.to_string()))?;
            let bars = Bars::new();
            let image = puller
                .pull(&store, &reference, &bars)
                .map_err(|e| err(e.to_string()))?;
            let cached = bars
                .bars
                .lock()
                .map(|b| {
                    b.iter()
                        .filter(|(_, p)| p.message() == "already in the store")
                        .count()
                })
                .unwrap_or(0);
            (image, cached)
        } else {
            let archive = oci_bundles::local_archive_path(Path::new(&args.registry), &reference);
            if !archive.is_file() {
                return Err(err(format!(
                    "{} not found (--docker_registry is a directory of `docker save` tarballs)",
                    archive.display()
                )));
            }
            let images = oci_bundles::import_docker_archive(&store, &archive)
                .map_err(|e| err(e.to_string()))?;
            let image = images
                .into_iter()
                .find(|i| i.reference == reference.name())
                .ok_or_else(|| {
                    err(format!(
                        "{} does not contain {}",
                        archive.display(),
                        reference.name()
                    ))
                })?;
            (image, 0)
        };
    writeln!(
        out,
        "{}: {} layers ({} already in the store), config {}, in {:.2} s",
        image.reference,
        image.layers.len(),
        cached,
        image.config_digest,
        start.elapsed().as_secs_f64()
    )?;
    Ok(())
}
