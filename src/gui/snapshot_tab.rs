//! The Snapshot tab: take a snapshot of a disk image (ext2/3/4, FAT12/16/32 or NTFS) (where every file lives, with a
//! checksum per block), browse its folders, pick files, and recover them later — even after
//! they were deleted — with a verdict per file that says exactly which bytes are intact.
//! Every snapshot in the file is listed (date, file count) and can be chosen; by default
//! files come back from the newest snapshot that holds them. The image is only ever read;
//! loading and recovering run on worker threads (the UI thread opens no file).

use super::dialogs::{Choosers, output_folder_row};
use super::jobs::{Job, human, progress_ui};
use super::problem::{Problem, said_ui};
pub use super::snapshot_tree::Folder;
use super::snapshot_tree::{Plan, Summary, count, folder_ui, plan, summarise};
use crate::engine::ext4::recover::{self, RecoverOpts, RecoverReport};
use crate::engine::ext4::snapshot::{self, CreateOpts, CreateReport};
use crate::engine::ext4::{SnapshotInfo, Snapshots};
use crate::engine::job::Error;
use crate::engine::words::{self, Said, Verdict};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// An open snapshot database: its snapshots (oldest first) and every file of all of them as
/// one tree.
pub struct Loaded {
    pub path: PathBuf,
    pub snapshots: Vec<SnapshotInfo>,
    pub tree: Folder,
}

impl Loaded {
    /// The newest snapshot's id (0 when the file holds none).
    pub fn newest(&self) -> i64 {
        self.snapshots.last().map_or(0, |s| s.id)
    }
}

#[derive(Default)]
pub struct SnapshotTab {
    /// The disk image (or device) to snapshot or recover from.
    pub image: Option<PathBuf>,
    /// The snapshot database; default `IMAGE.snapshot.sqlite` beside the image.
    pub snapshot_file: Option<PathBuf>,
    pub map_only: bool,
    pub search_moved: bool,
    pub out_dir: Option<PathBuf>,
    /// Paths (files, or folders ending in '/') picked for recovery.
    pub picked: BTreeSet<Vec<u8>>,
    /// The snapshot chosen in the list; `None`: the newest that holds the picked files.
    pub chosen: Option<i64>,
    pub loaded: Option<Loaded>,
    pub created: Option<Result<CreateReport, Problem>>,
    pub report: Option<Result<RecoverReport, Problem>>,
    load_job: Option<Job<Option<Loaded>>>,
    /// The image the snapshot beside it was last looked for (a new image is followed).
    followed: Option<PathBuf>,
    /// The picks summed up, for these picks and this chosen snapshot.
    summary: Option<(BTreeSet<Vec<u8>>, Option<i64>, Summary)>,
    /// Where "Open folder" shows the recovered files.
    pub saved_to: Option<PathBuf>,
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

    /// The snapshot file: the chosen one, or `IMAGE.snapshot.sqlite` beside the image (a
    /// device's in the user's data folder).
    pub fn snapshot_path(&self) -> Option<PathBuf> {
        self.snapshot_file.clone().or_else(|| {
            self.image
                .as_deref()
                .map(crate::engine::ext4::owners::default_snapshot_path)
        })
    }

    /// Read a snapshot database's list and all its files (on a worker thread).
    pub fn open(&mut self, ctx: &egui::Context, path: PathBuf) {
        self.snapshot_file = Some(path.clone());
        self.load(ctx, path, false);
    }

    /// Load `path` on a worker; `if_there`: a missing file is no error (the default snapshot
    /// beside a newly chosen image may not exist yet).
    fn load(&mut self, ctx: &egui::Context, path: PathBuf, if_there: bool) {
        self.load_error = None;
        self.load_job = Some(Job::spawn(ctx, move |_, _| {
            if if_there && !path.is_file() {
                return Ok(None);
            }
            load(path).map(Some)
        }));
    }

    /// A newly chosen image (button, drop, command line, disk picker): its snapshots, when a
    /// snapshot file lies beside it and no other snapshot file was chosen.
    fn follow_image(&mut self, ctx: &egui::Context) {
        // While a job runs the image is looked at again on a later frame.
        if self.image == self.followed || self.busy() {
            return;
        }
        self.followed = self.image.clone();
        if self.snapshot_file.is_some() {
            return;
        }
        self.loaded = None;
        self.picked.clear();
        self.chosen = None;
        if let Some(p) = self.snapshot_path() {
            self.load(ctx, p, true);
        }
    }

    /// Take in what the running jobs sent (called every frame, whatever tab is shown).
    pub fn poll(&mut self, ctx: &egui::Context) {
        self.follow_image(ctx);
        if let Some(j) = self.load_job.as_mut()
            && let Some(r) = j.poll()
        {
            match r {
                Ok(Some(l)) => {
                    if self.image.is_none() {
                        self.image = l.snapshots.last().map(|s| s.image.clone());
                        self.followed = self.image.clone();
                    }
                    if self
                        .chosen
                        .is_some_and(|c| l.snapshots.iter().all(|s| s.id != c))
                    {
                        self.chosen = None;
                    }
                    self.loaded = Some(l);
                    self.summary = None;
                }
                Ok(None) => self.loaded = None,
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
            // The new list; a snapshot file beside the image stays "beside the image", so
            // choosing another image later brings that image's snapshots.
            if ok && let Some(p) = self.snapshot_path() {
                self.load(ctx, p, false);
            }
        }
        if let Some(j) = self.recover_job.as_mut()
            && let Some(r) = j.poll()
        {
            self.saved_to = r.as_ref().ok().map(|r| r.out_dir.clone());
            self.report = Some(r.map_err(|e| Problem::new(&e)));
            self.recover_job = None;
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, dialogs: &mut Choosers) {
        ui.heading("Snapshots of a disk (ext4, FAT or NTFS)");
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
            .ui(ui, dialogs, "A disk image or device (ext4, FAT or NTFS)")
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
        if self.loaded.is_some() {
            self.snapshots_ui(ui);
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
            Some(Ok(r)) => {
                report_ui(ui, r);
                if let Some(dir) = &self.saved_to
                    && ui
                        .button("Open folder")
                        .on_hover_text(format!("Show {} in the file manager", dir.display()))
                        .clicked()
                {
                    dialogs.open_folder(dir);
                }
            }
            Some(Err(p)) => p.ui(ui),
            None => {}
        }
    }

    /// The list of snapshots (each selectable), what is picked, and the tree.
    fn snapshots_ui(&mut self, ui: &mut egui::Ui) {
        let Some(l) = &self.loaded else {
            return;
        };
        if l.snapshots.is_empty() {
            ui.label("This snapshot file holds no snapshot yet.");
            return;
        }
        let newest = l.newest();
        ui.strong(format!(
            "{} in this file — choose the one to recover from:",
            count(l.snapshots.len() as u64, "snapshot", "snapshots")
        ));
        let fresh =
            matches!(&self.summary, Some((p, c, _)) if *p == self.picked && *c == self.chosen);
        if !fresh {
            let s = summarise(&l.tree, &self.picked, self.chosen, newest);
            self.summary = Some((self.picked.clone(), self.chosen, s));
        }
        let Some((_, _, sum)) = &self.summary else {
            return;
        };
        let auto = match &sum.auto {
            Plan::One(id, _) if self.picked.is_empty() => format!(" — now snapshot {id}"),
            Plan::One(id, _) => format!(" — snapshot {id} for the picked files"),
            Plan::Each(groups) => format!(
                " — no one snapshot holds all the picked files: each comes from the newest that holds it (snapshots {})",
                groups
                    .iter()
                    .map(|g| g.0.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        ui.radio_value(
            &mut self.chosen,
            None,
            format!("The newest snapshot that holds the picked files{auto}"),
        );
        for s in l.snapshots.iter().rev() {
            ui.radio_value(&mut self.chosen, Some(s.id), snapshot_line(s));
        }
        if let Some(id) = self.chosen
            && sum.not_in_chosen > 0
        {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!(
                    "Snapshot {id} does not hold {} of the picked files (deleted before it was taken, or made after).",
                    sum.not_in_chosen
                ),
            );
        }
        ui.horizontal(|ui| {
            ui.label(match sum.files {
                0 => "0 files picked".to_string(),
                n => format!(
                    "{} picked ({})",
                    count(n, "file", "files"),
                    human(sum.bytes)
                ),
            });
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
                folder_ui(ui, &l.tree, b"", &mut self.picked, all, newest);
            });
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
            if let Some(folder) = opts.out.parent().filter(|f| !f.as_os_str().is_empty()) {
                std::fs::create_dir_all(folder).map_err(crate::engine::Error::write(folder))?;
            }
            snapshot::create(&opts, cancel, progress)
        }));
    }

    fn start_recover(&mut self, ctx: &egui::Context) {
        let (Some(l), Some(image), Some(out_dir)) =
            (&self.loaded, self.image.clone(), self.out_dir.clone())
        else {
            return;
        };
        let groups = match plan(&l.tree, &self.picked, self.chosen, l.newest()) {
            Plan::One(id, paths) => vec![(id, paths)],
            Plan::Each(groups) => groups,
        };
        let base = RecoverOpts {
            snapshot: l.path.clone(),
            image,
            offset: None,
            out_dir,
            search_moved: self.search_moved,
            overwrite: false,
            ..Default::default()
        };
        self.report = None;
        self.saved_to = None;
        self.recover_job = Some(Job::spawn(ctx, move |cancel, progress| {
            recover_groups(&base, groups, cancel, progress)
        }));
    }
}

/// Read the snapshot file: its list and the files of every snapshot.
fn load(path: PathBuf) -> Result<Loaded, Error> {
    let db = Snapshots::open(&path)?;
    let snapshots = db.list()?;
    let mut files = Vec::new();
    for s in &snapshots {
        files.push((s.id, db.files(s.id, b"")?));
    }
    Ok(Loaded {
        path,
        snapshots,
        tree: Folder::build(files),
    })
}

/// Recover each group of paths from its snapshot, one after the other, as one report.
fn recover_groups(
    base: &RecoverOpts,
    groups: Vec<(i64, Vec<Vec<u8>>)>,
    cancel: &crate::engine::CancelFlag,
    progress: &(dyn Fn(crate::engine::job::Progress) + Sync),
) -> Result<RecoverReport, Error> {
    let mut all: Option<RecoverReport> = None;
    for (id, paths) in groups {
        let opts = RecoverOpts {
            snapshot_id: Some(id),
            paths,
            ..base.clone()
        };
        let r = recover::run(&opts, cancel, progress)?;
        match &mut all {
            None => all = Some(r),
            Some(a) => {
                a.files.extend(r.files);
                a.identical += r.identical;
                a.partial += r.partial;
                a.not_recoverable += r.not_recoverable;
                a.not_found.extend(r.not_found);
                a.problems.extend(r.problems);
            }
        }
    }
    all.ok_or_else(|| Error::Invalid("nothing to recover".into()))
}

/// "Snapshot 2 of /disk.img — taken Mon 30 Nov 2026, 14:05 — 120 files, 1.2 GiB, FAT32"
fn snapshot_line(s: &SnapshotInfo) -> String {
    format!(
        "Snapshot {} of {} — taken {} — {}, {}, {}{}",
        s.id,
        s.image.display(),
        super::when::local(s.taken_at),
        count(s.files, "file", "files"),
        human(s.bytes),
        s.fs_type,
        if s.fingerprinted {
            ""
        } else {
            " — map only, no checksums"
        }
    )
}

fn created_ui(ui: &mut egui::Ui, r: &CreateReport) {
    ui.label(format!(
        "Snapshot {} taken: {} disk, {} in {}; {} read and checksummed, {} unchanged since the last snapshot.",
        r.snapshot_id,
        r.fs_type,
        count(r.files, "file", "files"),
        count(r.dirs, "folder", "folders"),
        human(r.bytes_hashed),
        count(r.files_reused, "file", "files"),
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
