//! The Snapshot tab: take a snapshot of an ext4 disk image (where every file lives, with a
//! checksum per block), browse its folders, pick files, and recover them later — even after
//! they were deleted — with a verdict per file that says exactly which bytes are intact.
//! The image is only ever read; loading and recovering run on worker threads.

use super::dialogs::{Choosers, output_folder_row};
use super::jobs::{Job, human, progress_ui};
use super::problem::{Problem, said_ui};
use crate::engine::ext4::recover::{self, RecoverOpts, RecoverReport};
use crate::engine::ext4::snapshot::{self, CreateOpts, CreateReport};
use crate::engine::ext4::{FileEntry, SnapshotInfo, Snapshots, display_path};
use crate::engine::words::{self, Said, Verdict};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// A folder of the snapshot's tree: sub-folders by name, files by name.
#[derive(Default)]
pub struct Folder {
    pub folders: BTreeMap<Vec<u8>, Folder>,
    pub files: BTreeMap<Vec<u8>, FileEntry>,
    /// Bytes and files below, for the folder's line.
    pub bytes: u64,
    pub count: u64,
}

impl Folder {
    fn build(files: Vec<FileEntry>) -> Folder {
        let mut root = Folder::default();
        for f in files {
            let parts: Vec<&[u8]> = f
                .path
                .split(|&b| b == b'/')
                .filter(|p| !p.is_empty())
                .collect();
            let Some((leaf, dirs)) = parts.split_last() else {
                continue;
            };
            let mut at = &mut root;
            at.bytes += f.size;
            at.count += 1;
            for d in dirs {
                at = at.folders.entry(d.to_vec()).or_default();
                at.bytes += f.size;
                at.count += 1;
            }
            at.files.insert(leaf.to_vec(), f);
        }
        root
    }
}

/// An open snapshot database: its snapshots and the latest one's files as a tree.
pub struct Loaded {
    pub path: PathBuf,
    pub snapshots: Vec<SnapshotInfo>,
    pub tree: Folder,
}

#[derive(Default)]
pub struct SnapshotTab {
    /// The ext4 image (or device) to snapshot or recover from.
    pub image: Option<PathBuf>,
    /// The snapshot database; default `IMAGE.snapshot.sqlite` beside the image.
    pub snapshot_file: Option<PathBuf>,
    pub map_only: bool,
    pub search_moved: bool,
    pub out_dir: Option<PathBuf>,
    /// Paths (files, or folders ending in '/') picked for recovery.
    pub picked: BTreeSet<Vec<u8>>,
    pub loaded: Option<Loaded>,
    pub created: Option<Result<CreateReport, Problem>>,
    pub report: Option<Result<RecoverReport, Problem>>,
    load_job: Option<Job<Loaded>>,
    create_job: Option<Job<CreateReport>>,
    recover_job: Option<Job<RecoverReport>>,
    pub load_error: Option<Problem>,
    /// Chooses the disk image or device (checked before it is taken).
    pub picker: super::disk_picker::DiskPicker,
}

impl SnapshotTab {
    pub fn busy(&self) -> bool {
        self.load_job.is_some() || self.create_job.is_some() || self.recover_job.is_some()
    }

    /// The snapshot file: the chosen one, or `IMAGE.snapshot.sqlite` beside the image.
    pub fn snapshot_path(&self) -> Option<PathBuf> {
        self.snapshot_file.clone().or_else(|| {
            self.image
                .as_deref()
                .map(crate::engine::ext4::owners::default_snapshot_path)
        })
    }

    /// Read a snapshot database's list and its latest tree (on a worker thread).
    pub fn open(&mut self, ctx: &egui::Context, path: PathBuf) {
        self.snapshot_file = Some(path.clone());
        self.load_error = None;
        self.load_job = Some(Job::spawn(ctx, move |_, _| {
            let db = Snapshots::open(&path)?;
            let snapshots = db.list()?;
            let tree = match snapshots.last() {
                Some(s) => Folder::build(db.files(s.id, b"")?),
                None => Folder::default(),
            };
            Ok(Loaded {
                path,
                snapshots,
                tree,
            })
        }));
    }

    /// Take in what the running jobs sent (called every frame, whatever tab is shown).
    pub fn poll(&mut self, ctx: &egui::Context) {
        if let Some(j) = self.load_job.as_mut()
            && let Some(r) = j.poll()
        {
            match r {
                Ok(l) => {
                    if self.image.is_none() {
                        self.image = l.snapshots.last().map(|s| s.image.clone());
                    }
                    self.loaded = Some(l);
                }
                Err(e) => self.load_error = Some(Problem::new(&e)),
            }
            self.load_job = None;
        }
        if let Some(j) = self.create_job.as_mut()
            && let Some(r) = j.poll()
        {
            let ok = r.is_ok();
            self.created = Some(r.map_err(|e| Problem::new(&e)));
            self.create_job = None;
            if ok && let Some(p) = self.snapshot_path() {
                self.open(ctx, p);
            }
        }
        if let Some(j) = self.recover_job.as_mut()
            && let Some(r) = j.poll()
        {
            self.report = Some(r.map_err(|e| Problem::new(&e)));
            self.recover_job = None;
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, dialogs: &mut Choosers) {
        ui.heading("Snapshots of an ext4 disk");
        ui.label(
            "A snapshot records where every file lives, with a checksum of each block. \
             Later, even after a file is deleted, it can be read back and proven intact.",
        );
        ui.label(match &self.image {
            Some(i) => format!("Disk image: {}", i.display()),
            None => "Disk image: not chosen".into(),
        });
        if let Some(i) = self
            .picker
            .ui(ui, dialogs, "An ext4 disk image or device")
            .pop()
        {
            self.image = Some(i);
        }
        ui.horizontal(|ui| {
            ui.label(match self.snapshot_path() {
                Some(s) => format!("Snapshot file: {}", s.display()),
                None => "Snapshot file: beside the image".into(),
            });
            let choose = ui.button("Choose snapshot file…");
            if let Some(s) = dialogs.save(&choose, "Snapshot file", "disk.snapshot.sqlite") {
                self.snapshot_file = Some(s);
            }
            let open = ui.button("Open snapshot…");
            if let Some(s) = dialogs
                .files(&open, "A snapshot (.sqlite)")
                .into_iter()
                .next()
            {
                self.open(ui.ctx(), s);
            }
        });
        ui.checkbox(
            &mut self.map_only,
            "Quick: record where files are, without checksums (cannot prove files intact)",
        );
        if let Some(job) = &self.create_job {
            if progress_ui(ui, job, "Taking a snapshot", "Cancel") {
                job.cancel.cancel();
            }
        } else if ui
            .add_enabled(self.image.is_some(), egui::Button::new("Take snapshot"))
            .clicked()
        {
            self.start_create(ui.ctx());
        }
        match &self.created {
            Some(Ok(r)) => created_ui(ui, r),
            Some(Err(p)) => p.ui(ui),
            None => {}
        }
        ui.separator();
        if let Some(p) = &self.load_error {
            p.ui(ui);
        }
        if self.load_job.is_some() {
            ui.label("Reading the snapshot…");
        }
        if let Some(l) = &self.loaded {
            match l.snapshots.last() {
                Some(s) => {
                    ui.strong(format!(
                        "Snapshot {} of {} — taken {} — {} files, {}{}",
                        s.id,
                        s.image.display(),
                        when(s.taken_at),
                        s.files,
                        human(s.bytes),
                        if s.fingerprinted {
                            ""
                        } else {
                            " — map only, no checksums"
                        }
                    ));
                }
                None => {
                    ui.label("This snapshot file holds no snapshot yet.");
                }
            }
            ui.horizontal(|ui| {
                ui.label(format!("{} picked", self.picked.len()));
                if ui.button("Pick everything").clicked() {
                    self.picked = BTreeSet::from([b"/".to_vec()]);
                }
                if ui.button("Pick nothing").clicked() {
                    self.picked.clear();
                }
            });
            egui::ScrollArea::vertical()
                .id_salt("snapshot tree")
                .max_height(340.0)
                .auto_shrink([false, true])
                .show(ui, |ui| {
                    let all = self.picked.contains(b"/".as_slice());
                    folder_ui(ui, &l.tree, b"", &mut self.picked, all);
                });
        }
        ui.separator();
        output_folder_row(
            ui,
            dialogs,
            &mut self.out_dir,
            "Output folder: not chosen",
            "Where recovered files go (not on the disk being rescued)",
        );
        ui.checkbox(
            &mut self.search_moved,
            "Also search the whole disk for pieces that moved (slower)",
        );
        if let Some(job) = &self.recover_job {
            if progress_ui(ui, job, "Recovering", "Cancel") {
                job.cancel.cancel();
            }
        } else {
            let ready = self.loaded.is_some()
                && self.image.is_some()
                && self.out_dir.is_some()
                && !self.picked.is_empty();
            ui.horizontal(|ui| {
                if ui
                    .add_enabled(ready, egui::Button::new("Recover picked files"))
                    .clicked()
                {
                    self.start_recover(ui.ctx());
                }
                if !ready {
                    ui.weak(if self.loaded.is_none() {
                        "Take or open a snapshot first."
                    } else if self.picked.is_empty() {
                        "Pick files or folders in the tree."
                    } else {
                        "Choose an output folder first."
                    });
                }
            });
        }
        match &self.report {
            Some(Ok(r)) => report_ui(ui, r),
            Some(Err(p)) => p.ui(ui),
            None => {}
        }
    }

    fn start_create(&mut self, ctx: &egui::Context) {
        let (Some(image), Some(out)) = (self.image.clone(), self.snapshot_path()) else {
            return;
        };
        let opts = CreateOpts {
            image,
            offset: None,
            out,
            map_only: self.map_only,
        };
        self.created = None;
        self.create_job = Some(Job::spawn(ctx, move |cancel, progress| {
            snapshot::create(&opts, cancel, progress)
        }));
    }

    fn start_recover(&mut self, ctx: &egui::Context) {
        let (Some(l), Some(image), Some(out_dir)) =
            (&self.loaded, self.image.clone(), self.out_dir.clone())
        else {
            return;
        };
        let paths = if self.picked.contains(b"/".as_slice()) {
            Vec::new()
        } else {
            self.picked
                .iter()
                .map(|p| p.strip_suffix(b"/").unwrap_or(p).to_vec())
                .collect()
        };
        let opts = RecoverOpts {
            snapshot: l.path.clone(),
            snapshot_id: l.snapshots.last().map(|s| s.id),
            image,
            offset: None,
            paths,
            out_dir,
            search_moved: self.search_moved,
            overwrite: false,
        };
        self.report = None;
        self.recover_job = Some(Job::spawn(ctx, move |cancel, progress| {
            recover::run(&opts, cancel, progress)
        }));
    }
}

/// A folder's line (pick the whole folder) and, when opened, its contents. Inside a picked
/// folder (`covered`) everything shows as picked.
fn folder_ui(
    ui: &mut egui::Ui,
    f: &Folder,
    path: &[u8],
    picked: &mut BTreeSet<Vec<u8>>,
    covered: bool,
) {
    for (n, sub) in &f.folders {
        let mut p = path.to_vec();
        p.push(b'/');
        p.extend_from_slice(n);
        let key = [p.as_slice(), b"/"].concat();
        let label = format!(
            "{}/ ({} files, {})",
            display_path(n),
            sub.count,
            human(sub.bytes)
        );
        let this = covered || picked.contains(&key);
        egui::CollapsingHeader::new(label)
            .id_salt(("folder", &p))
            .show(ui, |ui| {
                let mut on = this;
                let pick = format!("Pick all of {}/", display_path(&p));
                if ui
                    .add_enabled(!covered, egui::Checkbox::new(&mut on, pick))
                    .changed()
                {
                    toggle(picked, key.clone(), on);
                }
                folder_ui(ui, sub, &p, picked, this);
            });
    }
    for (n, file) in &f.files {
        let mut on = covered || picked.contains(&file.path);
        let label = format!("{} ({})", display_path(n), human(file.size));
        if ui
            .add_enabled(!covered, egui::Checkbox::new(&mut on, label))
            .on_hover_text(format!("{} — inode {}", display_path(&file.path), file.ino))
            .changed()
        {
            toggle(picked, file.path.clone(), on);
        }
    }
}

fn toggle(picked: &mut BTreeSet<Vec<u8>>, key: Vec<u8>, on: bool) {
    if on {
        picked.insert(key);
    } else {
        picked.remove(&key);
    }
}

fn created_ui(ui: &mut egui::Ui, r: &CreateReport) {
    ui.label(format!(
        "Snapshot {} taken: {} files in {} folders; {} read and checksummed, {} files unchanged since the last snapshot.",
        r.snapshot_id,
        r.files,
        r.dirs,
        human(r.bytes_hashed),
        r.files_reused
    ));
    if r.may_be_incomplete {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            "The disk was not cleanly unmounted (or was in use): the snapshot may be incomplete.",
        );
    }
    if !r.problems.is_empty() || !r.notes.is_empty() {
        ui.collapsing(
            format!(
                "Details: {} problem(s) skipped, {} note(s)",
                r.problems.len(),
                r.notes.len()
            ),
            |ui| {
                for p in r.problems.iter().take(100) {
                    ui.label(p.to_string());
                }
                for n in r.notes.iter().take(100) {
                    ui.label(n);
                }
            },
        );
    }
}

fn report_ui(ui: &mut egui::Ui, r: &RecoverReport) {
    let mut items: Vec<Said> = r.files.iter().map(words::snapshot_file).collect();
    items.extend(r.not_found.iter().map(|n| Said {
        verdict: Verdict::Failed,
        line: format!("{n}: failed — not in the snapshot"),
        details: Vec::new(),
    }));
    let v: Vec<_> = items.iter().map(|s| s.verdict).collect();
    ui.strong(words::summary(&v, "files"));
    for (i, s) in items.iter().enumerate() {
        said_ui(ui, s, "Details", i);
    }
}

/// A snapshot time for people (UTC).
fn when(secs: i64) -> String {
    crate::engine::info::iso_utc(secs)
}
