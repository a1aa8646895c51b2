//! The Meseta agent.
