//! Matching offers to the launch queue: for each offer, apps that want instances (in id
//! order, past their launch delay, while launch tokens last) take `cpus`, `mem`, `disk` and
//! host ports from the offer's resources of acceptable roles, subject to the app's
//! constraints, at most `--max_instances_per_offer` per offer. Each launched instance is
//! stored before the ACCEPT is sent (see [`crate::state::Shared::mutate`]).

use std::collections::BTreeMap;

use meseta_api::{Offer, Ranges, Resource, Scalar};

use super::constraints::{offer_attributes, satisfied, Placement};
use super::taskinfo;
use crate::model::instance::new_task_id;
use crate::model::{timestamp, App, Instance, PathId};
use crate::state::{Command, Core};

/// What is left of an offer.
#[derive(Debug)]
struct Pool {
    res: Vec<Resource>,
}

fn scalar_of(r: &Resource, v: f64) -> Resource {
    let mut out = r.clone();
    out.scalar = Some(Scalar::new(v));
    out
}

impl Pool {
    fn accepted(r: &Resource, roles: &[String]) -> bool {
        let role = r.reservation_role().unwrap_or("*");
        !r.is_revocable() && roles.iter().any(|x| x == role)
    }

    /// Takes `amount` of scalar `name`, or nothing if there is not enough.
    fn take_scalar(
        &mut self,
        name: &str,
        amount: f64,
        roles: &[String],
        out: &mut Vec<Resource>,
    ) -> bool {
        if amount <= 0.0 {
            return true;
        }
        let have: f64 = self
            .res
            .iter()
            .filter(|r| r.name == name && Self::accepted(r, roles))
            .map(Resource::scalar_value)
            .sum();
        if have + 1e-9 < amount {
            return false;
        }
        let mut left = amount;
        for r in self.res.iter_mut().filter(|r| r.name == name) {
            if left <= 1e-9 || !Self::accepted(r, roles) {
                continue;
            }
            let take = r.scalar_value().min(left);
            if take <= 0.0 {
                continue;
            }
            out.push(scalar_of(r, take));
            r.scalar = Some(Scalar::new(r.scalar_value() - take));
            left -= take;
        }
        true
    }

    /// Takes one host port per entry (a fixed port or any), or nothing.
    fn take_ports(
        &mut self,
        wanted: &[Option<u16>],
        roles: &[String],
        out: &mut Vec<Resource>,
    ) -> Option<Vec<u16>> {
        let mut picked: Vec<(usize, u16)> = Vec::new();
        for w in wanted {
            let found = self.res.iter().enumerate().find_map(|(i, r)| {
                if r.name != "ports" || !Self::accepted(r, roles) {
                    return None;
                }
                r.range_slice().iter().find_map(|rg| match w {
                    Some(p) => (u64::from(*p) >= rg.begin
                        && u64::from(*p) <= rg.end
                        && !picked.iter().any(|(_, q)| q == p))
                    .then_some((i, *p)),
                    None => (rg.begin..=rg.end.min(65535))
                        .filter_map(|p| u16::try_from(p).ok())
                        .find(|p| {
                            !picked.iter().any(|(_, q)| q == p) && !wanted.contains(&Some(*p))
                        })
                        .map(|p| (i, p)),
                })
            });
            picked.push(found?);
        }
        let mut by_res: BTreeMap<usize, Vec<u16>> = BTreeMap::new();
        for (i, p) in &picked {
            by_res.entry(*i).or_default().push(*p);
        }
        for (i, ports) in by_res {
            let r = &mut self.res[i];
            let mut task_res = r.clone();
            task_res.ranges = Some(Ranges::new(
                ports.iter().map(|p| (u64::from(*p), u64::from(*p))),
            ));
            out.push(task_res);
            let mut remaining: Vec<(u64, u64)> = Vec::new();
            for rg in r.range_slice() {
                let mut start = rg.begin;
                let mut cut: Vec<u64> = ports
                    .iter()
                    .map(|p| u64::from(*p))
                    .filter(|p| *p >= rg.begin && *p <= rg.end)
                    .collect();
                cut.sort_unstable();
                for c in cut {
                    if c > start {
                        remaining.push((start, c - 1));
                    }
                    start = c + 1;
                }
                if start <= rg.end {
                    remaining.push((start, rg.end));
                }
            }
            r.ranges = Some(Ranges::new(remaining));
        }
        Some(picked.into_iter().map(|(_, p)| p).collect())
    }
}

/// The host ports an instance of `app` asks for (`None`: any).
fn wanted_ports(app: &App) -> Vec<Option<u16>> {
    if app.is_bridge() {
        app.container
            .as_ref()
            .map(|c| {
                c.port_mappings()
                    .iter()
                    .filter_map(|m| m.host_port)
                    .map(|hp| u16::try_from(hp).ok().filter(|p| *p != 0))
                    .collect()
            })
            .unwrap_or_default()
    } else {
        app.port_defs()
            .iter()
            .map(|d| {
                if app.require_ports {
                    u16::try_from(d.port).ok().filter(|p| *p != 0)
                } else {
                    None
                }
            })
            .collect()
    }
}

impl Core {
    /// Uses or declines each offer.
    pub fn handle_offers(&mut self, offers: Vec<Offer>) {
        let mut wanted = self.launch_wanted();
        for offer in offers {
            let tasks = self.fill_offer(&offer, &mut wanted);
            if tasks.is_empty() {
                let refuse = if wanted.is_empty() {
                    self.declined_long = true;
                    self.settings.decline_seconds
                } else {
                    if self.launch_tokens == 0 {
                        self.token_starved = true;
                    }
                    1.0
                };
                self.command(Command::Decline {
                    offer_ids: vec![offer.id.clone()],
                    refuse_seconds: refuse,
                });
            } else {
                self.command(Command::Launch {
                    offer_id: offer.id.clone(),
                    tasks,
                });
            }
        }
    }

    fn fill_offer(
        &mut self,
        offer: &Offer,
        wanted: &mut BTreeMap<PathId, usize>,
    ) -> Vec<meseta_api::TaskInfo> {
        let mut pool = Pool {
            res: offer.resources.clone(),
        };
        let attrs = offer_attributes(offer);
        let mut tasks = Vec::new();
        let max = usize::try_from(self.settings.max_instances_per_offer)
            .unwrap_or(usize::MAX)
            .max(1);
        let ids: Vec<PathId> = wanted.keys().cloned().collect();
        for id in ids {
            let Some(app) = self.apps.get(&id).cloned() else {
                continue;
            };
            while wanted.get(&id).copied().unwrap_or(0) > 0
                && tasks.len() < max
                && self.launch_tokens > 0
            {
                // Without constraints there is nothing to check: skip gathering the
                // placements of every instance (quadratic for a large app).
                if !app.constraints.is_empty() && !self.fits(&app, offer, &attrs) {
                    break;
                }
                let Some(task) = self.place(&app, offer, &mut pool, &attrs) else {
                    break;
                };
                tasks.push(task);
                self.launch_tokens -= 1;
                if let Some(w) = wanted.get_mut(&id) {
                    *w -= 1;
                }
            }
            if wanted.get(&id) == Some(&0) {
                wanted.remove(&id);
            }
        }
        tasks
    }

    /// Whether `offer` satisfies the app's constraints given where its instances run.
    fn fits(&self, app: &App, offer: &Offer, attrs: &BTreeMap<String, String>) -> bool {
        let placements: Vec<(String, BTreeMap<String, String>)> = self
            .instances_of(&app.id)
            .filter(|i| self.counts(i, app))
            .map(|i| (i.host.clone(), i.attributes.clone()))
            .collect();
        let running: Vec<Placement<'_>> = placements
            .iter()
            .map(|(h, a)| Placement {
                host: h,
                attributes: a,
            })
            .collect();
        satisfied(
            &app.constraints,
            &Placement {
                host: &offer.hostname,
                attributes: attrs,
            },
            &running,
        )
    }

    fn place(
        &mut self,
        app: &App,
        offer: &Offer,
        pool: &mut Pool,
        attrs: &BTreeMap<String, String>,
    ) -> Option<meseta_api::TaskInfo> {
        let roles = app.accepted_resource_roles.clone().unwrap_or_else(|| {
            let mut r = vec!["*".to_owned()];
            if self.settings.role != "*" {
                r.push(self.settings.role.clone());
            }
            r
        });
        let saved = pool.res.clone();
        let mut res = Vec::new();
        let ok = pool.take_scalar("cpus", app.cpus, &roles, &mut res)
            && pool.take_scalar("mem", app.mem, &roles, &mut res)
            && pool.take_scalar("disk", app.disk, &roles, &mut res)
            && pool.take_scalar("gpus", app.gpus as f64, &roles, &mut res);
        let ports = if ok {
            pool.take_ports(&wanted_ports(app), &roles, &mut res)
        } else {
            None
        };
        let Some(ports) = ports else {
            pool.res = saved;
            return None;
        };
        let pid = PathId::parse(&app.id).ok()?;
        let task_id = new_task_id(&pid);
        let task = match taskinfo::build(
            app,
            &task_id,
            &offer.agent_id.value,
            &offer.hostname,
            res,
            &ports,
            self.settings.default_user.as_deref(),
        ) {
            Ok(t) => t,
            Err(err) => {
                tracing::error!(app = %app.id, %err, "cannot build a TaskInfo");
                pool.res = saved;
                return None;
            }
        };
        let inst = Instance {
            task_id,
            app_id: app.id.clone(),
            version: app.config_version().to_owned(),
            agent_id: offer.agent_id.value.clone(),
            host: offer.hostname.clone(),
            ports,
            state: "TASK_STAGING".into(),
            staged_at: timestamp(),
            started_at: None,
            healthy: None,
            attributes: attrs.clone(),
            // Host networking: the agent's address (Marathon reports the agent IP).
            ip_addresses: offer
                .url
                .as_ref()
                .and_then(|u| u.address.ip.clone())
                .into_iter()
                .collect(),
            killing: false,
            unreachable_since_ms: None,
            last_status_at: None,
        };
        self.save_instance(inst);
        Some(task)
    }
}
