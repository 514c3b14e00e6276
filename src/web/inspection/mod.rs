//! Pre-cover inspection (验标) on the web: the village pages, the tablet page
//! for one sampled plot (`pages`) and the JSON API (`api`).

pub mod api;
pub mod pages;
