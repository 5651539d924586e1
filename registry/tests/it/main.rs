//! Integration tests of the registry: the store conformance suite and the HTTP API driven in
//! process, each test generated once for SQLite and once for PostgreSQL.

mod artifacts;
mod db;
mod http;
mod logged_models;
mod model_registry;
mod registry_http;
mod server;
mod store;
