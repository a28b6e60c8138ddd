//! Helpers shared by the differential tests (and, by path, the fuzz target).
pub(crate) mod any_encoding;
pub(crate) mod rmpv_model;
