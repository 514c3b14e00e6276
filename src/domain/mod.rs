//! Pure business rules and validated types: no database, no HTTP.

mod macros;

pub mod access;
pub mod area;
pub mod claims;
pub mod eligibility;
pub mod id_number;
pub mod inspection;
pub mod measure;
pub mod money;
pub mod number;
pub mod policy;
pub mod premium;
pub mod scheme;
pub mod text;
pub mod time;

pub use eligibility::{Reason, Verdict};
pub use id_number::IdNumber;
pub use measure::Mu;
pub use money::Fen;
