//! All integration tests in one binary, so a change links the app once, not once
//! per file: each former `tests/*.rs` is a module here, `helpers` the shared harness.

mod helpers;

mod accounts;
mod audit;
mod audit_chain;
mod audit_find;
mod backup;
mod bad_input;
mod boundaries;
mod browser;
mod bulk;
mod checks;
mod claims;
mod claims_guards;
mod claims_list;
mod claims_pages;
mod cli;
mod dates;
#[cfg(feature = "demo")]
mod demo;
mod enrollment_api;
mod exports;
// Synthetic policies come from the demo module.
#[cfg(feature = "demo")]
mod finance;
mod home;
mod import;
mod import_web;
mod input_rules;
mod inspection;
mod lists;
mod migrations;
mod notices;
mod openapi;
mod ops;
mod pages;
mod photo_store;
mod policies;
mod privacy;
mod readme_rules;
mod reliability;
mod schemes_areas;
mod scoping;
mod self_service;
mod uploads;
