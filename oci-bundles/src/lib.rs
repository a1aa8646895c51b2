//! Image store and OCI bundle builder (filled in by the images issue).
