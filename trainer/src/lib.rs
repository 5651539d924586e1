//! Training jobs and the scorer (filled by the trainer work).
