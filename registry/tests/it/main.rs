//! Integration tests of the registry: the store conformance suite on SQLite and PostgreSQL,
//! and the HTTP API driven in process.

mod artifacts;
mod db;
mod http;
mod logged_models;
mod model_registry;
mod registry_http;
#[path = "../../../feature-store/tests/it/s3_server.rs"]
mod s3_server;
mod store;
