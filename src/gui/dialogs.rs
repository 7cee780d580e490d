//! File dialogs behind a trait, so tests can replace them: the app never calls rfd directly.

use std::path::PathBuf;

pub trait Dialogs {
    fn pick_files(&mut self, title: &str) -> Vec<PathBuf>;
    fn pick_folder(&mut self, title: &str) -> Option<PathBuf>;
    fn save_file(&mut self, title: &str, name: &str) -> Option<PathBuf>;
}

/// The "Output folder: … [Choose output folder…]" row shared by the tabs; `none` says where
/// output goes while no folder is chosen.
pub fn output_folder_row(
    ui: &mut egui::Ui,
    dialogs: &mut dyn Dialogs,
    folder: &mut Option<PathBuf>,
    none: &str,
    title: &str,
) {
    ui.horizontal(|ui| {
        ui.label(match folder {
            Some(d) => format!("Output folder: {}", d.display()),
            None => none.to_string(),
        });
        if ui.button("Choose output folder…").clicked()
            && let Some(d) = dialogs.pick_folder(title)
        {
            *folder = Some(d);
        }
    });
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
