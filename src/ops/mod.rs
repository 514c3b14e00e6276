//! Operations: what keeps a county's server safe to run for years
//! (issue 15). `backup`: copies, manifests, retention, restore and its test;
//! `disk`: free space; `metrics`: `/metrics`; `ready`: `/readyz`.

pub mod backup;
pub mod disk;
pub mod metrics;
pub mod ready;
