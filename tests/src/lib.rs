//! End-to-end tests live in `tests/`; this library holds helpers shared by them.
