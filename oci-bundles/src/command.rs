//! How a task's `CommandInfo` combines with an image's `Entrypoint`/`Cmd`: Mesos's docker
//! runtime isolator rules (`docs/isolators/docker-runtime.md`,
//! `src/slave/containerizer/mesos/isolators/docker/runtime.cpp`):
//!
//! | CommandInfo | result |
//! |---|---|
//! | `shell` true, `value` set | `/bin/sh -c <value>` (image Entrypoint/Cmd ignored) |
//! | `shell` true, no `value` | error |
//! | `shell` false, `value` set | exec `value` with `arguments` as argv |
//! | `shell` false, no `value`, Entrypoint | Entrypoint + (`arguments` if any, else Cmd) |
//! | `shell` false, no `value`, Cmd only | `Cmd[0]` + (`arguments` if any, else `Cmd[1..]`) |
//! | `shell` false, no `value`, neither | error |

use crate::store::RuntimeConfig;

/// What to execute: the executable and the full argv (`argv[0]` included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchCommand {
    /// Path (or name looked up in `PATH`) of the executable.
    pub path: String,
    /// The argument vector, `argv[0]` first.
    pub argv: Vec<String>,
}

/// A command that cannot be determined.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CommandError {
    /// `shell` without `value`.
    #[error("a shell command needs 'value'")]
    ShellWithoutValue,
    /// Nothing to run: no `value` and the image has neither Entrypoint nor Cmd.
    #[error("no command: CommandInfo has no 'value' and the image has no Entrypoint or Cmd")]
    NothingToRun,
}

/// Combines the task's command with the image's defaults.
pub fn launch_command(
    shell: bool,
    value: Option<&str>,
    arguments: &[String],
    image: &RuntimeConfig,
) -> Result<LaunchCommand, CommandError> {
    let value = value.filter(|v| !v.is_empty());
    if shell {
        let value = value.ok_or(CommandError::ShellWithoutValue)?;
        return Ok(LaunchCommand {
            path: "/bin/sh".into(),
            argv: vec!["sh".into(), "-c".into(), value.into()],
        });
    }
    if let Some(value) = value {
        let argv = if arguments.is_empty() {
            vec![value.to_owned()]
        } else {
            arguments.to_vec()
        };
        return Ok(LaunchCommand {
            path: value.to_owned(),
            argv,
        });
    }
    let nonempty = |v: &Option<Vec<String>>| v.clone().filter(|v| !v.is_empty());
    match (nonempty(&image.entrypoint), nonempty(&image.cmd)) {
        (Some(ep), cmd) => {
            let mut argv = ep.clone();
            if arguments.is_empty() {
                argv.extend(cmd.unwrap_or_default());
            } else {
                argv.extend_from_slice(arguments);
            }
            Ok(LaunchCommand {
                path: ep[0].clone(),
                argv,
            })
        }
        (None, Some(cmd)) => {
            let mut argv = vec![cmd[0].clone()];
            if arguments.is_empty() {
                argv.extend_from_slice(&cmd[1..]);
            } else {
                argv.extend_from_slice(arguments);
            }
            Ok(LaunchCommand {
                path: cmd[0].clone(),
                argv,
            })
        }
        (None, None) => Err(CommandError::NothingToRun),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(ep: Option<&[&str]>, cmd: Option<&[&str]>) -> RuntimeConfig {
        let v = |x: Option<&[&str]>| x.map(|a| a.iter().map(|s| s.to_string()).collect());
        RuntimeConfig {
            entrypoint: v(ep),
            cmd: v(cmd),
            ..RuntimeConfig::default()
        }
    }
    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn follows_the_mesos_table() {
        let both = image(Some(&["/ep", "e1"]), Some(&["c0", "c1"]));
        let ep_only = image(Some(&["/ep", "e1"]), None);
        let cmd_only = image(None, Some(&["/c0", "c1"]));
        let none = image(None, None);
        // sh=0 value=0 argv=0
        assert_eq!(
            launch_command(false, None, &[], &none),
            Err(CommandError::NothingToRun)
        );
        assert_eq!(
            launch_command(false, None, &[], &cmd_only).unwrap().argv,
            s(&["/c0", "c1"])
        );
        assert_eq!(
            launch_command(false, None, &[], &ep_only).unwrap().argv,
            s(&["/ep", "e1"])
        );
        assert_eq!(
            launch_command(false, None, &[], &both).unwrap().argv,
            s(&["/ep", "e1", "c0", "c1"])
        );
        // sh=0 value=0 argv=1
        let a = s(&["a1", "a2"]);
        assert_eq!(
            launch_command(false, None, &a, &cmd_only).unwrap().argv,
            s(&["/c0", "a1", "a2"])
        );
        assert_eq!(
            launch_command(false, None, &a, &both).unwrap().argv,
            s(&["/ep", "e1", "a1", "a2"])
        );
        assert_eq!(launch_command(false, None, &a, &both).unwrap().path, "/ep");
        // sh=0 value=1
        let c = launch_command(false, Some("/bin/echo"), &[], &both).unwrap();
        assert_eq!((c.path.as_str(), c.argv), ("/bin/echo", s(&["/bin/echo"])));
        let c = launch_command(false, Some("/bin/echo"), &s(&["echo", "hi"]), &none).unwrap();
        assert_eq!((c.path.as_str(), c.argv), ("/bin/echo", s(&["echo", "hi"])));
        // sh=1
        assert_eq!(
            launch_command(true, None, &a, &both),
            Err(CommandError::ShellWithoutValue)
        );
        assert_eq!(
            launch_command(true, Some("echo $HOME"), &a, &both)
                .unwrap()
                .argv,
            s(&["sh", "-c", "echo $HOME"])
        );
    }
}
