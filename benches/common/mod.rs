//! What the benchmarks share.

use std::path::Path;
use std::process::Command;
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

/// Deterministic pseudo-random bytes (xorshift): incompressible payloads for the images.
#[allow(dead_code)]
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v = vec![0u8; len];
    for c in v.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c.copy_from_slice(&x.to_le_bytes()[..c.len()]);
    }
    v
}

/// `dd if=IMAGE of=/dev/null bs=1M`, the reading limit the scans are compared with.
#[allow(dead_code)]
pub fn dd(img: &Path) -> bool {
    Command::new("dd")
        .arg(format!("if={}", img.display()))
        .args(["of=/dev/null", "bs=1M", "status=none"])
        .status()
        .is_ok_and(|s| s.success())
}

/// File dialogs that never open: the benches drive the app without a desktop.
#[allow(dead_code)]
pub struct NoDialogs;

impl seqbox::gui::dialogs::Dialogs for NoDialogs {
    fn pick_files(&mut self, _: &str) -> Vec<std::path::PathBuf> {
        Vec::new()
    }
    fn pick_folder(&mut self, _: &str) -> Option<std::path::PathBuf> {
        None
    }
    fn save_file(&mut self, _: &str, _: &str) -> Option<std::path::PathBuf> {
        None
    }
}

/// The app (headless, 1280×800) opened on `catalog`, once its map is shown, and the time from
/// starting the app to the map being there (loading runs on the app's worker thread).
#[allow(dead_code)]
pub fn app_showing_map(
    catalog: &Path,
) -> (egui_kittest::Harness<'static, seqbox::gui::App>, Duration) {
    let c = catalog.to_path_buf();
    let t = Instant::now();
    let mut h = egui_kittest::Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |cc| {
            let mut app =
                seqbox::gui::App::with_settings(cc, Box::new(NoDialogs), Default::default(), None);
            app.open_catalog(&cc.egui_ctx, c);
            app
        });
    h.step();
    while h.state().busy() {
        assert!(
            t.elapsed() < Duration::from_secs(600),
            "the map did not load"
        );
        std::thread::sleep(Duration::from_millis(5));
        h.step();
    }
    assert!(h.state().scan.map.view.is_some(), "the map is shown");
    (h, t.elapsed())
}
