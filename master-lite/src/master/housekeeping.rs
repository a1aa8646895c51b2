//! Timers, run from one periodic tick: broken streams, HEARTBEATs to
//! schedulers, PINGs to agents (`unreachable.rs`: an agent is marked
//! unreachable after `--max_agent_ping_timeouts` unanswered PINGs sent every
//! `--agent_ping_timeout`), framework failover timeouts, `--offer_timeout`.

use std::time::{Duration, Instant};

use meseta_api::scheduler::Event;

use super::Master;

impl Master {
    /// How often [`Master::tick`] should run.
    pub fn tick_interval(&self) -> Duration {
        let mut d = self
            .config
            .agent_ping_timeout
            .min(self.config.heartbeat_interval)
            .min(Duration::from_secs(1));
        if let Some(t) = self.config.offer_timeout {
            d = d.min(t);
        }
        d.max(Duration::from_millis(10)) / 2
    }

    /// One housekeeping pass.
    pub fn tick(&mut self) {
        let now = Instant::now();
        self.tick_frameworks(now);
        self.tick_agents(now);
        if let Some(timeout) = self.config.offer_timeout {
            let expired: Vec<String> = self
                .offers
                .iter()
                .filter(|(_, o)| now.duration_since(o.created) >= timeout)
                .map(|(k, _)| k.clone())
                .collect();
            for id in expired {
                tracing::info!(offer_id = %id, "rescinding offer after --offer_timeout");
                self.rescind_offer(&id);
            }
        }
    }

    fn tick_frameworks(&mut self, now: Instant) {
        let heartbeat = now.duration_since(self.last_heartbeat) >= self.config.heartbeat_interval;
        if heartbeat {
            self.last_heartbeat = now;
            self.operator_heartbeat();
        }
        let hb = Event::heartbeat();
        let broken: Vec<String> = self
            .frameworks
            .values()
            .filter(|f| {
                f.stream
                    .as_ref()
                    .is_some_and(|s| s.sink.is_closed() || (heartbeat && !s.sink.send(&hb)))
            })
            .map(|f| f.id.clone())
            .collect();
        for id in broken {
            self.disconnect_framework(&id);
        }
        let grace = self.config.agent_removal_timeout();
        let expired: Vec<String> = self
            .frameworks
            .values()
            .filter(|f| {
                f.disconnected_at.is_some_and(|t| {
                    let mut timeout =
                        Duration::try_from_secs_f64(f.info.failover_timeout_secs().max(0.0))
                            .unwrap_or(Duration::MAX);
                    if f.recovered {
                        // After a master restart, give schedulers the time agents get.
                        timeout = timeout.max(grace);
                    }
                    now.duration_since(t) >= timeout
                })
            })
            .map(|f| f.id.clone())
            .collect();
        for id in expired {
            tracing::info!(framework_id = %id, "framework failover timeout expired");
            if let Err(err) = self.remove_framework(&id) {
                tracing::error!(framework_id = %id, %err, "cannot remove framework");
            }
        }
    }

    fn tick_agents(&mut self, now: Instant) {
        let closed: Vec<String> = self
            .agents
            .values()
            .filter(|a| a.sink.as_ref().is_some_and(super::Sink::is_closed))
            .map(|a| a.id.clone())
            .collect();
        for id in closed {
            self.disconnect_agent(&id);
        }
        if now.duration_since(self.last_agent_heartbeat) >= self.config.agent_ping_timeout {
            self.last_agent_heartbeat = now;
            self.ping_agents();
        }
    }
}
