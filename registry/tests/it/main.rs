//! Integration tests of the registry: the store conformance suite on SQLite and PostgreSQL,
//! and the HTTP API driven in process.

mod db;
mod http;
mod logged_models;
mod store;
