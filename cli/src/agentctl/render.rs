//! Text output: the `ps` table and the `inspect` sections.

use std::fmt::Write as _;

use super::model::ContainerView;

/// `1.5 GiB`, `12.0 MiB`, `512 B`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    #[allow(clippy::cast_precision_loss)] // display only
    let mut value = bytes as f64 / 1024.0;
    let mut unit = UNITS[0];
    for next in &UNITS[1..] {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

fn or_dash<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn executor_task(view: &ContainerView) -> String {
    let executor = view.executor_id.as_deref().unwrap_or("-");
    let tasks: Vec<&str> = view.tasks.iter().map(|t| t.id.as_str()).collect();
    if tasks.is_empty() {
        executor.to_owned()
    } else {
        format!("{executor}/{}", tasks.join(","))
    }
}

fn state(view: &ContainerView) -> String {
    view.tasks
        .first()
        .and_then(|t| t.state.clone())
        .unwrap_or_else(|| "-".to_owned())
}

/// CPU time used (user + system), with the CPU limit: `0.52s/1.1cpus`.
fn cpu_usage(view: &ContainerView) -> String {
    let stats = view.statistics.as_ref();
    let used = stats.and_then(|s| match (s.cpus_user_time_secs, s.cpus_system_time_secs) {
        (None, None) => None,
        (user, system) => Some(user.unwrap_or(0.0) + system.unwrap_or(0.0)),
    });
    let limit = view
        .limits
        .cpus
        .or_else(|| stats.and_then(|s| s.cpus_limit));
    match (used, limit) {
        (Some(u), Some(l)) => format!("{u:.2}s/{}cpus", format_cpus(l)),
        (Some(u), None) => format!("{u:.2}s"),
        (None, Some(l)) => format!("-/{}cpus", format_cpus(l)),
        (None, None) => "-".to_owned(),
    }
}

/// Memory in use (RSS, else total) with the limit: `3.2 MiB/128.0 MiB`.
fn mem_usage(view: &ContainerView) -> String {
    let stats = view.statistics.as_ref();
    let used = stats.and_then(|s| s.mem_rss_bytes.or(s.mem_total_bytes));
    let limit = view
        .limits
        .mem_bytes
        .or_else(|| stats.and_then(|s| s.mem_limit_bytes));
    match (used, limit) {
        (Some(u), Some(l)) => format!("{}/{}", format_bytes(u), format_bytes(l)),
        (Some(u), None) => format_bytes(u),
        (None, Some(l)) => format!("-/{}", format_bytes(l)),
        (None, None) => "-".to_owned(),
    }
}

/// The `ps` table: a header and one line per container, columns aligned.
pub fn ps(views: &[ContainerView]) -> String {
    let header = [
        "CONTAINER",
        "FRAMEWORK",
        "EXECUTOR/TASK",
        "PID",
        "STATE",
        "CPU",
        "MEM",
    ]
    .map(String::from);
    let rows: Vec<[String; 7]> = views
        .iter()
        .map(|v| {
            [
                v.container_id.clone(),
                v.framework_name
                    .clone()
                    .or_else(|| v.framework_id.clone())
                    .unwrap_or_else(|| "-".into()),
                executor_task(v),
                or_dash(v.pid),
                state(v),
                cpu_usage(v),
                mem_usage(v),
            ]
        })
        .collect();
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<width$}  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The `inspect` sections, one block per container separated by blank lines.
pub fn inspect(views: &[ContainerView]) -> String {
    let mut out = String::new();
    for (i, v) in views.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "Container:   {}", v.container_id);
        let framework = match (&v.framework_name, &v.framework_id) {
            (Some(name), Some(id)) => format!("{name} ({id})"),
            (name, id) => or_dash(name.clone().or_else(|| id.clone())),
        };
        let _ = writeln!(out, "Framework:   {framework}");
        let executor = match (&v.executor_id, &v.executor_name) {
            (Some(id), Some(name)) if name != id => format!("{id} ({name})"),
            (id, _) => or_dash(id.clone()),
        };
        let _ = writeln!(out, "Executor:    {executor}");
        if let Some(pull) = &v.image_pull {
            out.push_str(&image_pull(pull));
        }
        if let Some(source) = &v.source {
            let _ = writeln!(out, "Source:      {source}");
        }
        if v.tasks.is_empty() {
            let _ = writeln!(out, "Tasks:       -");
        }
        for (n, task) in v.tasks.iter().enumerate() {
            let label = if n == 0 { "Tasks:" } else { "" };
            let name = task
                .name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            let state = task.state.as_deref().unwrap_or("-");
            let _ = writeln!(out, "{label:<12} {}{name}  {state}", task.id);
        }
        let supervisor = v
            .supervisor_pid
            .map(|p| format!(" (supervisor {p})"))
            .unwrap_or_default();
        let _ = writeln!(out, "PID:         {}{supervisor}", or_dash(v.pid));
        let recovered = if v.recovered {
            "yes (re-attached after an agent restart)"
        } else {
            "no"
        };
        let _ = writeln!(out, "Recovered:   {recovered}");
        let _ = writeln!(out, "Sandbox:     {}", or_dash(v.sandbox.clone()));
        if v.cgroups.is_empty() {
            let _ = writeln!(out, "Cgroups:     -");
        }
        for (n, cgroup) in v.cgroups.iter().enumerate() {
            let label = if n == 0 { "Cgroups:" } else { "" };
            let _ = writeln!(out, "{label:<12} {cgroup}");
        }
        let cpus = v.limits.cpus.map_or_else(|| "-".to_owned(), format_cpus);
        let mem = v
            .limits
            .mem_bytes
            .map_or_else(|| "-".to_owned(), format_bytes);
        let _ = writeln!(out, "Limits:      cpus {cpus}, mem {mem}");
        out.push_str(&usage(v));
    }
    out
}

// Container images.
/// `Image:` and one line per layer while a container waits for its image.
fn image_pull(pull: &super::model::ImagePull) -> String {
    let mut out = format!("Image:       {} ({})\n", pull.image, pull.phase);
    for l in &pull.layers {
        let short: String = l
            .digest
            .trim_start_matches("sha256:")
            .chars()
            .take(12)
            .collect();
        let progress = if l.cached {
            "already in the store".to_owned()
        } else {
            match l.total {
                Some(t) => format!("{} / {}", format_bytes(l.done), format_bytes(t)),
                None => format_bytes(l.done),
            }
        };
        let _ = writeln!(out, "             {short}  {progress}");
    }
    out
}

/// A CPU count as people write it: Mesos keeps scalars to three decimals, so `0.3`, `1.5`,
/// `2` (not `0.30000000000000004` from summing task and executor shares).
pub fn format_cpus(cpus: f64) -> String {
    let text = format!("{cpus:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text.is_empty() || text == "-" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

fn usage(v: &ContainerView) -> String {
    let Some(s) = &v.statistics else {
        return "Usage:       -\n".to_owned();
    };
    let secs = |x: Option<f64>| x.map_or_else(|| "-".to_owned(), |x| format!("{x:.2}s"));
    let bytes = |x: Option<u64>| x.map_or_else(|| "-".to_owned(), format_bytes);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Usage:       cpu user {}, system {}{}",
        secs(s.cpus_user_time_secs),
        secs(s.cpus_system_time_secs),
        s.cpus_nr_throttled
            .map(|t| format!(", throttled {t} periods"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "             mem rss {}, total {}, cache {}",
        bytes(s.mem_rss_bytes),
        bytes(s.mem_total_bytes),
        bytes(s.mem_cache_bytes)
    );
    let _ = writeln!(
        out,
        "             processes {}, threads {}",
        or_dash(s.processes),
        or_dash(s.threads)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpus_read_as_written() {
        assert_eq!(format_cpus(0.1 + 0.2), "0.3");
        assert_eq!(format_cpus(0.2 + 0.1 + 1.0), "1.3");
        assert_eq!(format_cpus(2.0), "2");
        assert_eq!(format_cpus(1.25), "1.25");
        assert_eq!(format_cpus(0.0001), "0");
    }

    #[test]
    fn bytes_are_human() {
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(128 * 1024 * 1024), "128.0 MiB");
        assert_eq!(format_bytes(3 * 1024 * 1024 * 1024 / 2), "1.5 GiB");
    }
}
