//! Claims on the web: the HTML pages (`pages`) and the JSON API (`api`).

pub mod api;
pub mod pages;
