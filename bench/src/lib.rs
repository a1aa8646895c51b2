//! meseta-bench library: shared measurement helpers.
