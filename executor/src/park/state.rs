//! The parked executor's state, as the park's memfd holds it.

use meseta_api::{DurationInfo, KillPolicy, TaskId, TaskInfo};

use super::ParkError;

/// What a parked executor remembers (everything else comes back from its environment and
/// flags, which the park passes through unchanged).
///
/// In the memfd as one line `<pid> <task_killing_capable 0|1> <kill grace in ns, or ->`
/// and then the task id. Not JSON: a second call site of the TaskInfo decoder costs every
/// executor ~70 KB of text (~0.1 MiB RSS when it does not park).
#[derive(Debug, Clone)]
pub struct Parked {
    /// The running task. Only its `task_id` and `kill_policy` survive the park: all that a
    /// resumed executor uses (every update was acknowledged, so the TaskInfo is never listed
    /// in a re-SUBSCRIBE again, and tasks with health checks never park).
    pub task: TaskInfo,
    /// The task's pid (and process group).
    pub pid: i32,
    /// Whether the framework understands TASK_KILLING (from SUBSCRIBED).
    pub task_killing_capable: bool,
}

pub(super) fn encode_state(state: &Parked) -> Vec<u8> {
    let grace = state
        .task
        .kill_policy
        .and_then(|p| p.grace_period)
        .map_or_else(|| "-".to_owned(), |g| g.nanoseconds.to_string());
    let killing = u8::from(state.task_killing_capable);
    let mut text = format!("{} {killing} {grace}\n", state.pid).into_bytes();
    text.extend_from_slice(state.task.task_id.value.as_bytes());
    text
}

pub(super) fn decode_state(text: &[u8]) -> Result<Parked, ParkError> {
    let text = std::str::from_utf8(text).map_err(|_| ParkError::Header)?;
    let (header, task_id) = text.split_once('\n').ok_or(ParkError::Header)?;
    let mut fields = header.split(' ');
    let (Some(pid), Some(killing), Some(grace), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(ParkError::Header);
    };
    let grace_period = match grace {
        "-" => None,
        nanos => Some(DurationInfo {
            nanoseconds: nanos.parse().map_err(|_| ParkError::Header)?,
        }),
    };
    Ok(Parked {
        pid: pid.parse().map_err(|_| ParkError::Header)?,
        task_killing_capable: killing == "1",
        task: TaskInfo {
            task_id: TaskId::new(task_id),
            kill_policy: grace_period
                .is_some()
                .then_some(KillPolicy { grace_period }),
            ..TaskInfo::default()
        },
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{decode_state, encode_state, Parked};

    #[test]
    fn the_state_reads_back() {
        use meseta_api::{DurationInfo, KillPolicy, TaskId, TaskInfo};

        let task = TaskInfo {
            task_id: TaskId::new("web 1\u{e9}"),
            kill_policy: Some(KillPolicy {
                grace_period: Some(DurationInfo::from_duration(Duration::from_millis(1500))),
            }),
            ..TaskInfo::default()
        };
        for (task, killing) in [(task.clone(), true), (TaskInfo::default(), false)] {
            let state = Parked {
                task,
                pid: 42,
                task_killing_capable: killing,
            };
            let back = decode_state(&encode_state(&state)).unwrap();
            assert_eq!((back.pid, back.task_killing_capable), (42, killing));
            assert_eq!(back.task.task_id, state.task.task_id);
            assert_eq!(back.task.kill_policy, state.task.kill_policy);
        }
        assert!(decode_state(b"{}").is_err());
        assert!(decode_state(b"1 1\nt").is_err());
    }
}
