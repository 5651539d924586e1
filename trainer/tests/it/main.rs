//! Integration tests of the trainer on a lake built from the real F1DB data in `../shared/f1db`.

mod common;
mod errors;
mod registry;
mod score;
mod serve;
mod train;
