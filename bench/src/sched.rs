//! The benchmarks' scheduler: [`meseta_scheduler::BlockingScheduler`] subscribed to a master
//! on loopback, with implicit acknowledgements.

use std::time::Duration;

use anyhow::{Context, Result};
use meseta_api::FrameworkInfo;
use meseta_scheduler::{BlockingScheduler, Config};

/// Subscribes the framework `name` (user root; `tune` sets more) to 127.0.0.1:`port`.
pub fn subscribe(
    port: u16,
    name: &str,
    tune: impl FnOnce(&mut FrameworkInfo),
) -> Result<BlockingScheduler> {
    let mut framework = FrameworkInfo {
        user: "root".into(),
        name: name.into(),
        ..FrameworkInfo::default()
    };
    tune(&mut framework);
    let config = Config::new(format!("127.0.0.1:{port}"), framework);
    let (sched, _) = BlockingScheduler::connect(config, Duration::from_secs(10))
        .with_context(|| format!("subscribing {name}"))?;
    Ok(sched)
}
