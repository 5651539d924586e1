//! Settings shared by Pitwall's crates, read once from the environment.

mod redact;
mod s3;

pub use redact::redact_uri;
pub use s3::S3Settings;
