//! The disk picker of the Scan and Snapshot tabs: the disks attached to this computer (model,
//! size, bus, removable, mounted) and their partitions, a "Disk image file…" button, and a path
//! one can type (Enter adds it). Every path is checked before it is added — it exists, may be
//! read, its size — and a problem is said in one sentence, with the exact command when the user
//! may not read a device — and, where UDisks2 runs, a button that asks it to open the device
//! read-only (polkit asks for the password, as in GNOME Disks).
//! Listing and checking run on worker threads (opening an empty drive can take seconds); this
//! never writes to a disk and never reads more than /sys, /proc and a device's size.

use super::dialogs::Choosers;
use super::jobs::human;
use crate::engine::disks::{self, Checked, Disk};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, channel};

/// Why a path was not added, in words, and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// One plain sentence.
    Said(String),
    /// The user may not read this device: how to get read access.
    Denied {
        path: PathBuf,
        udisks: bool,
        commands: Vec<String>,
    },
}

type Checking = Receiver<Vec<(PathBuf, Checked, bool)>>;
type Opening = Receiver<(PathBuf, Result<std::fs::File, String>)>;

/// Asking the system's disk service for a disk one may not read (tests play it).
#[derive(Clone, Copy)]
pub struct DiskService {
    /// Whether it is there to be asked.
    pub available: fn() -> bool,
    /// Open a device read-only (the service asks for the password); an error is one sentence.
    pub open: fn(&Path) -> Result<std::fs::File, String>,
}

impl Default for DiskService {
    fn default() -> Self {
        DiskService {
            available: disks::udisks_running,
            open: open_through_udisks,
        }
    }
}

#[cfg(target_os = "linux")]
fn open_through_udisks(p: &Path) -> Result<std::fs::File, String> {
    crate::engine::udisks::open_read_only_system(p)
}

#[cfg(not(target_os = "linux"))]
fn open_through_udisks(p: &Path) -> Result<std::fs::File, String> {
    Err(format!(
        "{} cannot be opened for you on this system.",
        p.display()
    ))
}

pub struct DiskPicker {
    /// Where disks are listed from (fixtures in tests).
    pub sys: PathBuf,
    pub mountinfo: PathBuf,
    /// How a path is checked (tests replace it to play a device one may not read).
    pub check: fn(&Path) -> Checked,
    /// UDisks2, for devices one may not read.
    pub service: DiskService,
    /// The path being typed.
    pub typed: String,
    /// The disks, once listed; the list is shown while `Some`.
    pub disks: Option<Vec<Disk>>,
    listing: Option<Receiver<Vec<Disk>>>,
    checking: Option<Checking>,
    opening: Option<Opening>,
    /// Why the last path was not added.
    pub refusal: Option<Refusal>,
    /// Why the disk service did not open it, when it was asked.
    pub service_error: Option<String>,
}

impl Default for DiskPicker {
    fn default() -> Self {
        DiskPicker {
            sys: PathBuf::from("/sys"),
            mountinfo: PathBuf::from("/proc/self/mountinfo"),
            check: disks::check,
            service: DiskService::default(),
            typed: String::new(),
            disks: None,
            listing: None,
            checking: None,
            opening: None,
            refusal: None,
            service_error: None,
        }
    }
}

impl DiskPicker {
    /// Whether disks are being listed or a path checked.
    pub fn busy(&self) -> bool {
        self.listing.is_some() || self.checking.is_some() || self.opening.is_some()
    }

    /// Draw the picker; returns the paths that were checked and can be read, in the frame they
    /// come back. `file_title` titles the file chooser.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        dialogs: &mut Choosers,
        file_title: &str,
    ) -> Vec<PathBuf> {
        let added = self.poll(ui.ctx());
        ui.horizontal_wrapped(|ui| {
            let label = if self.disks.is_some() || self.listing.is_some() {
                "Hide disks"
            } else {
                "Choose a disk…"
            };
            if ui
                .button(label)
                .on_hover_text("The disks attached to this computer")
                .clicked()
            {
                if label == "Hide disks" {
                    self.disks = None;
                    self.listing = None;
                } else {
                    self.list(ui.ctx());
                }
            }
            let file = ui.button("Disk image file…");
            // A file from a chooser is checked like a typed one (it may be a device node).
            let files = dialogs.files(&file, file_title);
            if !files.is_empty() {
                self.start_check(ui.ctx(), files);
            }
            let l = ui.label("or type a path:");
            let edit = ui
                .add(
                    egui::TextEdit::singleline(&mut self.typed)
                        .hint_text("/dev/sdb")
                        .desired_width(180.0),
                )
                .labelled_by(l.id);
            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let ready = !self.typed.trim().is_empty();
            if (ui.add_enabled(ready, egui::Button::new("Add")).clicked() || enter) && ready {
                let p = PathBuf::from(self.typed.trim());
                self.start_check(ui.ctx(), vec![p]);
            }
            if self.checking.is_some() {
                ui.spinner();
                ui.label("Checking…");
            }
        });
        if let Some(p) = self.disks_ui(ui) {
            self.start_check(ui.ctx(), vec![p]);
        }
        self.refusal_ui(ui);
        added
    }

    /// List the disks again (on a worker).
    pub fn list(&mut self, ctx: &egui::Context) {
        let (tx, rx) = channel();
        let (sys, mountinfo, ctx) = (self.sys.clone(), self.mountinfo.clone(), ctx.clone());
        std::thread::spawn(move || {
            let _ = tx.send(disks::list_in(&sys, &mountinfo));
            ctx.request_repaint();
        });
        self.listing = Some(rx);
    }

    fn start_check(&mut self, ctx: &egui::Context, paths: Vec<PathBuf>) {
        let (tx, rx) = channel();
        let (check, available, ctx) = (self.check, self.service.available, ctx.clone());
        self.refusal = None;
        self.service_error = None;
        std::thread::spawn(move || {
            let checked = paths
                .into_iter()
                .map(|path| {
                    let checked = check(&path);
                    let udisks = checked == Checked::Denied && available();
                    (path, checked, udisks)
                })
                .collect();
            let _ = tx.send(checked);
            ctx.request_repaint();
        });
        self.checking = Some(rx);
    }

    /// Take in listings and checks; returns the paths that may be added.
    fn poll(&mut self, ctx: &egui::Context) -> Vec<PathBuf> {
        if let Some(rx) = &self.listing
            && let Ok(d) = rx.try_recv()
        {
            self.disks = Some(d);
            self.listing = None;
        }
        if let Some(rx) = &self.opening
            && let Ok((path, opened)) = rx.try_recv()
        {
            self.opening = None;
            match opened {
                Ok(file) => {
                    crate::engine::granted::grant(&path, file);
                    self.start_check(ctx, vec![path]);
                }
                Err(e) => self.service_error = Some(e),
            }
        }
        let Some(rx) = &self.checking else {
            return Vec::new();
        };
        let Ok(results) = rx.try_recv() else {
            return Vec::new();
        };
        self.checking = None;
        let mut added = Vec::new();
        for (path, checked, udisks) in results {
            match self.refusal_of(path, checked, udisks) {
                Ok(path) => added.push(path),
                Err(r) => self.refusal = Some(r),
            }
        }
        added
    }

    /// The path back when it may be added, else why not.
    fn refusal_of(
        &mut self,
        path: PathBuf,
        checked: Checked,
        udisks: bool,
    ) -> Result<PathBuf, Refusal> {
        let shown = path.display();
        Err(match checked {
            Checked::Readable { .. } => {
                if self.typed.trim() == path.as_os_str() {
                    self.typed.clear();
                }
                return Ok(path);
            }
            Checked::Missing => Refusal::Said(format!("There is nothing at {shown}.")),
            Checked::Folder => Refusal::Said(format!(
                "{shown} is a folder: choose a disk or a disk image file."
            )),
            Checked::Other(e) => Refusal::Said(format!("{shown} cannot be opened: {e}.")),
            Checked::Denied => Refusal::Denied {
                commands: disks::access_commands(&path),
                path,
                udisks,
            },
        })
    }

    /// The list of disks, when shown; returns the disk or partition clicked.
    fn disks_ui(&mut self, ui: &mut egui::Ui) -> Option<PathBuf> {
        if self.listing.is_some() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Looking for disks…");
            });
            return None;
        }
        let disks = self.disks.as_ref()?;
        let mut picked = None;
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.strong("Disks attached to this computer");
                if ui.button("Refresh").clicked() {
                    picked = Some(None);
                }
            });
            if disks.is_empty() {
                ui.label("No disk was found. Plug it in, then click Refresh.");
            }
            for d in disks {
                if ui.button(disk_line(d)).clicked() {
                    picked = Some(Some(d.path.clone()));
                }
                for p in &d.partitions {
                    ui.horizontal(|ui| {
                        ui.add_space(24.0);
                        let line = format!(
                            "{} — partition, {}{}",
                            p.path.display(),
                            human(p.size),
                            mounted(&p.mounts)
                        );
                        if ui.button(line).clicked() {
                            picked = Some(Some(p.path.clone()));
                        }
                    });
                }
            }
            ui.weak(
                "A disk that is mounted may change while it is read; unmount it first for a \
                 faithful scan. Disks are only ever read.",
            );
        });
        match picked {
            Some(None) => {
                self.list(ui.ctx());
                None
            }
            Some(Some(p)) => Some(p),
            None => None,
        }
    }

    fn refusal_ui(&mut self, ui: &mut egui::Ui) {
        let mut retry = None;
        let mut ask = None;
        match &self.refusal {
            None => {}
            Some(Refusal::Said(s)) => {
                ui.colored_label(ui.visuals().warn_fg_color, s);
            }
            Some(Refusal::Denied {
                path,
                udisks,
                commands,
            }) => {
                let dev = path.display();
                let warn = ui.visuals().warn_fg_color;
                if *udisks {
                    ui.colored_label(
                        warn,
                        format!(
                            "You may not read {dev}. SeqBox can ask the system to open it read \
                             only; it will ask for your password."
                        ),
                    );
                    ui.horizontal(|ui| {
                        let asking = self.opening.is_some();
                        if ui
                            .add_enabled(!asking, egui::Button::new("Open read-only…"))
                            .on_hover_text(
                                "UDisks2 opens the disk for reading only, as GNOME Disks does",
                            )
                            .clicked()
                        {
                            ask = Some(path.clone());
                        }
                        if asking {
                            ui.spinner();
                            ui.label("Waiting for the password…");
                        }
                    });
                    if let Some(e) = &self.service_error {
                        ui.colored_label(warn, e);
                    }
                    ui.label(
                        "Or allow it in a terminal (read only, until the disk is unplugged), \
                         then click Try again:",
                    );
                } else {
                    ui.colored_label(
                        warn,
                        format!(
                            "You may not read {dev}. To allow it (read only, until the disk is \
                             unplugged), run this in a terminal, then click Try again:"
                        ),
                    );
                }
                for c in commands.iter().take(1) {
                    command_line(ui, c);
                }
                if let Some(c) = commands.get(1) {
                    ui.label("Or start SeqBox as the administrator with the disk:");
                    command_line(ui, c);
                }
                if ui.button("Try again").clicked() {
                    retry = Some(path.clone());
                }
            }
        }
        if let Some(p) = retry {
            self.start_check(ui.ctx(), vec![p]);
        }
        if let Some(p) = ask {
            self.ask_service(ui.ctx(), p);
        }
    }

    /// Ask the disk service to open `path` read-only, on a worker (the password dialog waits).
    fn ask_service(&mut self, ctx: &egui::Context, path: PathBuf) {
        let (tx, rx) = channel();
        let (open, ctx) = (self.service.open, ctx.clone());
        self.service_error = None;
        std::thread::spawn(move || {
            let opened = open(&path);
            let _ = tx.send((path, opened));
            ctx.request_repaint();
        });
        self.opening = Some(rx);
    }
}

/// "/dev/sdb — SanDisk Cruzer Blade, 8.0 GB, USB, removable, mounted at /media/…".
fn disk_line(d: &Disk) -> String {
    let mut words = vec![];
    if !d.model.is_empty() {
        words.push(d.model.clone());
    }
    words.push(human(d.size));
    words.push(d.bus.word().to_string());
    if d.removable {
        words.push("removable".into());
    }
    if d.read_only {
        words.push("read-only".into());
    }
    format!(
        "{} — {}{}",
        d.path.display(),
        words.join(", "),
        mounted(&d.mounts)
    )
}

fn mounted(points: &[PathBuf]) -> String {
    match points {
        [] => String::new(),
        [p, ..] => format!(", in use (mounted at {})", p.display()),
    }
}

/// A command in a monospace line with a button that copies it.
fn command_line(ui: &mut egui::Ui, command: &str) {
    ui.horizontal(|ui| {
        ui.code(command);
        if ui
            .button("Copy")
            .on_hover_text(format!("Copy \"{command}\""))
            .clicked()
        {
            ui.ctx().copy_text(command.to_string());
        }
    });
}
