//! mesos-master: registry, DRF allocator, offers, scheduler and operator APIs.

pub mod allocator;
