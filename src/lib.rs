//! guobao (果保): government-subsidised orchard insurance.

// No panics on input (issue 9): non-test code may not unwrap, expect, panic,
// index or byte-slice. Unit tests (`cfg(test)`) may; every remaining `allow`
// says why its construct cannot fail.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::string_slice
    )
)]

pub mod app;
pub mod config;
pub mod db;
#[cfg(feature = "demo")]
pub mod demo;
pub mod domain;
pub mod error;
pub mod excel;
pub mod geo;
pub mod ops;
pub mod photo_store;
pub mod startup;
pub mod web;
