//! The hand-built test images, shared with the agent's tests (see `meseta_tests::images`).
#![allow(unused_imports)]

pub use meseta_tests::images::*;
