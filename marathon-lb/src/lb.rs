//! One reconfiguration: Marathon's apps → services → configuration → live in HAProxy, by the
//! runtime API when only servers changed and by a checked, archived reload otherwise. An app
//! whose part of the configuration HAProxy refuses is left out and the rest still applied; a
//! configuration refused for any other reason leaves the running HAProxy as it was.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::apps::{self, HealthCache, Options, Skipped};
use crate::config::{self, GenOptions, Generated};
use crate::haproxy::{self, Haproxy, HaproxyError};
use crate::live::{self, Split};
use crate::templates::Templater;

/// Counters for `/metrics` (Prometheus text).
#[derive(Debug, Default)]
pub struct Metrics {
    /// Reconfigurations that changed something.
    pub reconfigurations: AtomicU64,
    /// HAProxy reloads (or starts).
    pub reloads: AtomicU64,
    /// Reconfigurations done through the runtime API alone.
    pub runtime_updates: AtomicU64,
    /// Reconfigurations that failed (Marathon unreachable, configuration refused).
    pub failures: AtomicU64,
    /// Apps left out for invalid labels or a refused part of the configuration.
    pub apps_skipped: AtomicU64,
    /// Time from the first Marathon event of a batch to the new state being live, last one.
    pub last_event_to_live_us: AtomicU64,
    /// Duration of the last reload.
    pub last_reload_us: AtomicU64,
}

impl Metrics {
    /// The Prometheus exposition text.
    pub fn render(&self) -> String {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        format!(
            "# TYPE marathon_lb_reconfigurations_total counter\nmarathon_lb_reconfigurations_total {}\n\
             # TYPE marathon_lb_reloads_total counter\nmarathon_lb_reloads_total {}\n\
             # TYPE marathon_lb_runtime_updates_total counter\nmarathon_lb_runtime_updates_total {}\n\
             # TYPE marathon_lb_failures_total counter\nmarathon_lb_failures_total {}\n\
             # TYPE marathon_lb_apps_skipped_total counter\nmarathon_lb_apps_skipped_total {}\n\
             # TYPE marathon_lb_event_to_live_seconds gauge\nmarathon_lb_event_to_live_seconds {:.6}\n\
             # TYPE marathon_lb_reload_seconds gauge\nmarathon_lb_reload_seconds {:.6}\n",
            g(&self.reconfigurations),
            g(&self.reloads),
            g(&self.runtime_updates),
            g(&self.failures),
            g(&self.apps_skipped),
            g(&self.last_event_to_live_us) as f64 / 1e6,
            g(&self.last_reload_us) as f64 / 1e6,
        )
    }
}

/// What one reconfiguration did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The configuration was already live.
    Unchanged,
    /// Servers were changed through the runtime API.
    Runtime,
    /// HAProxy was reloaded (or started).
    Reloaded,
}

/// The long-lived state of marathon-lb.
#[derive(Debug)]
pub struct Lb {
    /// Templates.
    pub templates: Templater,
    /// Service options.
    pub opts: Options,
    /// Generation options.
    pub gen: GenOptions,
    /// HAProxy.
    pub haproxy: Haproxy,
    /// `--dry`: print instead of applying.
    pub dry: bool,
    /// Counters.
    pub metrics: Arc<Metrics>,
    health: HealthCache,
    live: Option<Split>,
    live_text: String,
    hosts: HashMap<String, IpAddr>,
    /// Serializes configuration file writes; holds the newest configuration's number, so a
    /// background write of an older one is dropped.
    files: Arc<tokio::sync::Mutex<u64>>,
    generation: u64,
    /// Apps whose part HAProxy refused, with the labels they had then: left out up front until
    /// their labels change, so a bad app does not turn every later change into a reload.
    refused: HashMap<String, String>,
}

/// Rounds of leaving out refused apps before giving up on a configuration.
const MAX_CLEANUP_ROUNDS: usize = 8;

impl Lb {
    /// A new instance; nothing is applied yet.
    pub fn new(
        templates: Templater,
        opts: Options,
        gen: GenOptions,
        haproxy: Haproxy,
        dry: bool,
    ) -> Lb {
        Lb {
            templates,
            opts,
            gen,
            haproxy,
            dry,
            metrics: Arc::default(),
            health: HealthCache::default(),
            live: None,
            live_text: String::new(),
            hosts: HashMap::new(),
            files: Arc::default(),
            generation: 0,
            refused: HashMap::new(),
        }
    }

    async fn resolve_hosts(&mut self, apps: &[serde_json::Value]) {
        for host in apps::hosts_to_resolve(apps) {
            if self.hosts.contains_key(&host) {
                continue;
            }
            let found = tokio::net::lookup_host(format!("{host}:0")).await;
            match found {
                Ok(addrs) => {
                    let addrs: Vec<_> = addrs.collect();
                    // IPv4 first, as upstream's gethostbyname.
                    if let Some(ip) = addrs
                        .iter()
                        .find(|a| a.is_ipv4())
                        .or(addrs.first())
                        .map(|a| a.ip())
                    {
                        self.hosts.insert(host, ip);
                    }
                }
                Err(err) => tracing::warn!(%host, %err, "cannot resolve agent host"),
            }
        }
    }

    /// Forgets resolved host names (at each periodic resync).
    pub fn forget_hosts(&mut self) {
        self.hosts.clear();
    }

    /// Generates the configuration for `apps` (Marathon's `apps` array), leaving out apps
    /// with invalid labels.
    pub async fn generate(&mut self, apps: &[serde_json::Value]) -> (Generated, Vec<Skipped>) {
        self.resolve_hosts(apps).await;
        let hosts = self.hosts.clone();
        let (services, skipped) = apps::services(
            apps,
            &self.opts,
            &|h| hosts.get(h).copied(),
            &mut self.health,
        );
        (
            config::generate(&services, &self.templates, &self.gen),
            skipped,
        )
    }

    /// Makes `apps` live; `since` is when the change was first seen (for the metric).
    pub async fn apply(
        &mut self,
        apps: &[serde_json::Value],
        since: Instant,
    ) -> Result<Applied, HaproxyError> {
        let labels_of = |a: &serde_json::Value| a["labels"].to_string();
        self.refused.retain(|id, labels| {
            apps.iter()
                .any(|a| a["id"].as_str() == Some(id.as_str()) && labels_of(a) == *labels)
        });
        let kept: Vec<serde_json::Value>;
        let apps = if self.refused.is_empty() {
            apps
        } else {
            kept = apps
                .iter()
                .filter(|a| {
                    !self
                        .refused
                        .contains_key(a["id"].as_str().unwrap_or_default())
                })
                .cloned()
                .collect();
            &kept[..]
        };
        let (mut gen, mut skipped) = self.generate(apps).await;
        if self.dry {
            println!("{}", gen.text);
            return Ok(Applied::Unchanged);
        }
        if gen.text == self.live_text && self.haproxy.master_pid().is_some() {
            return Ok(Applied::Unchanged);
        }
        let new_split = live::split(&gen.text);
        if let Some(old) = &self.live {
            if self.haproxy.command.is_none() && self.haproxy.master_pid().is_some() {
                if let Some(cmds) = live::runtime_commands(old, &new_split) {
                    if self.runtime_update(&gen.text, &cmds).await {
                        self.finish(&gen, new_split, since, false);
                        // The file follows, off the path of the next change, so that a later
                        // reload or a restart keeps this state.
                        self.generation += 1;
                        let (me, files) = (self.generation, self.files.clone());
                        let writer = self.file_writer();
                        tokio::spawn(async move {
                            let mut newest = files.lock().await;
                            if *newest < me {
                                *newest = me;
                                if let Err(err) = writer.install(&gen).await {
                                    tracing::error!(%err, "cannot write the configuration file");
                                }
                            }
                        });
                        return Ok(Applied::Runtime);
                    }
                }
            }
        }
        // A reload: check first, leaving out apps whose lines HAProxy refuses.
        let mut excluded: BTreeSet<String> = BTreeSet::new();
        let mut rounds = 0;
        let tmp = loop {
            match self.haproxy.check(&gen.text).await {
                Ok(tmp) => break tmp,
                Err(HaproxyError::Invalid(report)) if rounds < MAX_CLEANUP_ROUNDS => {
                    rounds += 1;
                    let culprits = culprits(&gen, &report);
                    if culprits.is_empty() {
                        self.metrics.failures.fetch_add(1, Ordering::Relaxed);
                        return Err(HaproxyError::Invalid(report));
                    }
                    for app in culprits {
                        tracing::error!(%app, %report, "HAProxy refused this app's configuration; it is left out");
                        skipped.push(Skipped {
                            app_id: app.clone(),
                            reason: "refused by haproxy -c".into(),
                        });
                        if let Some(a) =
                            apps.iter().find(|a| a["id"].as_str() == Some(app.as_str()))
                        {
                            self.refused.insert(app.clone(), labels_of(a));
                        }
                        excluded.insert(app);
                    }
                    let apps: Vec<serde_json::Value> = apps
                        .iter()
                        .filter(|a| !excluded.contains(a["id"].as_str().unwrap_or_default()))
                        .cloned()
                        .collect();
                    gen = self.generate(&apps).await.0;
                }
                Err(e) => {
                    self.metrics.failures.fetch_add(1, Ordering::Relaxed);
                    return Err(e);
                }
            }
        };
        self.metrics
            .apps_skipped
            .fetch_add(skipped.len() as u64, Ordering::Relaxed);
        self.generation += 1;
        let mut newest = self.files.lock().await;
        *newest = self.generation;
        self.haproxy.install(tmp).await?;
        self.file_writer().write_maps(&gen).await?;
        drop(newest);
        let took = self.haproxy.reload().await.inspect_err(|_| {
            self.metrics.failures.fetch_add(1, Ordering::Relaxed);
        })?;
        self.metrics
            .last_reload_us
            .store(micros(took), Ordering::Relaxed);
        let new_split = live::split(&gen.text);
        self.finish(&gen, new_split, since, true);
        Ok(Applied::Reloaded)
    }

    fn finish(&mut self, gen: &Generated, split: Split, since: Instant, reloaded: bool) {
        let m = &self.metrics;
        m.reconfigurations.fetch_add(1, Ordering::Relaxed);
        if reloaded {
            m.reloads.fetch_add(1, Ordering::Relaxed);
        } else {
            m.runtime_updates.fetch_add(1, Ordering::Relaxed);
        }
        m.last_event_to_live_us
            .store(micros(since.elapsed()), Ordering::Relaxed);
        self.live = Some(split);
        self.live_text = gen.text.clone();
    }

    fn file_writer(&self) -> FileWriter {
        FileWriter {
            haproxy: self.haproxy.clone(),
            maps: self
                .gen
                .haproxy_map
                .then(|| PathBuf::from(&self.gen.haproxy_dir)),
        }
    }

    /// Runs `cmds` one at a time; false (and a reload follows) when one fails, except a `del
    /// server` that HAProxy refuses while connections drain: that server stays in maintenance.
    async fn runtime_update(&self, text: &str, cmds: &[String]) -> bool {
        let Some(socket) = haproxy::stats_socket(text) else {
            return false;
        };
        for cmd in cmds {
            match haproxy::runtime(&socket, std::slice::from_ref(cmd)).await {
                Ok(answer) => {
                    if let Some(err) = live::answer_failed(&answer) {
                        if cmd.starts_with("del server") {
                            tracing::info!(%cmd, %err, "server kept in maintenance until its connections end");
                            continue;
                        }
                        tracing::warn!(%cmd, %err, "runtime API refused a change; reloading instead");
                        return false;
                    }
                }
                Err(err) => {
                    tracing::warn!(%cmd, %err, "runtime API failed; reloading instead");
                    return false;
                }
            }
        }
        true
    }
}

/// Writes the configuration and map files.
#[derive(Debug, Clone)]
struct FileWriter {
    haproxy: Haproxy,
    maps: Option<PathBuf>,
}

impl FileWriter {
    async fn install(&self, gen: &Generated) -> Result<(), HaproxyError> {
        let tmp = self.haproxy.check(&gen.text).await?;
        self.haproxy.install(tmp).await?;
        self.write_maps(gen).await
    }

    async fn write_maps(&self, gen: &Generated) -> Result<(), HaproxyError> {
        let Some(dir) = &self.maps else {
            return Ok(());
        };
        for (file, entries) in [
            ("domain2backend.map", &gen.domain_map),
            ("app2backend.map", &gen.app_map),
        ] {
            let text: String = entries.iter().map(|(k, v)| format!("{k} {v}\n")).collect();
            tokio::fs::write(dir.join(file), text)
                .await
                .map_err(|source| HaproxyError::Io {
                    what: format!("cannot write {file}"),
                    source,
                })?;
        }
        Ok(())
    }
}

/// The apps owning the lines `haproxy -c` complained about.
fn culprits(gen: &Generated, report: &str) -> BTreeSet<String> {
    // The report names the temp file; any `<file>:<line>` pair will do.
    let mut out = BTreeSet::new();
    for line in report.lines() {
        for (i, _) in line.match_indices(".cfg:") {
            let n: String = line[i + 5..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Some(owner) = n.parse().ok().and_then(|n: usize| gen.owner_of_line(n)) {
                out.insert(owner.to_owned());
            }
        }
    }
    out
}

/// How long to gather events into one reconfiguration.
pub const COALESCE: Duration = Duration::from_millis(20);

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}
