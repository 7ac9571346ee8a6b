//! Empty: see Cargo.toml (this crate only names the SQLite source to fetch).
