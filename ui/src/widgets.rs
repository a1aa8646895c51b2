//! Small building blocks: resource bars, state badges, error/auth banners, key-value lists
//! and number/time formatting.

use maud::{html, Markup};

/// How a state badge is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateClass {
    /// Running, healthy, active.
    Ok,
    /// Starting, staging, draining, killing.
    Warn,
    /// Failed, lost, error, unreachable.
    Bad,
    /// Finished, killed, inactive.
    Idle,
    /// Anything else.
    Info,
}

impl StateClass {
    /// Classifies a Mesos/Marathon/Chronos state name (`TASK_RUNNING`, `healthy`, ...).
    pub fn of(state: &str) -> StateClass {
        let s = state.trim_start_matches("TASK_").to_ascii_uppercase();
        match s.as_str() {
            "RUNNING" | "HEALTHY" | "ACTIVE" | "SUCCESS" | "UP" | "CONNECTED" => StateClass::Ok,
            "STAGING" | "STARTING" | "KILLING" | "DRAINING" | "DEPLOYING" | "DEACTIVATED"
            | "DRAINED" | "QUEUED" | "UNHEALTHY" | "DISCONNECTED" => StateClass::Warn,
            "FAILED" | "LOST" | "ERROR" | "UNREACHABLE" | "GONE" | "GONE_BY_OPERATOR"
            | "DROPPED" | "FAILURE" => StateClass::Bad,
            "FINISHED" | "KILLED" | "INACTIVE" | "DISABLED" | "COMPLETED" => StateClass::Idle,
            _ => StateClass::Info,
        }
    }

    fn css(self) -> &'static str {
        match self {
            StateClass::Ok => "badge ok",
            StateClass::Warn => "badge warn",
            StateClass::Bad => "badge bad",
            StateClass::Idle => "badge idle",
            StateClass::Info => "badge info",
        }
    }
}

/// A coloured badge with the state's name (colour is never the only cue: the text is there).
pub fn state_badge(state: &str) -> Markup {
    html! { span class=(StateClass::of(state).css()) { (state) } }
}

/// A labelled bar: `used` (and optionally a second `extra` segment, e.g. offered) out of
/// `total`, with the numbers as text, formatted by `fmt`.
pub fn resource_bar(
    label: &str,
    used: f64,
    extra: Option<f64>,
    total: f64,
    fmt: fn(f64) -> String,
) -> Markup {
    let pct = |v: f64| {
        if total > 0.0 {
            (v / total * 100.0).clamp(0.0, 100.0)
        } else {
            0.0
        }
    };
    let used_pct = pct(used);
    let extra_pct = extra.map(|e| pct(e).min(100.0 - used_pct));
    html! {
        div class="bar" {
            div class="label" {
                span { (label) }
                span class="mono" {
                    (fmt(used))
                    @if let Some(e) = extra { " + " (fmt(e)) " offered" }
                    " / " (fmt(total))
                }
            }
            div class="track" role="img"
                aria-label=(format!("{label}: {used_pct:.0}% used")) {
                div class="fill" style=(format!("width:{used_pct:.1}%")) {}
                @if let Some(e) = extra_pct {
                    div class="fill alt" style=(format!("left:{used_pct:.1}%;width:{e:.1}%")) {}
                }
            }
        }
    }
}

/// The banner shown when an API refused a request: its status and its own message.
pub fn error_banner(status: u16, message: &str) -> Markup {
    let title = match status {
        401 => "Not authenticated (401)".to_string(),
        403 => "Not allowed (403)".to_string(),
        s => format!("The request failed ({s})"),
    };
    html! {
        div class="banner" role="alert" {
            strong { (title) }
            @if !message.trim().is_empty() { pre { (message) } }
        }
    }
}

/// A neutral notice (e.g. "task kill requested").
pub fn info_banner(message: &str) -> Markup {
    html! { div class="banner info" role="status" { (message) } }
}

/// A full explanation for a 401 or 403 page: what happened and what to do.
pub fn auth_message(status: u16, detail: &str) -> Markup {
    let (title, hint) = if status == 401 {
        (
            "Authentication required (401)",
            "This server has HTTP authentication on. Reload the page and give the same \
             principal and secret you use for its API (HTTP Basic).",
        )
    } else {
        (
            "Access denied (403)",
            "You are signed in, but the server's ACLs do not allow this principal to see or \
             do this. Ask an operator to grant it, or sign in as another principal.",
        )
    };
    html! {
        div class="banner" role="alert" {
            strong { (title) }
            p { (hint) }
            @if !detail.trim().is_empty() { pre { (detail) } }
        }
    }
}

/// A `<dl>` of label/value pairs.
pub fn kv(pairs: &[(&str, Markup)]) -> Markup {
    html! {
        dl class="kv" {
            @for (k, v) in pairs { dt { (k) } dd { (v) } }
        }
    }
}

/// Megabytes as Mesos counts them (`mem`, `disk`) → "1.5 GB", "512 MB".
pub fn fmt_bytes_mb(mb: f64) -> String {
    if mb >= 1024.0 * 1024.0 {
        format!("{:.1} TB", mb / 1024.0 / 1024.0)
    } else if mb >= 1024.0 {
        format!("{:.1} GB", mb / 1024.0)
    } else {
        format!("{mb:.0} MB")
    }
}

/// A duration in seconds → "3d 4h", "5m 2s".
pub fn fmt_duration_secs(secs: f64) -> String {
    // Saturating float→int casts; negative durations show as 0s.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let s = secs.max(0.0) as u64;
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{sec}s"),
        (0, 0, _) => format!("{m}m {sec}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// Seconds since the epoch → "2026-12-06 15:20:26 UTC" (empty for 0 or out of range).
pub fn fmt_unix_time(secs: f64) -> String {
    if secs <= 0.0 || !secs.is_finite() {
        return String::new();
    }
    // Saturating float→int cast of a finite positive value.
    #[allow(clippy::cast_possible_truncation)]
    let whole = secs.floor() as i64;
    chrono::DateTime::from_timestamp(whole, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(fmt_bytes_mb(512.0), "512 MB");
        assert_eq!(fmt_bytes_mb(1536.0), "1.5 GB");
        assert_eq!(fmt_duration_secs(62.0), "1m 2s");
        assert_eq!(fmt_duration_secs(90_000.0), "1d 1h");
        assert_eq!(fmt_unix_time(0.0), "");
        assert_eq!(fmt_unix_time(1.0), "1970-01-01 00:00:01 UTC");
        assert_eq!(StateClass::of("TASK_FAILED"), StateClass::Bad);
        assert_eq!(StateClass::of("TASK_RUNNING"), StateClass::Ok);
    }

    #[test]
    fn banners_escape_messages() {
        let b = error_banner(422, "<script>x</script>").into_string();
        assert!(b.contains("&lt;script&gt;") && b.contains("(422)"));
        let bar = resource_bar("CPUs", 1.0, Some(1.0), 4.0, |v| format!("{v}")).into_string();
        assert!(bar.contains("width:25.0%") && bar.contains("1 + 1 offered / 4"));
    }
}
