//! The pipeline's integration suite, one test binary (each binary links polars, arrow and
//! sqlx: one link instead of six).

#[allow(dead_code)]
mod common;

mod access;
mod alerts_detect;
mod alerts_email;
mod alerts_store;
mod azure_lake;
mod cleaning_accuracy;
mod dashboard_figures;
mod day_completeness;
mod export;
mod foreign_reader;
mod import;
mod nothing_lost;
mod pipeline_suite;
mod receiver;
mod recovery;
mod sql_consumers;
mod transform_fingerprint;
