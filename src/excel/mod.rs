//! Spreadsheets: rosters in (calamine), reports out (rust_xlsxwriter).
//! Bytes in, rows out — no database here.

pub mod read;
pub mod write;
