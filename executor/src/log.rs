//! The executors' logging: events to stderr, in `tracing_subscriber::fmt`'s default format
//! (`<time> <LEVEL> <target>: <message> <field>=<value> ...`, no colours), filtered by
//! `RUST_LOG` read as `Targets`.
//!
//! Not `tracing_subscriber::fmt` itself: its registry allocates and zeroes a table for 4,096
//! threads' spans up front, ~12 of the ~100 page faults of an executor, once per task, and the
//! executors create no spans. The formatting is tracing-subscriber's own (its timestamp and
//! `DefaultVisitor`, which also escapes control characters in what tasks and agents send).

use std::io::Write as _;

use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::field::VisitOutput as _;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::{DefaultVisitor, Writer};
use tracing_subscriber::fmt::time::{FormatTime as _, SystemTime};

/// Hands each enabled event, formatted as one line, to `write`; spans are accepted and ignored.
pub(crate) struct EventLines<W> {
    targets: Targets,
    write: W,
}

impl<W: Fn(&str) + Send + Sync + 'static> EventLines<W> {
    pub(crate) fn new(targets: Targets, write: W) -> Self {
        Self { targets, write }
    }
}

/// Writes `line` to stderr in one `write`.
pub(crate) fn to_stderr(line: &str) {
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// One line, newline included, as `tracing_subscriber::fmt` writes it without ANSI colours.
fn format(event: &Event<'_>) -> String {
    let meta = event.metadata();
    let mut line = String::with_capacity(160);
    let _ = SystemTime.format_time(&mut Writer::new(&mut line));
    line.push(' ');
    line.push_str(match *meta.level() {
        Level::TRACE => "TRACE",
        Level::DEBUG => "DEBUG",
        Level::INFO => " INFO",
        Level::WARN => " WARN",
        Level::ERROR => "ERROR",
    });
    line.push(' ');
    line.push_str(meta.target());
    line.push_str(": ");
    let mut visitor = DefaultVisitor::new(Writer::new(&mut line), true);
    event.record(&mut visitor);
    let _ = visitor.finish();
    line.push('\n');
    line
}

impl<W: Fn(&str) + Send + Sync + 'static> Subscriber for EventLines<W> {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if self.enabled(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.targets
            .would_enable(metadata.target(), metadata.level())
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        (self.write)(&format(event));
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines the subscriber writes for the events `emit` emits, under `targets`.
    fn lines(targets: &str, emit: impl FnOnce()) -> Vec<String> {
        use std::sync::{Arc, Mutex};

        let out = Arc::new(Mutex::new(Vec::new()));
        let sink = out.clone();
        let subscriber = EventLines::new(targets.parse().unwrap(), move |line: &str| {
            sink.lock().unwrap().push(line.to_owned());
        });
        tracing::subscriber::with_default(subscriber, emit);
        let lines = out.lock().unwrap().clone();
        lines
    }

    #[test]
    fn an_event_reads_as_tracing_subscribers_default_format() {
        let got = lines("info", || {
            let err = std::io::Error::other("refused");
            tracing::warn!(target: "meseta_executor::link", error = %err, retry_in = ?std::time::Duration::from_millis(10), name = "a b", "cannot subscribe");
        });
        assert_eq!(got.len(), 1, "{got:?}");
        let (stamp, rest) = got[0].split_once(' ').unwrap();
        // 2026-12-07T16:02:37.889440Z
        let shape: String = stamp
            .chars()
            .map(|c| if c.is_ascii_digit() { '9' } else { c })
            .collect();
        assert_eq!(shape, "9999-99-99T99:99:99.999999Z", "{stamp:?}");
        assert_eq!(
            rest,
            " WARN meseta_executor::link: cannot subscribe error=refused retry_in=10ms name=\"a b\"\n"
        );
    }

    /// What `tracing_subscriber::fmt` (the executors' logging before) writes for `emit`.
    fn fmt_lines(emit: impl FnOnce()) -> String {
        use std::sync::{Arc, Mutex};

        #[derive(Clone)]
        struct Buffer(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buffer {
            fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(data);
                Ok(data.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let out = Buffer(Arc::new(Mutex::new(Vec::new())));
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, emit);
        let bytes = out.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn lines_match_tracing_subscribers_fmt_after_the_timestamp() {
        fn emit() {
            let err = std::io::Error::other("no\x1b[31m route");
            tracing::info!(task_id = %"t1", pid = 42, "task started");
            tracing::error!(%err, r#type = "x", "cannot start task: \x1b[2J{}", 7);
            tracing::warn!(timeout = ?std::time::Duration::from_secs(5), "late");
        }
        let ours = lines("trace", emit).concat();
        let theirs = fmt_lines(emit);
        let strip = |text: &str| -> Vec<String> {
            text.lines()
                .map(|l| l.split_once(' ').unwrap().1.to_owned())
                .collect()
        };
        assert_eq!(strip(&ours), strip(&theirs));
        assert_eq!(strip(&ours).len(), 3);
    }

    #[test]
    fn targets_filter_by_level_and_target_and_control_characters_are_escaped() {
        let got = lines("warn,meseta::timing=debug", || {
            tracing::info!("dropped");
            tracing::debug!(target: "meseta::timing", stage = "x", "kept");
            tracing::error!(task_id = "t\x1b[2J", "boom");
        });
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(
            got[0].ends_with("DEBUG meseta::timing: kept stage=\"x\"\n"),
            "{got:?}"
        );
        assert!(got[1].contains("ERROR"), "{got:?}");
        assert!(!got[1].contains('\x1b'), "{got:?}");
    }
}
