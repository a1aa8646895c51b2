//! How Mesos daemons get their flags, so operators' existing configuration keeps working:
//! `/etc/mesos-<slave|master>/<flag>` files as `mesos-init-wrapper` turns them into arguments
//! (`?flag` files are bare booleans, `attributes/` and `resources/` directories are joined into
//! `k:v;k:v`), `MESOS_<FLAG>` environment variables, and the command line. Later sources win:
//! files < environment < command line. A value `file:///path` is read from that file, as
//! stout's flags do. `--no-<flag>` sets a boolean flag to false.
//!
//! The result is an argument vector for clap; the daemon declares every flag with its Mesos
//! name (`--work_dir`), booleans as `--flag[=true|false]`, and turns on `args_override_self`
//! so a later occurrence overrides an earlier one.

use std::ffi::OsString;
use std::path::Path;

/// A flag source that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FlagsError {
    /// A `file://` value or a configuration file could not be read.
    #[error("reading {path} for --{flag}: {source}")]
    Read {
        /// The flag.
        flag: String,
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Where flags come from, besides the command line.
#[derive(Debug, Clone)]
pub struct FlagSources<'a> {
    /// `/etc/mesos-slave` or `/etc/mesos-master`; skipped when missing.
    pub conf_dir: &'a Path,
    /// Every flag the daemon knows, Mesos names (`work_dir`).
    pub known: &'a [&'a str],
    /// The boolean ones among them.
    pub booleans: &'a [&'a str],
}

/// The flag names a daemon's clap definition declares, and the boolean ones among them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeclaredFlags {
    /// Every long name and alias (flattened groups included; `help` and `version` excluded).
    pub known: Vec<String>,
    /// Those whose value is a `bool` (they also take `--no-<flag>` and bare `?flag` files).
    pub booleans: Vec<String>,
}

impl DeclaredFlags {
    /// Reads `cmd`'s arguments, so the names files and `MESOS_` variables may set can never
    /// drift from the flags the daemon actually parses.
    pub fn of(cmd: &clap::Command) -> Self {
        let mut flags = Self::default();
        for arg in cmd.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if matches!(long, "help" | "version") {
                continue;
            }
            let is_bool = arg.get_value_parser().type_id() == std::any::TypeId::of::<bool>();
            let names = std::iter::once(long).chain(arg.get_all_aliases().unwrap_or_default());
            for name in names {
                flags.known.push(name.to_owned());
                if is_bool {
                    flags.booleans.push(name.to_owned());
                }
            }
        }
        flags
    }
}

/// Builds the argument vector: `argv[0]`, file flags, env flags, then the command line.
pub fn effective_args(
    sources: &FlagSources<'_>,
    env: impl IntoIterator<Item = (String, String)>,
    cli: impl IntoIterator<Item = OsString>,
) -> Result<Vec<OsString>, FlagsError> {
    let mut cli = cli.into_iter();
    let mut args: Vec<OsString> = cli.next().into_iter().collect();
    let mut pairs: Vec<(String, String)> = conf_dir_flags(sources)?;
    let mut env: Vec<(String, String)> = env
        .into_iter()
        .filter_map(|(k, v)| {
            let flag = k.strip_prefix("MESOS_")?.to_ascii_lowercase();
            sources.known.contains(&flag.as_str()).then_some((flag, v))
        })
        .collect();
    env.sort();
    pairs.extend(env);
    for (flag, value) in pairs {
        args.push(format!("--{flag}={}", resolve_value(&flag, &value)?).into());
    }
    for arg in cli {
        args.push(normalize_cli_arg(sources, arg)?);
    }
    Ok(args)
}

/// `--no-flag` → `--flag=false`; `--flag=file:///x` → the file's content.
fn normalize_cli_arg(sources: &FlagSources<'_>, arg: OsString) -> Result<OsString, FlagsError> {
    let Some(s) = arg.to_str() else {
        return Ok(arg);
    };
    if let Some(name) = s.strip_prefix("--no-") {
        if sources.booleans.contains(&name) {
            return Ok(format!("--{name}=false").into());
        }
    }
    if let Some((flag, value)) = s.strip_prefix("--").and_then(|r| r.split_once('=')) {
        if value.starts_with("file://") {
            return Ok(format!("--{flag}={}", resolve_value(flag, value)?).into());
        }
    }
    Ok(arg)
}

/// Flags whose `file:///path` value is a path, as stout's `Path` flags are: the daemon reads
/// the file itself, so `/flags` shows the path and never the secrets inside.
pub const PATH_FLAGS: &[&str] = &["credentials", "http_credentials"];

fn resolve_value(flag: &str, value: &str) -> Result<String, FlagsError> {
    if PATH_FLAGS.contains(&flag) {
        return Ok(value.to_owned());
    }
    match value.strip_prefix("file://") {
        Some(path) => std::fs::read_to_string(path)
            .map(|s| s.trim_end_matches('\n').to_owned())
            .map_err(|source| FlagsError::Read {
                flag: flag.into(),
                path: path.into(),
                source,
            }),
        None => Ok(value.to_owned()),
    }
}

fn conf_dir_flags(sources: &FlagSources<'_>) -> Result<Vec<(String, String)>, FlagsError> {
    let dir = sources.conf_dir;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut names: Vec<_> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let path = dir.join(&name);
        let read = |p: &Path, flag: &str| {
            std::fs::read_to_string(p)
                .map(|s| s.trim().to_owned())
                .map_err(|source| FlagsError::Read {
                    flag: flag.into(),
                    path: p.display().to_string(),
                    source,
                })
        };
        if path.is_dir() {
            if name == "attributes" || name == "resources" {
                let mut kv: Vec<_> = std::fs::read_dir(&path)
                    .map_err(|source| FlagsError::Read {
                        flag: name.clone(),
                        path: path.display().to_string(),
                        source,
                    })?
                    .flatten()
                    .map(|e| e.path())
                    .collect();
                kv.sort();
                let joined: Vec<String> = kv
                    .iter()
                    .map(|p| {
                        Ok(format!(
                            "{}:{}",
                            p.file_name().unwrap_or_default().to_string_lossy(),
                            read(p, &name)?
                        ))
                    })
                    .collect::<Result<_, FlagsError>>()?;
                if !joined.is_empty() {
                    out.push((name, joined.join(";")));
                }
            }
            continue;
        }
        if let Some(flag) = name.strip_prefix('?') {
            // `?no-switch_user` → switch_user=false; `?cgroups_enable_cfs` → true.
            match flag.strip_prefix("no-") {
                Some(f) => out.push((f.to_owned(), "false".into())),
                None => out.push((flag.to_owned(), "true".into())),
            }
            continue;
        }
        if sources.known.contains(&name.as_str()) {
            out.push((name.clone(), read(&path, &name)?));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &[
        "master",
        "work_dir",
        "attributes",
        "resources",
        "switch_user",
        "cgroups_enable_cfs",
        "port",
    ];
    const BOOLS: &[&str] = &["switch_user", "cgroups_enable_cfs"];

    fn args(dir: &Path, env: &[(&str, &str)], cli: &[&str]) -> Vec<String> {
        let sources = FlagSources {
            conf_dir: dir,
            known: KNOWN,
            booleans: BOOLS,
        };
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        let cli = std::iter::once("mesos-agent")
            .chain(cli.iter().copied())
            .map(OsString::from);
        effective_args(&sources, env, cli)
            .unwrap()
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn files_then_env_then_cli() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("master"), "10.0.0.1:5050\n").unwrap();
        std::fs::write(d.path().join("work_dir"), "/var/lib/mesos\n").unwrap();
        std::fs::write(d.path().join("?no-switch_user"), "").unwrap();
        std::fs::write(d.path().join("?cgroups_enable_cfs"), "").unwrap();
        std::fs::write(d.path().join("unknown_thing"), "x").unwrap();
        std::fs::create_dir(d.path().join("attributes")).unwrap();
        std::fs::write(d.path().join("attributes/rack"), "r1\n").unwrap();
        std::fs::write(d.path().join("attributes/zone"), "a").unwrap();
        let a = args(
            d.path(),
            &[
                ("MESOS_PORT", "5052"),
                ("MESOS_NOT_A_FLAG", "1"),
                ("HOME", "/root"),
            ],
            &["--port=5053", "--no-cgroups_enable_cfs"],
        );
        assert_eq!(
            a,
            vec![
                "mesos-agent",
                "--cgroups_enable_cfs=true",
                "--switch_user=false",
                "--attributes=rack:r1;zone:a",
                "--master=10.0.0.1:5050",
                "--work_dir=/var/lib/mesos",
                "--port=5052",
                "--port=5053",
                "--cgroups_enable_cfs=false",
            ]
        );
    }

    #[test]
    fn file_urls_are_read_and_missing_conf_dir_is_fine() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("master.txt");
        std::fs::write(&f, "zk://h:2181/mesos\n").unwrap();
        let a = args(
            &d.path().join("absent"),
            &[],
            &[&format!("--master=file://{}", f.display())],
        );
        assert_eq!(a, vec!["mesos-agent", "--master=zk://h:2181/mesos"]);
        let sources = FlagSources {
            conf_dir: d.path(),
            known: KNOWN,
            booleans: BOOLS,
        };
        let err = effective_args(
            &sources,
            vec![],
            ["x", "--master=file:///nonexistent"].map(OsString::from),
        )
        .unwrap_err();
        assert!(err.to_string().contains("--master"), "{err}");
    }

    #[derive(Debug, clap::Parser)]
    struct Daemon {
        #[arg(long = "work_dir")]
        _work_dir: Option<String>,
        #[arg(long = "strict", default_value = "true", action = clap::ArgAction::Set)]
        _strict: bool,
        #[command(flatten)]
        _group: Group,
    }

    #[derive(Debug, clap::Args)]
    struct Group {
        #[arg(long = "jwt_secret_key", alias = "executor_secret_key")]
        _key: Option<String>,
    }

    #[test]
    fn declared_flags_come_from_the_clap_definition() {
        let d = DeclaredFlags::of(&<Daemon as clap::CommandFactory>::command());
        assert_eq!(
            d.known,
            [
                "work_dir",
                "strict",
                "jwt_secret_key",
                "executor_secret_key"
            ]
        );
        assert_eq!(d.booleans, ["strict"]);
    }
}
