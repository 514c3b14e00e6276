//! Demo and synthetic data, built only with the `demo` feature (on by default):
//! the generated demo county and its loader, and bulk synthetic policies for
//! the benchmarks and property tests. Nothing in `app/` or `web/` uses it.

mod checks;
pub mod county;
pub mod load;
mod notices;
mod plots;
mod rng;
pub mod synth;

pub use county::{generate, DemoCounty, DemoGrower, DemoPlot, DemoTownship, DemoVillage};
