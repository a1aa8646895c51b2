//! ZooKeeper mode: state under `--zk_path` and leader election among chronos processes.

use tokio::net::TcpListener;

use crate::flags::Flags;

/// Runs with the state in ZooKeeper.
pub async fn run(flags: Flags, _listener: TcpListener, _me: String) -> anyhow::Result<()> {
    anyhow::bail!(
        "ZooKeeper state (--zk_hosts {}) is not available in this build; use --state_dir",
        flags.zk_hosts
    )
}
