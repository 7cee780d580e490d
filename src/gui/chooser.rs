//! The app's own file and folder chooser, used where no system dialog opens (no portal and no
//! zenity): a folder's contents (folders first, then files with their sizes), a path bar one can
//! type into, Up and Home, several files picked at once, "Choose this folder", a name to save as.
//! It reads a folder only when opened or navigated to, on a worker thread (a dying disk can take
//! long to answer), never per frame; it never creates, changes or deletes anything.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, channel};

/// What the chooser is asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ask {
    /// One or more files (device nodes count as files).
    Files,
    /// One folder.
    Folder,
    /// A file to write, with a suggested name.
    Save(String),
}

/// One line of a folder's listing.
#[derive(Clone, Debug)]
struct Entry {
    name: OsString,
    dir: bool,
    size: u64,
}

/// How a frame of the chooser ended.
pub enum Outcome {
    /// Still open.
    Open,
    /// Closed with these paths (empty when cancelled).
    Closed(Vec<PathBuf>),
}

type Listing = Result<Vec<Entry>, String>;

pub struct Chooser {
    title: String,
    ask: Ask,
    /// The folder shown.
    pub dir: PathBuf,
    /// The path bar's text.
    typed: String,
    listing: Option<Listing>,
    rx: Option<Receiver<Listing>>,
    /// Names picked in `dir` (files; several only when asking for files).
    picked: BTreeSet<OsString>,
    /// The name to save as.
    name: String,
    hidden: bool,
    /// Say (quietly) why this chooser and not the desktop's.
    note: bool,
}

impl Chooser {
    pub fn new(ctx: &egui::Context, title: &str, ask: Ask, start: PathBuf, note: bool) -> Self {
        let name = match &ask {
            Ask::Save(n) => n.clone(),
            _ => String::new(),
        };
        let mut c = Chooser {
            title: title.to_string(),
            ask,
            dir: PathBuf::new(),
            typed: String::new(),
            listing: None,
            rx: None,
            picked: BTreeSet::new(),
            name,
            hidden: false,
            note,
        };
        c.go(ctx, start);
        c
    }

    /// Whether the folder is still being read.
    pub fn busy(&self) -> bool {
        self.rx.is_some()
    }

    /// Show `dir`: read it on a worker, the UI shows "Reading…" until it is there.
    fn go(&mut self, ctx: &egui::Context, dir: PathBuf) {
        self.typed = dir.display().to_string();
        self.dir = dir.clone();
        self.picked.clear();
        self.listing = None;
        let (tx, rx) = channel();
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            let _ = tx.send(list(&dir));
            ctx.request_repaint();
        });
        self.rx = Some(rx);
    }

    fn poll(&mut self) {
        if let Some(rx) = &self.rx
            && let Ok(l) = rx.try_recv()
        {
            self.listing = Some(l);
            self.rx = None;
        }
    }

    /// Draw the chooser as a modal window; returns what it closed with.
    pub fn ui(&mut self, ctx: &egui::Context) -> Outcome {
        self.poll();
        let mut outcome = Outcome::Open;
        let modal = egui::Modal::new(egui::Id::unique("seqbox chooser")).show(ctx, |ui| {
            let size = ctx.content_rect().size();
            ui.set_width((size.x - 80.0).clamp(300.0, 760.0));
            ui.heading(&self.title);
            if self.note {
                ui.weak("This desktop has no file dialog, so SeqBox shows its own.");
            }
            self.path_bar(ui);
            ui.separator();
            let height = (size.y - 260.0).clamp(120.0, 420.0);
            self.entries_ui(ui, height);
            ui.separator();
            outcome = self.buttons(ui);
        });
        if modal.should_close() && matches!(outcome, Outcome::Open) {
            outcome = Outcome::Closed(Vec::new());
        }
        outcome
    }

    fn path_bar(&mut self, ui: &mut egui::Ui) {
        let mut target = None;
        ui.horizontal(|ui| {
            if ui
                .button("Up")
                .on_hover_text("The folder that holds this one")
                .clicked()
                && let Some(p) = self.dir.parent()
            {
                target = Some(p.to_path_buf());
            }
            if ui
                .button("Home")
                .on_hover_text("Your home folder")
                .clicked()
            {
                target = Some(home());
            }
            let l = ui.label("Folder:");
            let edit = ui
                .add(egui::TextEdit::singleline(&mut self.typed).desired_width(360.0))
                .labelled_by(l.id);
            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui.button("Go").clicked() || enter {
                target = Some(PathBuf::from(self.typed.trim()));
            }
        });
        if let Some(t) = target {
            self.go(ui.ctx(), t);
        }
    }

    fn entries_ui(&mut self, ui: &mut egui::Ui, height: f32) {
        let Some(listing) = &self.listing else {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Reading the folder…");
            });
            return;
        };
        let entries = match listing {
            Ok(e) => e,
            Err(e) => {
                ui.label(e.as_str());
                return;
            }
        };
        let shown: Vec<&Entry> = entries
            .iter()
            .filter(|e| self.hidden || !e.name.to_string_lossy().starts_with('.'))
            .filter(|e| e.dir || self.ask != Ask::Folder)
            .collect();
        if shown.is_empty() {
            ui.weak(if self.ask == Ask::Folder {
                "No folders in here."
            } else {
                "This folder is empty."
            });
        }
        let mut open = None;
        let mut clicked = None;
        let picked = &self.picked;
        let row = ui.text_style_height(&egui::TextStyle::Body) + ui.spacing().item_spacing.y;
        egui::ScrollArea::vertical()
            .max_height(height)
            .auto_shrink([false, true])
            .show_rows(ui, row, shown.len(), |ui, range| {
                for e in &shown[range] {
                    ui.horizontal(|ui| {
                        let name = e.name.to_string_lossy();
                        if e.dir {
                            if ui
                                .selectable_label(false, format!("{name}/"))
                                .on_hover_text("Open this folder")
                                .clicked()
                            {
                                open = Some(e.name.clone());
                            }
                            return;
                        }
                        let on = picked.contains(&e.name);
                        let r = ui.selectable_label(on, name.as_ref());
                        ui.weak(super::jobs::human(e.size));
                        if r.clicked() {
                            clicked = Some((e.name.clone(), on));
                        }
                    });
                }
            });
        ui.checkbox(&mut self.hidden, "Show hidden files");
        if let Some((name, on)) = clicked {
            self.pick(&name, on);
        }
        if let Some(d) = open {
            let d = self.dir.join(d);
            self.go(ui.ctx(), d);
        }
    }

    /// A click on a file: several files can be picked when asking for files.
    fn pick(&mut self, name: &OsString, was_on: bool) {
        match &self.ask {
            Ask::Files if was_on => {
                self.picked.remove(name);
            }
            Ask::Files => {
                self.picked.insert(name.clone());
            }
            Ask::Save(_) => self.name = name.to_string_lossy().into_owned(),
            Ask::Folder => {}
        }
    }

    fn buttons(&mut self, ui: &mut egui::Ui) -> Outcome {
        let mut outcome = Outcome::Open;
        ui.horizontal(|ui| {
            let readable = matches!(self.listing, Some(Ok(_)));
            match &self.ask {
                Ask::Files => {
                    let n = self.picked.len();
                    if ui
                        .add_enabled(n > 0, egui::Button::new("Choose selected files"))
                        .clicked()
                    {
                        let paths = self.picked.iter().map(|n| self.dir.join(n)).collect();
                        outcome = Outcome::Closed(paths);
                    }
                    ui.label(match n {
                        0 => "Click files to select them.".to_string(),
                        1 => "1 file selected".to_string(),
                        n => format!("{n} files selected"),
                    });
                }
                Ask::Folder => {
                    if ui
                        .add_enabled(readable, egui::Button::new("Choose this folder"))
                        .clicked()
                    {
                        outcome = Outcome::Closed(vec![self.dir.clone()]);
                    }
                }
                Ask::Save(_) => {
                    let l = ui.label("File name:");
                    let edit = ui
                        .add(egui::TextEdit::singleline(&mut self.name).desired_width(220.0))
                        .labelled_by(l.id);
                    let name = self.name.trim();
                    let ok = readable && !name.is_empty() && !name.contains('/');
                    let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                    if ui.add_enabled(ok, egui::Button::new("Save here")).clicked() || (ok && enter)
                    {
                        outcome = Outcome::Closed(vec![self.dir.join(name)]);
                    }
                }
            }
            if ui.button("Cancel").clicked() {
                outcome = Outcome::Closed(Vec::new());
            }
        });
        outcome
    }
}

/// The user's home folder, or the root when there is none.
pub fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .filter(|h| h.is_absolute())
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// A folder's entries, folders first, then by name (case ignored). Symbolic links are followed
/// so a link to a folder opens like a folder.
fn list(dir: &Path) -> Listing {
    if !dir.is_absolute() {
        return Err(format!(
            "\"{}\" is not a full path: it must start with /.",
            dir.display()
        ));
    }
    let read = std::fs::read_dir(dir).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("There is no folder {}.", dir.display()),
        std::io::ErrorKind::PermissionDenied => {
            format!("You may not open the folder {}.", dir.display())
        }
        _ => format!("The folder {} cannot be read: {e}.", dir.display()),
    })?;
    let mut entries: Vec<Entry> = read
        .filter_map(Result::ok)
        .map(|e| {
            let meta = std::fs::metadata(e.path()).ok();
            Entry {
                name: e.file_name(),
                dir: meta.as_ref().is_some_and(|m| m.is_dir()),
                size: meta.map_or(0, |m| m.len()),
            }
        })
        .collect();
    entries.sort_by_cached_key(|e| (!e.dir, e.name.to_string_lossy().to_lowercase()));
    Ok(entries)
}
