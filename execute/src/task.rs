//! The task `mesos-execute` launches, and whether an offer can hold it.

use anyhow::Context;
use meseta_api::{CommandInfo, Environment, Offer, Resource, TaskId, TaskInfo};
use meseta_scheduler::scalar;

use crate::flags::Cli;

/// The task's resources and environment, parsed once from the flags.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    resources: Vec<Resource>,
    environment: Option<Environment>,
}

impl Spec {
    /// Parses `--resources` and `--env`.
    pub(crate) fn from_cli(cli: &Cli) -> anyhow::Result<Self> {
        let resources = meseta_api::resource_parse::parse_resources(&cli.resources, "*")
            .context("--resources")?;
        let environment = match &cli.env {
            None => None,
            Some(text) => {
                let map: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(text).context("--env must be a JSON object of strings")?;
                let pairs = map.into_iter().map(|(k, v)| {
                    let v = v
                        .as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| v.to_string());
                    (k, v)
                });
                Some(Environment::from_pairs(pairs))
            }
        };
        Ok(Self {
            resources,
            environment,
        })
    }

    /// Whether `offer` has every scalar resource the task asks for.
    pub(crate) fn fits(&self, offer: &Offer) -> bool {
        self.resources
            .iter()
            .filter(|r| r.scalar.is_some())
            .all(|r| scalar(offer, &r.name) + 1e-9 >= r.scalar_value())
    }

    /// The task for `offer`'s agent.
    pub(crate) fn task(&self, cli: &Cli, offer: &Offer) -> TaskInfo {
        let mut command = CommandInfo {
            value: Some(cli.command.clone()),
            shell: Some(cli.shell),
            environment: self.environment.clone(),
            ..CommandInfo::default()
        };
        if !cli.shell {
            command.arguments = vec![cli.command.clone()];
        }
        TaskInfo {
            name: cli.name.clone(),
            task_id: TaskId::new(&cli.name),
            agent_id: offer.agent_id.clone(),
            resources: self.resources.clone(),
            command: Some(command),
            ..TaskInfo::default()
        }
    }
}
