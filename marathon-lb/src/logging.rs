//! Logging as upstream's `--syslog-socket`, `--log-format` and `--log-level`: lines laid out
//! by a Python-logging-style format, sent to a syslog datagram socket when one is usable, else
//! to standard error. (tracing-subscriber has no Python format syntax and no syslog writer;
//! both are small enough to write here.)

use std::fmt::Write as _;
use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::sync::Arc;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

/// Formats events with a Python logging format string.
#[derive(Debug, Clone)]
pub struct PyFormat(pub String);

#[derive(Default)]
struct Fields {
    message: String,
    rest: String,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.rest, " {}={value:?}", field.name());
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.rest, " {}={value}", field.name());
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS,mmm` in UTC, Python's `asctime`.
fn asctime() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02},{:03}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_millis()
    )
}

/// Replaces `%(name)<spec>s` fields of `fmt`.
fn render(fmt: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::new();
    let mut rest = fmt;
    while let Some(i) = rest.find("%(") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(close) = after.find(')') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let name = &after[..close];
        let spec_end = after[close + 1..].find('s').map(|s| close + 1 + s);
        let Some(spec_end) = spec_end else {
            out.push_str(&rest[i..]);
            return out;
        };
        let spec = &after[close + 1..spec_end];
        let value = values
            .iter()
            .find(|(k, _)| *k == name)
            .map_or("", |(_, v)| *v);
        let width: usize = spec.trim_start_matches('-').parse().unwrap_or(0);
        if spec.starts_with('-') {
            let _ = write!(out, "{value:<width$}");
        } else {
            let _ = write!(out, "{value:>width$}");
        }
        rest = &after[spec_end + 1..];
    }
    out.push_str(rest);
    out
}

impl<S, N> FormatEvent<S, N> for PyFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let mut f = Fields::default();
        event.record(&mut f);
        let level = match *event.metadata().level() {
            Level::ERROR => "ERROR",
            Level::WARN => "WARNING",
            Level::INFO => "INFO",
            _ => "DEBUG",
        };
        let message = format!("{}{}", f.message, f.rest);
        let line = render(
            &self.0,
            &[
                ("asctime", &asctime()),
                ("name", "marathon_lb"),
                ("levelname", level),
                ("message", &message),
            ],
        );
        writeln!(w, "{line}")
    }
}

/// Where log lines go: a syslog datagram socket, or standard error.
#[derive(Debug, Clone)]
pub struct Sink(Option<Arc<UnixDatagram>>);

impl Sink {
    /// The syslog socket at `path` if one answers there (not `/dev/null`), else stderr.
    pub fn open(path: &Path) -> Sink {
        if path == Path::new("/dev/null") {
            return Sink(None);
        }
        let s = UnixDatagram::unbound().and_then(|s| s.connect(path).map(|()| s));
        Sink(s.ok().map(Arc::new))
    }
}

/// One event's bytes, sent when dropped.
#[derive(Debug)]
pub struct Line(Option<Arc<UnixDatagram>>, Vec<u8>);

impl Write for Line {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.1.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        match &self.0 {
            // <14>: facility user, severity info (RFC 3164).
            Some(sock) => {
                let mut msg = b"<14>marathon-lb: ".to_vec();
                msg.extend_from_slice(self.1.strip_suffix(b"\n").unwrap_or(&self.1));
                let _ = sock.send(&msg);
            }
            None => {
                let _ = std::io::stderr().write_all(&self.1);
            }
        }
    }
}

impl<'a> MakeWriter<'a> for Sink {
    type Writer = Line;
    fn make_writer(&'a self) -> Line {
        Line(self.0.clone(), Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_format_fields_are_filled() {
        assert_eq!(
            render(
                "%(name)s: %(levelname)-7s|%(message)s",
                &[("name", "m"), ("levelname", "INFO"), ("message", "hi")]
            ),
            "m: INFO   |hi"
        );
        assert!(asctime().len() == 23);
    }
}
