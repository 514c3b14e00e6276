//! Rows travel into the audit log as JSON; money and areas there stay the
//! integers they were before the fields were typed (`12345`, not `"123.45"`),
//! so old and new audit entries read alike.

use crate::domain::measure::Mu;
use crate::domain::money::Fen;
use serde::Serializer;

pub fn fen<S: Serializer>(f: &Fen, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i64(f.0)
}

pub fn option_fen<S: Serializer>(f: &Option<Fen>, s: S) -> Result<S::Ok, S::Error> {
    match f {
        Some(f) => s.serialize_some(&f.0),
        None => s.serialize_none(),
    }
}

pub fn mu<S: Serializer>(m: &Mu, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i64(m.units())
}

pub fn option_mu<S: Serializer>(m: &Option<Mu>, s: S) -> Result<S::Ok, S::Error> {
    match m {
        Some(m) => s.serialize_some(&m.units()),
        None => s.serialize_none(),
    }
}
