//! Measures the termination matrix (who ends a program × how × what the other
//! threads are doing) and prints it as the Markdown table of
//! `docs/termination.md`:
//!
//! ```text
//! cargo run --release --example termination_table
//! ```
//!
//! The same cells are asserted by `cargo test --test termination`.

#[path = "../tests/termination/matrix.rs"]
mod matrix;
#[path = "../tests/termination/probe.rs"]
mod probe;

use std::time::Duration;

fn main() {
    let m = matrix::Matrix::new();
    // Warm up: the first program pays for lazy initialisation.
    let _ = m.run(matrix::Ender::MainExit, matrix::State::Spin);
    let cells = m.run_all();
    print!("{}", matrix::table(&cells, Duration::from_millis(100)));
    println!(
        "\nweft {} on {} logical CPUs.",
        env!("CARGO_PKG_VERSION"),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
}
