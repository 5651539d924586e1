//! Web pages of the registry and the F1 app.
