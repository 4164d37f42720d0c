//! The root package exists to hold the integration tests in `tests/`; it has no code of its own.
