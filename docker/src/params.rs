//! `DockerInfo.parameters`: the `docker run --key=value` options Mesos passes through to
//! the CLI, mapped onto the create request's fields. Keys may be given with or without the
//! leading dashes and in their short form (`e`, `v`, `l`, `p`, `m`, `c`, `u`, `w`, `h`).
//! A key without a mapping is refused with a clear error rather than silently dropped.

use std::collections::BTreeMap;

use crate::types::{ContainerConfig, DeviceMapping, Empty, LogConfig, PortBinding, Ulimit};
use crate::DockerError;

/// Every key [`apply`] understands (long forms), for error messages and documentation.
pub const SUPPORTED: &[&str] = &[
    "env",
    "volume",
    "label",
    "publish",
    "expose",
    "memory",
    "memory-swap",
    "cpu-shares",
    "cpus",
    "cpu-quota",
    "cpu-period",
    "user",
    "workdir",
    "hostname",
    "entrypoint",
    "cap-add",
    "cap-drop",
    "dns",
    "dns-search",
    "dns-option",
    "add-host",
    "network",
    "net",
    "privileged",
    "read-only",
    "shm-size",
    "ulimit",
    "tmpfs",
    "device",
    "security-opt",
    "pid",
    "ipc",
    "oom-kill-disable",
    "init",
    "log-driver",
    "log-opt",
    "stop-signal",
    "volume-driver",
];

fn invalid(key: &str, value: &str, why: &str) -> DockerError {
    DockerError::Invalid(format!("docker parameter --{key}={value}: {why}"))
}

/// Applies one `--key=value` parameter to `config`.
pub fn apply(config: &mut ContainerConfig, key: &str, value: &str) -> Result<(), DockerError> {
    let key = key.trim_start_matches('-');
    let host = &mut config.host_config;
    let boolean = || parse_bool(value).ok_or_else(|| invalid(key, value, "expected true or false"));
    let number = || {
        value
            .trim()
            .parse::<i64>()
            .map_err(|_| invalid(key, value, "expected an integer"))
    };
    match key {
        "env" | "e" => config.env.push(value.to_owned()),
        "volume" | "v" => host.binds.push(value.to_owned()),
        "volume-driver" => host.volume_driver = Some(value.to_owned()),
        "label" | "l" => {
            let (k, v) = value.split_once('=').unwrap_or((value, ""));
            config.labels.insert(k.to_owned(), v.to_owned());
        }
        "publish" | "p" => publish(config, value).map_err(|why| invalid(key, value, &why))?,
        "expose" => {
            let port = with_protocol(value);
            config.exposed_ports.insert(port, Empty {});
        }
        "memory" | "m" => {
            host.memory =
                Some(size(value).ok_or_else(|| invalid(key, value, "expected a size like 512m"))?)
        }
        "memory-swap" => {
            host.memory_swap = Some(if value.trim() == "-1" {
                -1
            } else {
                size(value).ok_or_else(|| invalid(key, value, "expected a size like 1g or -1"))?
            });
        }
        "shm-size" => {
            host.shm_size =
                Some(size(value).ok_or_else(|| invalid(key, value, "expected a size like 64m"))?)
        }
        "cpu-shares" | "c" => host.cpu_shares = Some(number()?),
        "cpu-quota" => host.cpu_quota = Some(number()?),
        "cpu-period" => host.cpu_period = Some(number()?),
        "cpus" => {
            let cpus: f64 = value
                .trim()
                .parse()
                .map_err(|_| invalid(key, value, "expected a number"))?;
            if !(cpus.is_finite() && cpus > 0.0 && cpus < 1e6) {
                return Err(invalid(key, value, "expected a positive number"));
            }
            // Checked above: 0 < cpus < 1e6, so cpus * 1e9 fits an i64.
            #[allow(clippy::cast_possible_truncation)]
            let nanos = (cpus * 1e9).round() as i64;
            host.nano_cpus = Some(nanos);
        }
        "user" | "u" => config.user = Some(value.to_owned()),
        "workdir" | "w" => config.working_dir = Some(value.to_owned()),
        "hostname" | "h" => config.hostname = Some(value.to_owned()),
        "entrypoint" => config.entrypoint = Some(vec![value.to_owned()]),
        "stop-signal" => config.stop_signal = Some(value.to_owned()),
        "cap-add" => host.cap_add.push(value.to_owned()),
        "cap-drop" => host.cap_drop.push(value.to_owned()),
        "dns" => host.dns.push(value.to_owned()),
        "dns-search" => host.dns_search.push(value.to_owned()),
        "dns-option" | "dns-opt" => host.dns_options.push(value.to_owned()),
        "add-host" => host.extra_hosts.push(value.to_owned()),
        "network" | "net" => host.network_mode = Some(value.to_owned()),
        "privileged" => host.privileged = boolean()?,
        "read-only" => host.readonly_rootfs = boolean()?,
        "oom-kill-disable" => host.oom_kill_disable = Some(boolean()?),
        "init" => host.init = Some(boolean()?),
        "pid" => host.pid_mode = Some(value.to_owned()),
        "ipc" => host.ipc_mode = Some(value.to_owned()),
        "security-opt" => host.security_opt.push(value.to_owned()),
        "ulimit" => host
            .ulimits
            .push(ulimit(value).ok_or_else(|| invalid(key, value, "expected name=soft[:hard]"))?),
        "tmpfs" => {
            let (path, options) = value.split_once(':').unwrap_or((value, ""));
            host.tmpfs.insert(path.to_owned(), options.to_owned());
        }
        "device" => host.devices.push(device(value)),
        "log-driver" => {
            host.log_config.get_or_insert_with(LogConfig::default).kind = value.to_owned()
        }
        "log-opt" => {
            let (k, v) = value
                .split_once('=')
                .ok_or_else(|| invalid(key, value, "expected key=value"))?;
            let log = host.log_config.get_or_insert_with(LogConfig::default);
            log.config.insert(k.to_owned(), v.to_owned());
        }
        "name" => {
            return Err(invalid(key, value, "the container name is set by the agent (mesos-<container id>) and cannot be overridden"));
        }
        _ => {
            return Err(DockerError::Invalid(format!(
                "unsupported docker parameter '--{key}' (supported: {})",
                SUPPORTED.join(", ")
            )))
        }
    }
    Ok(())
}

/// `"80"` → `"80/tcp"`; `"53/udp"` stays.
pub fn with_protocol(port: &str) -> String {
    if port.contains('/') {
        port.to_owned()
    } else {
        format!("{port}/tcp")
    }
}

/// `-p [ip:][hostPort:]containerPort[/proto]`.
fn publish(config: &mut ContainerConfig, value: &str) -> Result<(), String> {
    let parts: Vec<&str> = value.rsplitn(3, ':').collect();
    let (ip, host_port, container) = match parts.as_slice() {
        [c] => ("", "", *c),
        [c, h] => ("", *h, *c),
        [c, h, ip] => (*ip, *h, *c),
        _ => return Err("expected [ip:][hostPort:]containerPort[/protocol]".into()),
    };
    let number = container.split('/').next().unwrap_or_default();
    if number.parse::<u16>().is_err()
        || (!host_port.is_empty() && host_port.parse::<u16>().is_err())
    {
        return Err("ports must be numbers from 0 to 65535".into());
    }
    let key = with_protocol(container);
    config.exposed_ports.insert(key.clone(), Empty {});
    config
        .host_config
        .port_bindings
        .entry(key)
        .or_default()
        .push(PortBinding {
            host_ip: ip.to_owned(),
            host_port: host_port.to_owned(),
        });
    Ok(())
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim() {
        "" | "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// Docker sizes: a number with an optional `b`, `k`, `m` or `g` (powers of 1024).
pub fn size(value: &str) -> Option<i64> {
    let value = value.trim().to_ascii_lowercase();
    let value = value
        .strip_suffix('b')
        .filter(|v| !v.is_empty() && v.ends_with(|c: char| c.is_ascii_alphabetic()))
        .map(str::to_owned)
        .unwrap_or(value);
    let (number, factor) = match value.chars().last()? {
        'k' => (&value[..value.len() - 1], 1i64 << 10),
        'm' => (&value[..value.len() - 1], 1 << 20),
        'g' => (&value[..value.len() - 1], 1 << 30),
        'b' => (&value[..value.len() - 1], 1),
        _ => (value.as_str(), 1),
    };
    number
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)?
        .checked_mul(factor)
}

fn ulimit(value: &str) -> Option<Ulimit> {
    let (name, limits) = value.split_once('=')?;
    let (soft, hard) = limits.split_once(':').unwrap_or((limits, limits));
    Some(Ulimit {
        name: name.to_owned(),
        soft: soft.parse().ok()?,
        hard: hard.parse().ok()?,
    })
}

fn device(value: &str) -> DeviceMapping {
    let mut parts = value.splitn(3, ':');
    let host = parts.next().unwrap_or_default().to_owned();
    let inside = parts
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or(&host)
        .to_owned();
    let perms = parts.next().unwrap_or("rwm").to_owned();
    DeviceMapping {
        path_on_host: host,
        path_in_container: inside,
        cgroup_permissions: perms,
    }
}

/// Labels given as `key=value` pairs, for callers that add their own.
pub fn labels<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_parameters_map_onto_the_request() {
        let mut c = ContainerConfig::default();
        for (k, v) in [
            ("env", "A=1"),
            ("-v", "/tmp:/data:ro"),
            ("label", "team=core"),
            ("publish", "127.0.0.1:8080:80"),
            ("memory", "64m"),
            ("cpu-shares", "512"),
            ("user", "nobody"),
            ("workdir", "/w"),
            ("hostname", "box"),
            ("ulimit", "nofile=1024:2048"),
        ] {
            apply(&mut c, k, v).unwrap();
        }
        assert_eq!(c.env, ["A=1"]);
        assert_eq!(c.host_config.binds, ["/tmp:/data:ro"]);
        assert_eq!(c.labels["team"], "core");
        let b = &c.host_config.port_bindings["80/tcp"][0];
        assert_eq!(
            (b.host_ip.as_str(), b.host_port.as_str()),
            ("127.0.0.1", "8080")
        );
        assert_eq!(c.host_config.memory, Some(64 << 20));
        assert_eq!(c.host_config.cpu_shares, Some(512));
        assert_eq!(c.user.as_deref(), Some("nobody"));
        assert_eq!(c.host_config.ulimits[0].hard, 2048);
    }

    #[test]
    fn unknown_and_malformed_parameters_are_refused() {
        let mut c = ContainerConfig::default();
        let e = apply(&mut c, "frobnicate", "1").unwrap_err().to_string();
        assert!(
            e.contains("unsupported docker parameter '--frobnicate'"),
            "{e}"
        );
        assert!(apply(&mut c, "memory", "lots").is_err());
        assert!(apply(&mut c, "publish", "x:80").is_err());
        assert!(apply(&mut c, "name", "mine").is_err());
        assert_eq!(size("1g"), Some(1 << 30));
        assert_eq!(size("100"), Some(100));
        assert_eq!(size("2kb"), Some(2048));
    }
}
