//! What the benchmarks share.

use std::time::{Duration, Instant};

/// Runs of each measurement; the best is reported (least disturbed by the machine).
pub const RUNS: usize = 5;

/// The best time of `RUNS` runs of `f`, and the last result.
#[allow(dead_code)]
pub fn best<T>(f: impl FnMut() -> T) -> (Duration, T) {
    best_of(RUNS, f)
}

/// The best time of `runs` runs of `f`, and the last result.
pub fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed());
        last = Some(r);
    }
    (best, last.expect("ran"))
}
