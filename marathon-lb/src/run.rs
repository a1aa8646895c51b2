//! The main loop: something says "look again" — a Marathon event (with `--sse`), a poll tick,
//! the periodic resync, SIGHUP/SIGUSR1, `/_mlb_signal/*` — and, after a short window in which
//! further triggers are gathered, marathon-lb reads Marathon once and applies the result.
//! A lost event stream triggers a resync and is reopened with backoff (failing over across the
//! `--marathon` URLs).

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use tokio::sync::mpsc;

use crate::lb::Lb;
use crate::marathon::{Marathon, SseLines};

/// Why marathon-lb should look at Marathon again.
#[derive(Debug, Clone, Copy)]
pub struct Trigger {
    /// When the reason arose (for the event-to-live metric).
    pub at: Instant,
}

/// Sends a trigger now.
pub fn trigger(tx: &mpsc::Sender<Trigger>) {
    let _ = tx.try_send(Trigger { at: Instant::now() });
}

/// Reads the event stream forever, triggering on every relevant event.
pub async fn follow_events(marathon: Marathon, tx: mpsc::Sender<Trigger>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match marathon.events().await {
            Ok((url, mut body)) => {
                tracing::info!(%url, "following Marathon's event stream");
                backoff = Duration::from_millis(100);
                trigger(&tx);
                let mut lines = SseLines::default();
                loop {
                    // Marathon sends a keep-alive at least every 30 s; 5 minutes of silence
                    // (upstream's LOW_SPEED_TIME) means the stream is dead.
                    let frame = tokio::time::timeout(Duration::from_secs(300), body.frame()).await;
                    let Ok(Some(Ok(frame))) = frame else {
                        break;
                    };
                    let Some(data) = frame.data_ref() else {
                        continue;
                    };
                    if !lines.feed(data).is_empty() {
                        trigger(&tx);
                    }
                }
                tracing::warn!(%url, "Marathon's event stream ended; resyncing and reconnecting");
                trigger(&tx);
            }
            Err(err) => tracing::warn!(%err, "cannot open Marathon's event stream; retrying"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

/// Triggers every `every` (polling, or the periodic resync).
pub async fn tick(every: Duration, tx: mpsc::Sender<Trigger>) {
    let mut t = tokio::time::interval(every);
    t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        t.tick().await;
        trigger(&tx);
    }
}

/// Triggers on SIGHUP and SIGUSR1 (upstream's reload signals).
pub async fn signals(tx: mpsc::Sender<Trigger>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut hup), Ok(mut usr1)) = (
        signal(SignalKind::hangup()),
        signal(SignalKind::user_defined1()),
    ) else {
        return;
    };
    loop {
        tokio::select! {
            _ = hup.recv() => {},
            _ = usr1.recv() => {},
        }
        tracing::info!("signal received; reconfiguring");
        trigger(&tx);
    }
}

/// Applies Marathon's state each time something triggers, gathering triggers that arrive
/// within `coalesce` of the first.
pub async fn apply_loop(
    lb: Arc<tokio::sync::Mutex<Lb>>,
    marathon: Marathon,
    mut rx: mpsc::Receiver<Trigger>,
    coalesce: Duration,
) {
    while let Some(first) = rx.recv().await {
        tokio::time::sleep(coalesce).await;
        while rx.try_recv().is_ok() {}
        let apps = match marathon.apps().await {
            Ok(apps) => apps,
            Err(err) => {
                tracing::error!(%err, "cannot read apps from Marathon; keeping the current configuration");
                lb.lock()
                    .await
                    .metrics
                    .failures
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                continue;
            }
        };
        let mut lb = lb.lock().await;
        match lb.apply(&apps, first.at).await {
            Ok(done) => tracing::debug!(
                ?done,
                took_ms = u64::try_from(first.at.elapsed().as_millis()).unwrap_or(u64::MAX),
                "reconfigured"
            ),
            Err(err) => {
                tracing::error!(%err, "new configuration not applied; HAProxy keeps the previous one")
            }
        }
    }
}
