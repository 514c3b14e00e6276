//! guobao (果保): government-subsidised orchard insurance.

pub mod app;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod excel;
pub mod geo;
pub mod startup;
pub mod web;
