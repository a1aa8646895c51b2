//! The operator's command-line tools for a Meseta agent: [`agentctl`] (inspect containers,
//! follow logs, pull images, dry-run a recovery) and `meseta-run` (start one container with the
//! agent's containerizer, without an agent). The binaries in `src/bin` parse flags and call in
//! here; the agent daemon itself lives in `meseta-agent`.

pub mod agentctl;
