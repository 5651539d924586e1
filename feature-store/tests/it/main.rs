//! Integration tests of the lake on the real F1DB data in `../shared/f1db`.

mod common;
mod features;
mod incremental;
mod ingest;
mod medallion;
mod python;
mod s3;
