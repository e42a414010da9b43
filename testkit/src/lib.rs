//! What Tern's black-box tests share across crates: real side services on free
//! ports of 127.0.0.1 ([`Moto`]), the workspace's built binaries
//! ([`workspace_binary`]), and HTTP answers as tests read them ([`Reply`]). Tests start the real thing; nothing here is a mock.

mod http;
mod moto;

use std::path::PathBuf;

pub use http::{Reply, to_reply};
pub use moto::Moto;

/// A port free on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The built binary `name` of another workspace crate (a test's own crate's
/// binaries are in `CARGO_BIN_EXE_<name>`): next to the test executable's
/// directory, as `cargo test --workspace` and `cargo nextest run --workspace`
/// build them.
pub fn workspace_binary(name: &str) -> PathBuf {
    let test = std::env::current_exe().expect("the test executable's path");
    let profile_dir = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("tests run from target/<profile>/deps");
    let binary = profile_dir.join(name);
    assert!(
        binary.is_file(),
        "{} is not built: run the tests with --workspace",
        binary.display()
    );
    binary
}
