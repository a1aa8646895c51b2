//! Offers: allocation cycles turned into OFFERS events, ACCEPT (LAUNCH) and
//! DECLINE, and rescinds (agent gone, `--offer_timeout`).

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use meseta_api::scheduler::{Accept, Decline, Event};
use meseta_api::{
    AgentId, AllocationInfo, ExecutorId, FrameworkId, Offer, OfferId, OfferOperationType, Reason,
    TaskInfo, TaskState,
};

use super::{Master, OfferRec};
use crate::allocator::Resources;
use crate::convert::to_wire;

impl Master {
    /// One regular allocation cycle: offers go out as one OFFERS event per
    /// framework.
    pub fn allocate(&mut self) {
        let now = self.now_nanos();
        let started = Instant::now();
        let made = self.allocator.allocate(now);
        self.counters.last_allocation_ms = started.elapsed().as_secs_f64() * 1000.0;
        self.send_offers(made, now);
    }

    /// One event-triggered cycle: like [`Master::allocate`], but agents are
    /// handed out in strict DRF order (`Allocator::allocate_triggered`).
    pub fn allocate_triggered(&mut self) {
        let now = self.now_nanos();
        let started = Instant::now();
        let made = self.allocator.allocate_triggered(now);
        self.counters.last_allocation_ms = started.elapsed().as_secs_f64() * 1000.0;
        self.send_offers(made, now);
    }

    fn send_offers(&mut self, made: Vec<crate::allocator::Offer>, now: u64) {
        self.counters.allocation_runs += 1;
        if made.is_empty() {
            return;
        }
        let mut by_fw: HashMap<String, Vec<Offer>> = HashMap::new();
        for o in made {
            let (fw_id, agent_id) = (o.framework_id.to_string(), o.agent_id.to_string());
            let connected = self
                .frameworks
                .get(&fw_id)
                .is_some_and(|f| f.stream.is_some());
            let Some(agent) = self.agents.get(&agent_id).filter(|_| connected) else {
                let _ = self
                    .allocator
                    .recover(&agent_id, &fw_id, &o.resources, None, now);
                continue;
            };
            let executor_ids: Vec<ExecutorId> = self
                .frameworks
                .get(&fw_id)
                .map(|f| {
                    f.executors
                        .keys()
                        .filter(|(a, _)| *a == agent_id)
                        .map(|(_, e)| ExecutorId::new(e.clone()))
                        .collect()
                })
                .unwrap_or_default();
            let id = format!("{}-O{}", self.info.id, self.next_offer);
            self.next_offer += 1;
            let offer = Offer {
                id: OfferId::new(id.clone()),
                framework_id: FrameworkId::new(fw_id.clone()),
                agent_id: AgentId::new(agent_id.clone()),
                hostname: agent.info.hostname.clone(),
                resources: to_wire(&o.resources),
                attributes: agent.info.attributes.clone(),
                executor_ids,
                allocation_info: Some(AllocationInfo {
                    role: Some(o.role.to_string()),
                }),
                ..Offer::default()
            };
            self.offers.insert(
                id.clone(),
                OfferRec {
                    offer: offer.clone(),
                    alloc: o.resources,
                    created: Instant::now(),
                },
            );
            if let Some(fw) = self.frameworks.get_mut(&fw_id) {
                fw.offers.insert(id);
            }
            by_fw.entry(fw_id).or_default().push(offer);
        }
        for (fw_id, offers) in by_fw {
            if let Some(s) = self.frameworks.get(&fw_id).and_then(|f| f.stream.as_ref()) {
                s.sink.send(&Event::offers(offers));
            }
        }
    }

    /// Forgets an offer (no event, no recovery).
    fn take_offer(&mut self, id: &str) -> Option<OfferRec> {
        let rec = self.offers.remove(id)?;
        if let Some(fw) = self.frameworks.get_mut(&rec.offer.framework_id.value) {
            fw.offers.remove(id);
        }
        Some(rec)
    }

    /// Returns an offer's resources to the allocator, with an optional
    /// DECLINE-style filter (`Some(refuse_seconds)`; `Some(None)` = default).
    fn recover_offer(&mut self, rec: &OfferRec, refuse_seconds: Option<Option<f64>>) {
        self.recover_resources(
            &rec.offer.agent_id.value,
            &rec.offer.framework_id.value,
            &rec.alloc,
            refuse_seconds,
        );
    }

    /// Recovers `res` (possibly of several allocation roles) of `fw` on `agent`.
    pub(crate) fn recover_resources(
        &mut self,
        agent: &str,
        fw: &str,
        res: &Resources,
        refuse_seconds: Option<Option<f64>>,
    ) {
        let now = self.now_nanos();
        for role in res.allocation_roles() {
            let part = res.allocated_to(&role);
            let r = match refuse_seconds {
                Some(secs) => self.allocator.decline(agent, fw, &part, secs, now),
                None => self.allocator.recover(agent, fw, &part, None, now),
            };
            if let Err(err) = r {
                tracing::warn!(agent_id = %agent, framework_id = %fw, %err, "cannot recover resources");
            }
        }
    }

    /// Withdraws an offer: RESCIND to its framework, resources recovered.
    pub(crate) fn rescind_offer(&mut self, id: &str) {
        let Some(rec) = self.take_offer(id) else {
            return;
        };
        if let Some(s) = self
            .frameworks
            .get(&rec.offer.framework_id.value)
            .and_then(|f| f.stream.as_ref())
        {
            s.sink.send(&Event::rescind(rec.offer.id.clone()));
        }
        self.recover_offer(&rec, None);
    }

    /// Drops a framework's offers (recovering them), optionally rescinding.
    pub(crate) fn remove_framework_offers(&mut self, fw_id: &str, rescind: bool) {
        let ids: Vec<String> = self
            .frameworks
            .get(fw_id)
            .map(|f| f.offers.iter().cloned().collect())
            .unwrap_or_default();
        for id in ids {
            if rescind {
                self.rescind_offer(&id);
            } else if let Some(rec) = self.take_offer(&id) {
                self.recover_offer(&rec, None);
            }
        }
    }

    /// Rescinds every offer of an agent.
    pub(crate) fn rescind_agent_offers(&mut self, agent_id: &str) {
        let ids: Vec<String> = self
            .offers
            .iter()
            .filter(|(_, r)| r.offer.agent_id.value == agent_id)
            .map(|(k, _)| k.clone())
            .collect();
        for id in ids {
            self.rescind_offer(&id);
        }
    }

    /// DECLINE: recovers the offers with the call's filter.
    pub fn decline(&mut self, fw_id: &str, decline: &Decline) {
        self.counters.message("messages_decline_offers");
        let refuse = decline.filters.as_ref().and_then(|f| f.refuse_seconds);
        for oid in &decline.offer_ids {
            let belongs = self
                .offers
                .get(&oid.value)
                .is_some_and(|r| r.offer.framework_id.value == fw_id);
            if !belongs {
                tracing::debug!(offer_id = %oid, "ignoring DECLINE of unknown offer");
                continue;
            }
            if let Some(rec) = self.take_offer(&oid.value) {
                self.recover_offer(&rec, Some(refuse));
            }
        }
        self.trigger_allocation();
    }

    /// ACCEPT: validates the offers, launches valid tasks (RUN_TASK at once),
    /// reports invalid ones, and recovers the rest with the call's filter.
    pub fn accept(&mut self, fw_id: &str, accept: Accept) {
        self.counters.message("messages_accept_offers");
        let mut tasks: Vec<TaskInfo> = Vec::new();
        let mut unsupported: Vec<(TaskInfo, String)> = Vec::new();
        let mut reservations: Vec<(bool, Vec<meseta_api::Resource>)> = Vec::new();
        for op in accept.operations {
            match op.r#type {
                Some(OfferOperationType::Reserve) => {
                    self.counters.message("messages_reserve_resources");
                    reservations.push((true, op.reserve.map(|r| r.resources).unwrap_or_default()));
                }
                Some(OfferOperationType::Unreserve) => {
                    self.counters.message("messages_unreserve_resources");
                    let res = op.unreserve.map(|r| r.resources).unwrap_or_default();
                    reservations.push((false, res));
                }
                Some(OfferOperationType::Launch) => {
                    self.counters.message("messages_launch_tasks");
                    for t in op.launch.iter().flat_map(|l| &l.task_infos) {
                        tracing::debug!(target: "meseta::timing", stage = "master.accept",
                                        task_id = %t.task_id);
                    }
                    tasks.extend(op.launch.map(|l| l.task_infos).unwrap_or_default());
                }
                Some(OfferOperationType::LaunchGroup) => {
                    let group = op.launch_group.map(|g| g.task_group.tasks);
                    for t in group.unwrap_or_default() {
                        unsupported.push((t, "LAUNCH_GROUP is not supported".into()));
                    }
                }
                other => {
                    tracing::warn!(framework_id = %fw_id, operation = ?other, "ignoring unsupported offer operation");
                }
            }
        }

        let (recs, error) = self.take_accepted_offers(fw_id, &accept.offer_ids);
        if let Some(error) = error {
            for rec in &recs {
                self.recover_offer(rec, None);
            }
            let pa = self
                .frameworks
                .get(fw_id)
                .is_some_and(|f| f.partition_aware());
            let state = if pa {
                TaskState::Dropped
            } else {
                TaskState::Lost
            };
            for t in tasks.iter().chain(unsupported.iter().map(|(t, _)| t)) {
                let status = Self::master_status(
                    &t.task_id,
                    state,
                    Reason::InvalidOffers,
                    format!("Task launched with invalid offers: {error}"),
                    Some(&t.agent_id),
                );
                self.send_update(fw_id, status);
            }
            self.trigger_allocation();
            return;
        }
        let Some(agent_id) = recs.first().map(|r| r.offer.agent_id.value.clone()) else {
            return;
        };
        let mut remaining = Resources::new();
        for r in &recs {
            remaining.add(&r.alloc);
        }
        for (reserve, wire) in reservations {
            if let Err(msg) =
                self.offer_reservation(fw_id, &agent_id, &mut remaining, reserve, &wire)
            {
                let what = if reserve { "RESERVE" } else { "UNRESERVE" };
                tracing::warn!(framework_id = %fw_id, agent_id = %agent_id, "dropping {what}: {msg}");
            }
        }
        for (t, msg) in unsupported {
            let st = Self::master_status(
                &t.task_id,
                TaskState::Error,
                Reason::TaskInvalid,
                msg,
                Some(&t.agent_id),
            );
            self.send_update(fw_id, st);
        }
        let mut seen: HashSet<String> = HashSet::new();
        for task in tasks {
            match self.validate_task(fw_id, &agent_id, &task, &remaining, &seen) {
                Ok(charge) => {
                    seen.insert(task.task_id.value.clone());
                    remaining.subtract(&charge);
                    self.launch_task(fw_id, &agent_id, task, charge);
                }
                Err(msg) => {
                    let st = Self::master_status(
                        &task.task_id,
                        TaskState::Error,
                        Reason::TaskInvalid,
                        msg,
                        Some(&task.agent_id),
                    );
                    self.send_update(fw_id, st);
                }
            }
        }
        let refuse = accept.filters.as_ref().and_then(|f| f.refuse_seconds);
        self.recover_resources(&agent_id, fw_id, &remaining, Some(refuse));
        self.trigger_allocation();
    }

    /// Removes the offers named in an ACCEPT that belong to `fw_id`; returns
    /// them with the reason the set is invalid, if it is.
    fn take_accepted_offers(
        &mut self,
        fw_id: &str,
        ids: &[OfferId],
    ) -> (Vec<OfferRec>, Option<String>) {
        let mut error = None;
        if ids.is_empty() {
            error = Some("No offers specified".to_string());
        }
        let mut recs: Vec<OfferRec> = Vec::new();
        let mut seen = HashSet::new();
        for oid in ids {
            if !seen.insert(oid.value.clone()) {
                error.get_or_insert_with(|| format!("Duplicate offer {oid} in offer list"));
                continue;
            }
            match self.offers.get(&oid.value) {
                None => {
                    error.get_or_insert_with(|| format!("Offer {oid} is no longer valid"));
                }
                Some(r) if r.offer.framework_id.value != fw_id => {
                    error.get_or_insert_with(|| {
                        format!("Offer {oid} has invalid framework {fw_id}")
                    });
                }
                Some(_) => {
                    if let Some(rec) = self.take_offer(&oid.value) {
                        recs.push(rec);
                    }
                }
            }
        }
        if let Some(first) = recs.first() {
            let agent = &first.offer.agent_id;
            if recs.iter().any(|r| &r.offer.agent_id != agent) {
                error.get_or_insert_with(|| {
                    "Aggregated offers must belong to one single agent".to_string()
                });
            }
        }
        (recs, error)
    }
}
