//! Garbage collection and disk flags (Mesos names and defaults): `--gc_delay`,
//! `--gc_disk_headroom`, `--disk_watch_interval`, `--container_disk_watch_interval`,
//! `--enforce_container_disk_quota`. Flattened into [`super::AgentFlags`].

use std::time::Duration;

use clap::Args;

use super::{duration, invalid, FlagError};

/// The command-line group.
#[derive(Debug, Clone, Args)]
pub struct GcFlags {
    /// Maximum time a finished executor's sandbox (and its checkpointed meta) is kept before
    /// it is removed; shortened as the disk fills (see --gc_disk_headroom).
    #[arg(long = "gc_delay", default_value = "1weeks")]
    pub gc_delay: String,
    /// Fraction of the disk to keep free: sandboxes are kept for
    /// gc_delay × max(0, 1 − gc_disk_headroom − disk usage). Between 0.0 and 1.0.
    #[arg(long = "gc_disk_headroom", default_value_t = 0.1)]
    pub gc_disk_headroom: f64,
    /// How often the disk usage of --work_dir is checked to prune old sandboxes.
    #[arg(long = "disk_watch_interval", default_value = "1mins")]
    pub disk_watch_interval: String,
    /// How often the disk/du isolator measures each container's sandbox.
    #[arg(long = "container_disk_watch_interval", default_value = "15secs")]
    pub container_disk_watch_interval: String,
    /// With disk/du: destroy a container whose sandbox grows past its `disk` resource
    /// (TASK_FAILED, REASON_CONTAINER_LIMITATION_DISK). Without it usage is only reported.
    #[arg(long = "enforce_container_disk_quota", default_value = "false", num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub enforce_container_disk_quota: bool,
}

/// The validated group.
#[derive(Debug, Clone, PartialEq)]
pub struct GcConfig {
    /// `--gc_delay`.
    pub gc_delay: Duration,
    /// `--gc_disk_headroom`.
    pub gc_disk_headroom: f64,
    /// `--disk_watch_interval`.
    pub disk_watch_interval: Duration,
    /// `--container_disk_watch_interval`.
    pub container_disk_watch_interval: Duration,
    /// `--enforce_container_disk_quota`.
    pub enforce_container_disk_quota: bool,
}

impl GcFlags {
    /// Validates the group.
    pub fn to_config(&self) -> Result<GcConfig, FlagError> {
        if !(0.0..=1.0).contains(&self.gc_disk_headroom) {
            return Err(invalid(
                "gc_disk_headroom",
                format!("{} is not between 0.0 and 1.0", self.gc_disk_headroom),
            ));
        }
        let positive = |flag: &'static str, text: &str| {
            let d = duration(flag, text)?;
            if d.is_zero() {
                return Err(invalid(flag, "must be greater than zero"));
            }
            Ok(d)
        };
        Ok(GcConfig {
            gc_delay: duration("gc_delay", &self.gc_delay)?,
            gc_disk_headroom: self.gc_disk_headroom,
            disk_watch_interval: positive("disk_watch_interval", &self.disk_watch_interval)?,
            container_disk_watch_interval: positive(
                "container_disk_watch_interval",
                &self.container_disk_watch_interval,
            )?,
            enforce_container_disk_quota: self.enforce_container_disk_quota,
        })
    }

    /// The group as `(flag, value)` pairs for `/flags`.
    pub fn as_pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("gc_delay", self.gc_delay.clone()),
            ("gc_disk_headroom", self.gc_disk_headroom.to_string()),
            ("disk_watch_interval", self.disk_watch_interval.clone()),
            (
                "container_disk_watch_interval",
                self.container_disk_watch_interval.clone(),
            ),
            (
                "enforce_container_disk_quota",
                self.enforce_container_disk_quota.to_string(),
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn parse(args: &[&str]) -> Result<GcConfig, FlagError> {
        let mut cli = vec!["mesos-agent", "--master=127.0.0.1:5050", "--work_dir=/tmp"];
        cli.extend(args);
        let flags = super::super::parse(
            Path::new("/nonexistent/meseta-conf"),
            Vec::new(),
            cli.into_iter().map(Into::into),
        )?;
        flags.gc.to_config()
    }

    #[test]
    fn mesos_defaults() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.gc_delay, Duration::from_secs(7 * 86400));
        assert!((c.gc_disk_headroom - 0.1).abs() < f64::EPSILON);
        assert_eq!(c.disk_watch_interval, Duration::from_secs(60));
        assert_eq!(c.container_disk_watch_interval, Duration::from_secs(15));
        assert!(!c.enforce_container_disk_quota);
    }

    #[test]
    fn values_and_bad_input() {
        let c = parse(&["--gc_delay=2secs", "--enforce_container_disk_quota"]).unwrap();
        assert_eq!(c.gc_delay, Duration::from_secs(2));
        assert!(c.enforce_container_disk_quota);
        let err = parse(&["--gc_disk_headroom=1.5"]).unwrap_err().to_string();
        assert_eq!(err, "--gc_disk_headroom: 1.5 is not between 0.0 and 1.0");
        let err = parse(&["--disk_watch_interval=0secs"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("greater than zero"), "{err}");
        let err = parse(&["--gc_delay=soon"]).unwrap_err().to_string();
        assert!(
            err.starts_with("--gc_delay: 'soon' is not a duration"),
            "{err}"
        );
    }
}
