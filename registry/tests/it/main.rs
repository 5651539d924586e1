//! Integration tests of the registry: the store conformance suite on SQLite and PostgreSQL,
//! and the HTTP API driven in process.

mod db;
mod http;
mod model_registry;
mod registry_http;
mod logged_models;
mod store;
