//! File dialogs behind a trait, so tests can replace them: the app never calls rfd directly.

use std::path::PathBuf;

pub trait Dialogs {
    fn pick_files(&mut self, title: &str) -> Vec<PathBuf>;
    fn pick_folder(&mut self, title: &str) -> Option<PathBuf>;
    fn save_file(&mut self, title: &str, name: &str) -> Option<PathBuf>;
    /// Whether dialogs seem not to work here (they come back empty at once).
    fn unavailable(&self) -> bool {
        false
    }
    /// Show `dir` in the desktop's file manager ("Open folder" after saving). Does nothing
    /// unless a desktop implementation says otherwise, so tests never launch anything.
    fn open_folder(&mut self, dir: &std::path::Path) {
        let _ = dir;
    }
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
        // Without a working dialog the folder can be typed in.
        if dialogs.unavailable() {
            let id = ui.scope_id().with(("typed folder", title));
            let mut text: String = ui.data(|d| d.get_temp(id)).unwrap_or_default();
            let l = ui.label("or type it:");
            let edit = ui
                .add(egui::TextEdit::singleline(&mut text).desired_width(220.0))
                .labelled_by(l.id);
            let dir = PathBuf::from(text.trim());
            let usable = !text.trim().is_empty() && dir.is_absolute();
            if ui
                .add_enabled(usable, egui::Button::new("Use this folder"))
                .clicked()
                || (usable && edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)))
            {
                *folder = Some(dir);
                text.clear();
            }
            ui.data_mut(|d| d.insert_temp(id, text));
        }
    });
}

/// The native dialogs (xdg-portal on Linux: no GTK needed). Without a running portal they
/// come back empty at once; that is remembered so the app can say what to do instead.
#[derive(Default)]
pub struct NativeDialogs {
    unavailable: bool,
}

/// A dialog answered faster than a person can is one that never opened.
const TOO_FAST: std::time::Duration = std::time::Duration::from_millis(150);

impl NativeDialogs {
    fn timed<T>(&mut self, empty: impl Fn(&T) -> bool, f: impl FnOnce() -> T) -> T {
        let t = std::time::Instant::now();
        let r = f();
        self.unavailable = empty(&r) && t.elapsed() < TOO_FAST;
        r
    }
}

impl Dialogs for NativeDialogs {
    fn pick_files(&mut self, title: &str) -> Vec<PathBuf> {
        self.timed(Vec::is_empty, || {
            rfd::FileDialog::new()
                .set_title(title)
                .pick_files()
                .unwrap_or_default()
        })
    }

    fn pick_folder(&mut self, title: &str) -> Option<PathBuf> {
        self.timed(Option::is_none, || {
            rfd::FileDialog::new().set_title(title).pick_folder()
        })
    }

    fn save_file(&mut self, title: &str, name: &str) -> Option<PathBuf> {
        self.timed(Option::is_none, || {
            rfd::FileDialog::new()
                .set_title(title)
                .set_file_name(name)
                .save_file()
        })
    }

    fn unavailable(&self) -> bool {
        self.unavailable
    }

    fn open_folder(&mut self, dir: &std::path::Path) {
        let opener = if cfg!(target_os = "macos") {
            "open"
        } else if cfg!(windows) {
            "explorer"
        } else {
            "xdg-open"
        };
        let dir = dir.to_path_buf();
        // On a thread: the UI never waits for the file manager (nor reaps it on its thread).
        std::thread::spawn(move || {
            let _ = std::process::Command::new(opener)
                .arg(&dir)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        });
    }
}
