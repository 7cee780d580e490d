//! Choosing files and folders, so that every "Choose…" button works on any desktop: the system
//! dialog where there is one (xdg-desktop-portal, or zenity through rfd's fallback), run on a
//! worker so the window keeps drawing, and otherwise the app's own chooser (chooser.rs).
//! `Dialogs` is the seam tests replace; the tabs only ever talk to `Choosers`. Nothing here
//! touches a file beyond listing folders in the chooser.

use super::chooser::{Ask, Chooser, Outcome, home};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, channel};

/// The system's dialogs (or a test's script). Each call waits for the person's answer.
pub trait Dialogs {
    fn pick_files(&mut self, title: &str) -> Vec<PathBuf>;
    fn pick_folder(&mut self, title: &str) -> Option<PathBuf>;
    fn save_file(&mut self, title: &str, name: &str) -> Option<PathBuf>;
    /// Whether dialogs seem not to work here (they come back empty at once).
    fn unavailable(&self) -> bool {
        false
    }
    /// Show `folder` in the file manager ("Open folder" after saving). Tests record it; the
    /// default launches nothing.
    fn open_folder(&mut self, _folder: &std::path::Path) {}
    /// A fresh copy to ask on a worker thread (real dialogs take a person's time); `None` asks
    /// on the UI thread (scripts answer at once).
    fn for_worker(&self) -> Option<Box<dyn Dialogs + Send>> {
        None
    }
}

/// Ask `dialogs` for `ask`; the answer as a list of paths (empty: nothing chosen).
fn ask_system(dialogs: &mut dyn Dialogs, ask: &Ask, title: &str) -> Vec<PathBuf> {
    match ask {
        Ask::Files => dialogs.pick_files(title),
        Ask::Folder => dialogs.pick_folder(title).into_iter().collect(),
        Ask::Save(name) => dialogs.save_file(title, name).into_iter().collect(),
    }
}

/// What is being asked, by which button (its widget id), and how.
enum Pending {
    System(Receiver<(Vec<PathBuf>, bool)>),
    Own(Box<Chooser>),
}

/// Every chooser of the app: the tabs call `files`, `folder` or `save` with a button's response
/// and get the answer in the frame it arrives (the same frame when the answer is immediate).
pub struct Choosers {
    system: Box<dyn Dialogs>,
    /// The system dialogs came back empty at once: the app's own chooser is used from now on.
    pub own: bool,
    pending: Option<(egui::Id, Ask, String, Pending)>,
    answer: Option<(egui::Id, Vec<PathBuf>)>,
    /// Frames the answer has waited: one whose button is no longer drawn (another tab is
    /// shown) is dropped rather than kept busy forever.
    answer_age: u8,
    /// Where the app's own chooser opens: the last folder something was chosen in.
    last_dir: Option<PathBuf>,
    /// The app's own chooser has said once why it is shown.
    told: bool,
}

impl Choosers {
    pub fn new(system: Box<dyn Dialogs>) -> Self {
        Choosers {
            own: system.unavailable(),
            system,
            pending: None,
            answer: None,
            answer_age: 0,
            last_dir: None,
            told: false,
        }
    }

    /// Whether a chooser is reading a folder, a system dialog is open, or an answer has yet to
    /// reach its button (next frame).
    pub fn busy(&self) -> bool {
        match &self.pending {
            Some((_, _, _, Pending::Own(c))) => c.busy(),
            Some(_) => true,
            None => self.answer.is_some(),
        }
    }

    /// Show `folder` in the file manager (through the seam: tests launch nothing).
    pub fn open_folder(&mut self, folder: &std::path::Path) {
        self.system.open_folder(folder);
    }

    /// Whether a chooser is open (the app's own, or a system dialog on its worker).
    pub fn open(&self) -> bool {
        self.pending.is_some()
    }

    /// The files `button` asked for, once chosen.
    pub fn files(&mut self, button: &egui::Response, title: &str) -> Vec<PathBuf> {
        self.ask(button, Ask::Files, title).unwrap_or_default()
    }

    /// The folder `button` asked for, once chosen.
    pub fn folder(&mut self, button: &egui::Response, title: &str) -> Option<PathBuf> {
        self.ask(button, Ask::Folder, title)
            .and_then(|v| v.into_iter().next())
    }

    /// The file to write `button` asked for, once chosen (`name` is suggested).
    pub fn save(&mut self, button: &egui::Response, title: &str, name: &str) -> Option<PathBuf> {
        self.ask(button, Ask::Save(name.into()), title)
            .and_then(|v| v.into_iter().next())
    }

    fn ask(&mut self, button: &egui::Response, ask: Ask, title: &str) -> Option<Vec<PathBuf>> {
        if button.clicked() && self.pending.is_none() {
            self.start(&button.ctx, button.id, ask, title);
        }
        match self.answer.take() {
            Some((id, paths)) if id == button.id => Some(paths).filter(|p| !p.is_empty()),
            other => {
                self.answer = other;
                None
            }
        }
    }

    fn start(&mut self, ctx: &egui::Context, id: egui::Id, ask: Ask, title: &str) {
        self.answer = None;
        if !self.own {
            if let Some(mut worker) = self.system.for_worker() {
                let (tx, rx) = channel();
                let (ctx, a, t) = (ctx.clone(), ask.clone(), title.to_string());
                std::thread::spawn(move || {
                    let paths = ask_system(worker.as_mut(), &a, &t);
                    let _ = tx.send((paths, worker.unavailable()));
                    ctx.request_repaint();
                });
                self.pending = Some((id, ask, title.into(), Pending::System(rx)));
                return;
            }
            let paths = ask_system(self.system.as_mut(), &ask, title);
            if !self.system.unavailable() {
                self.done(id, paths);
                return;
            }
            self.own = true;
        }
        self.open_own(ctx, id, ask, title);
    }

    fn open_own(&mut self, ctx: &egui::Context, id: egui::Id, ask: Ask, title: &str) {
        let start = self.last_dir.clone().unwrap_or_else(home);
        let chooser = Chooser::new(ctx, title, ask.clone(), start, !self.told);
        self.told = true;
        self.pending = Some((id, ask, title.into(), Pending::Own(Box::new(chooser))));
    }

    fn done(&mut self, id: egui::Id, paths: Vec<PathBuf>) {
        if let Some(first) = paths.first() {
            let dir = if first.is_dir() {
                Some(first.clone())
            } else {
                first.parent().map(PathBuf::from)
            };
            self.last_dir = dir.or(self.last_dir.take());
        }
        self.answer = Some((id, paths));
        self.answer_age = 0;
    }

    /// Take a system dialog's answer and draw the app's own chooser when open (once a frame,
    /// after the tabs: the answer reaches its button in the next frame).
    pub fn ui(&mut self, ctx: &egui::Context) {
        if self.answer.is_some() {
            self.answer_age += 1;
            if self.answer_age > 2 {
                self.answer = None;
            }
        }
        let Some((id, ask, title, pending)) = self.pending.as_mut() else {
            return;
        };
        let id = *id;
        // `Err(())`: the system has no dialog, ask again with the app's own chooser.
        let closed: Option<Result<Vec<PathBuf>, ()>> = match pending {
            Pending::System(rx) => match rx.try_recv() {
                Ok((paths, true)) if paths.is_empty() => Some(Err(())),
                Ok((paths, _)) => Some(Ok(paths)),
                Err(std::sync::mpsc::TryRecvError::Empty) => None,
                Err(_) => Some(Ok(Vec::new())),
            },
            Pending::Own(chooser) => match chooser.ui(ctx) {
                Outcome::Open => None,
                Outcome::Closed(paths) => {
                    self.last_dir = Some(chooser.dir.clone());
                    Some(Ok(paths))
                }
            },
        };
        let (ask, title) = (ask.clone(), title.clone());
        match closed {
            None => {}
            Some(Err(())) => {
                self.own = true;
                self.open_own(ctx, id, ask, &title);
            }
            Some(Ok(paths)) => {
                self.pending = None;
                self.done(id, paths);
                ctx.request_repaint();
            }
        }
    }
}

/// The "Output folder: … [Choose output folder…]" row shared by the tabs; `none` says where
/// output goes while no folder is chosen.
pub fn output_folder_row(
    ui: &mut egui::Ui,
    dialogs: &mut Choosers,
    folder: &mut Option<PathBuf>,
    none: &str,
    title: &str,
) {
    ui.horizontal(|ui| {
        ui.label(match folder {
            Some(d) => format!("Output folder: {}", d.display()),
            None => none.to_string(),
        });
        let button = ui.button("Choose output folder…");
        if let Some(d) = dialogs.folder(&button, title) {
            *folder = Some(d);
        }
    });
}

/// The native dialogs (xdg-portal on Linux: no GTK needed; without a portal rfd runs zenity
/// when it is installed). With neither they come back empty at once, which is remembered.
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

    fn open_folder(&mut self, folder: &std::path::Path) {
        let program = if cfg!(windows) {
            "explorer"
        } else if cfg!(target_os = "macos") {
            "open"
        } else {
            "xdg-open"
        };
        // Started, then waited for on its own thread (no zombie, no wait on the UI thread).
        if let Ok(mut child) = std::process::Command::new(program).arg(folder).spawn() {
            std::thread::spawn(move || child.wait());
        }
    }

    fn for_worker(&self) -> Option<Box<dyn Dialogs + Send>> {
        Some(Box::<NativeDialogs>::default())
    }
}
