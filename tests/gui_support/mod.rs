//! What the app's egui_kittest tests share: dialogs that answer from a script, the harness
//! that builds the app around them, and a wait for the app's worker threads. Declared by the
//! GUI test crates only (`mod gui_support;`), so the other tests never build it.
#![allow(dead_code)]

use egui_kittest::Harness;
use seqbox::gui::app::App;
use seqbox::gui::dialogs::Dialogs;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Dialogs that answer from a script instead of opening windows.
#[derive(Default)]
pub struct Scripted {
    pub files: VecDeque<Vec<PathBuf>>,
    pub folders: VecDeque<PathBuf>,
    /// Behave like a desktop without a portal: every dialog comes back empty at once.
    pub broken: bool,
    /// The folders "Open folder" asked to show (nothing is launched).
    pub opened: Arc<Mutex<Vec<PathBuf>>>,
}

impl Dialogs for Scripted {
    fn pick_files(&mut self, _: &str) -> Vec<PathBuf> {
        self.files.pop_front().unwrap_or_default()
    }
    fn pick_folder(&mut self, _: &str) -> Option<PathBuf> {
        self.folders.pop_front()
    }
    fn save_file(&mut self, _: &str, _: &str) -> Option<PathBuf> {
        None
    }
    fn unavailable(&self) -> bool {
        self.broken
    }
    fn open_folder(&mut self, folder: &Path) {
        self.opened.lock().unwrap().push(folder.to_path_buf());
    }
}

/// The app with `script` as its dialogs and default settings (never saved), `w` × `h`.
pub fn harness_sized(script: Scripted, w: f32, h: f32) -> Harness<'static, App> {
    Harness::builder()
        // A map reload or an animation may take a few frames to settle.
        .with_max_steps(16)
        .with_size(egui::vec2(w, h))
        .build_eframe(move |cc| App::with_settings(cc, Box::new(script), Default::default(), None))
}

/// The same at 1100 × 900.
pub fn harness(script: Scripted) -> Harness<'static, App> {
    harness_sized(script, 1100.0, 900.0)
}

/// Step frames until no job runs (real work happens on worker threads), then settle; fail
/// when that takes longer than `limit`.
pub fn wait_up_to(h: &mut Harness<'static, App>, limit: Duration) {
    let deadline = Instant::now() + limit;
    h.step();
    while h.state().busy() {
        assert!(Instant::now() < deadline, "a job did not finish in time");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    h.run();
}
