// Only a manifest for `cargo metadata`; see Cargo.toml.
