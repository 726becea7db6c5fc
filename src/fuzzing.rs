//! Fuzzing harnesses.
