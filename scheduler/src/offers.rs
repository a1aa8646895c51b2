//! Small helpers for frameworks: what an offer holds, and a command task built from it.

use meseta_api::{CommandInfo, Offer, Resource, TaskId, TaskInfo};

/// The total of the scalar resource `name` (e.g. `cpus`, `mem`) in `offer`, all roles.
pub fn scalar(offer: &Offer, name: &str) -> f64 {
    offer
        .resources
        .iter()
        .filter(|r| r.name == name)
        .map(Resource::scalar_value)
        .sum()
}

/// A shell command task named and identified `id` on `offer`'s agent, with `cpus` and
/// `mem` (MB) from the unreserved pool (`*`).
pub fn command_task(id: &str, offer: &Offer, command: &str, cpus: f64, mem: f64) -> TaskInfo {
    TaskInfo {
        name: id.to_string(),
        task_id: TaskId::new(id),
        agent_id: offer.agent_id.clone(),
        resources: vec![Resource::scalar("cpus", cpus), Resource::scalar("mem", mem)],
        command: Some(CommandInfo::shell(command)),
        ..TaskInfo::default()
    }
}
