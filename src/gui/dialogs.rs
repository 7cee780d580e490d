//! File dialogs behind a trait, so tests can replace them: the app never calls rfd directly.

use std::path::PathBuf;

pub trait Dialogs {
    fn pick_files(&mut self, title: &str) -> Vec<PathBuf>;
    fn pick_folder(&mut self, title: &str) -> Option<PathBuf>;
    fn save_file(&mut self, title: &str, name: &str) -> Option<PathBuf>;
}

/// The native dialogs (xdg-portal on Linux: no GTK needed; none there -> nothing picked).
pub struct NativeDialogs;

impl Dialogs for NativeDialogs {
    fn pick_files(&mut self, title: &str) -> Vec<PathBuf> {
        rfd::FileDialog::new()
            .set_title(title)
            .pick_files()
            .unwrap_or_default()
    }

    fn pick_folder(&mut self, title: &str) -> Option<PathBuf> {
        rfd::FileDialog::new().set_title(title).pick_folder()
    }

    fn save_file(&mut self, title: &str, name: &str) -> Option<PathBuf> {
        rfd::FileDialog::new()
            .set_title(title)
            .set_file_name(name)
            .save_file()
    }
}
