//! The corruption matrix (issue 11, "Prove it holds"): containers of versions 1, 3, 17 and
//! 19 with several M + P and burst levels, damaged every way a disk damages them — sectors
//! lost, bursts, bit flips, truncation, reordering, stale blocks of an older container with
//! the same UID, odd offsets inside images, two damaged images — then decoded, checked, and
//! scanned + recovered. An oracle that knows only the damage says what the maths allows:
//! every case it allows must come back bit-exact with success, every other case must fail
//! and list exactly the missing byte ranges (or, where no exact answer exists, fail).
//!
//! `cargo test --test corruption_matrix -- --nocapture` prints the table of the quick run;
//! `-- --ignored` runs the long one. `MATRIX_CASE=N` runs case N alone (of the run the test
//! belongs to) and `MATRIX_CASES=N` changes how many cases run.

mod common;
#[path = "common/matrix/mod.rs"]
mod matrix;

use matrix::judge::{self, Table};
use matrix::{Case, Run};
use std::time::Instant;

/// Every case kind × geometry twice (13 kinds × 10 geometries).
const FAST_CASES: u64 = 260;
const FULL_CASES: u64 = 13 * 10 * 20;

fn env(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn run_matrix(run: Run, count: u64, cli_every: u64) {
    let only = env("MATRIX_CASE");
    let count = env("MATRIX_CASES").unwrap_or(count);
    let started = Instant::now();
    let mut table = Table::default();
    let numbers = match only {
        Some(n) => n..n + 1,
        None => 0..count,
    };
    for n in numbers {
        let case = Case::new(run, n);
        let result = judge::run(&case, n % cli_every == 0, only.is_some());
        if only.is_some() {
            for r in &result.runs {
                println!("{}: {} → {:?}", r.path, r.expect.label(), r.outcome);
            }
        }
        table.add(&result);
    }
    println!(
        "corruption matrix ({run:?}, {count} cases, {:.1} s)\n{}",
        started.elapsed().as_secs_f64(),
        table.render()
    );
    for o in &table.older {
        println!("OLDER VERSION {o}");
    }
    for w in &table.wrong {
        println!("WRONG {w}");
    }
    assert!(
        table.wrong.is_empty(),
        "{} wrong outcome(s); rerun one with MATRIX_CASE=N -- --nocapture:\n{}",
        table.wrong.len(),
        table.wrong.join("\n")
    );
}

#[test]
fn corruption_matrix_quick() {
    run_matrix(Run::Fast, FAST_CASES, 9);
}

#[test]
#[ignore = "minutes: the full corruption matrix"]
fn corruption_matrix_full() {
    run_matrix(Run::Full, FULL_CASES, 23);
}
