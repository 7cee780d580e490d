//! The Encode tab's list: single files and whole folders (walked by a job, with their count
//! and total size), each file's size and its container's expected size, and the containers
//! already there with *Replace* / *Keep both* (never replaced without a click). What is on the
//! disk is looked at by jobs — a walk per folder, a survey of sizes and existing outputs —
//! so the UI thread never touches the disk here. What to do about an existing container is
//! `encode_existing.rs`.

use super::dialogs::Choosers;
pub use super::encode_existing::OnExisting;
use super::encode_tab::{EncodeTab, FileResult, Folder};
use super::jobs::{Job, human};
use crate::engine::encode::{self, EncodeOpts, Target};
use crate::engine::walk::{self, Walked};
use crate::engine::{Error, calc};
use crate::format::rs::Layout;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One file to encode and where its container goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    pub input: PathBuf,
    pub target: Target,
}

/// What a look at the disk found.
#[derive(Default)]
pub(super) struct Survey {
    sizes: HashMap<PathBuf, u64>,
    /// Entries of the file list that are folders (dropped or given on the command line).
    dirs: Vec<PathBuf>,
    existing: HashMap<PathBuf, PathBuf>,
}

/// What the list last looked at: when any of it changes, the disk is looked at again.
type Key = (u64, usize, Option<PathBuf>, usize, Option<PathBuf>);

/// Rows of a folder's files shown when it is opened; the rest are counted.
const ROWS_SHOWN: usize = 200;
/// Failures of a folder's files listed under it.
const FAILURES_SHOWN: usize = 20;

#[derive(Default)]
pub(super) struct ListJobs {
    walk: Option<(PathBuf, Job<Walked>)>,
    survey: Option<Job<Survey>>,
    /// Bumped by every change that asks for a new look at the disk.
    generation: u64,
    surveyed: Option<Key>,
    /// Something to tell about the list (a folder that could not be counted).
    note: Option<String>,
}

impl ListJobs {
    pub(super) fn busy(&self) -> bool {
        self.walk.is_some() || self.survey.is_some()
    }

    /// What is on the disk may have changed (a job ended, the output folder changed).
    pub(super) fn changed(&mut self) {
        self.generation += 1;
    }
}

/// Where the container of `rel` (a file under the folder `root`) goes: beside it, or in the
/// output folder under the folder's name with the same subfolders, so two `IMG_0001.jpg` of
/// different subfolders never meet.
fn folder_target(out_dir: &Option<PathBuf>, root: &Path, rel: &Path) -> Target {
    match out_dir {
        None => Target::Beside,
        Some(d) => {
            let mut t = d.join(root.file_name().unwrap_or("folder".as_ref()));
            if let Some(p) = rel.parent() {
                t = t.join(p);
            }
            Target::Folder(t)
        }
    }
}

impl EncodeTab {
    /// Every file to encode, single files first, then each folder's files.
    pub(super) fn planned(&self) -> Vec<Planned> {
        let single = match &self.out_dir {
            Some(d) => Target::Folder(d.clone()),
            None => Target::Beside,
        };
        let mut v: Vec<Planned> = self
            .files
            .iter()
            .map(|f| Planned {
                input: f.clone(),
                target: single.clone(),
            })
            .collect();
        for folder in &self.folders {
            if let Some(w) = &folder.walked {
                v.extend(w.files.iter().map(|f| Planned {
                    input: f.path.clone(),
                    target: folder_target(&self.out_dir, &folder.root, &f.rel),
                }));
            }
        }
        v
    }

    /// Drain the walk and survey jobs; start the next walk, and a new look at the disk when
    /// the list changed.
    pub(super) fn poll_list(&mut self, ctx: &egui::Context) {
        if let Some((root, job)) = self.list.walk.as_mut()
            && let Some(r) = job.poll()
        {
            let root = root.clone();
            self.list.walk = None;
            self.list.changed();
            match r {
                Ok(w) => {
                    if let Some(f) = self.folders.iter_mut().find(|f| f.root == root) {
                        f.walked = Some(w);
                    }
                }
                Err(e) => {
                    self.folders.retain(|f| f.root != root);
                    self.list.note = Some(match e {
                        Error::Cancelled => format!(
                            "Counting stopped: “{}” was taken off the list.",
                            root.display()
                        ),
                        e => super::problem::Problem::new(&e).sentence,
                    });
                }
            }
        }
        if self.list.walk.is_none()
            && let Some(f) = self.folders.iter().find(|f| f.walked.is_none())
        {
            let root = f.root.clone();
            let r = root.clone();
            let job = Job::spawn(ctx, move |cancel, progress| {
                walk::walk(&r, cancel, progress)
            });
            self.list.walk = Some((root, job));
        }
        if let Some(job) = self.list.survey.as_mut()
            && let Some(r) = job.poll()
        {
            self.list.survey = None;
            if let Ok(s) = r {
                self.apply(s);
            }
        }
        let key: Key = (
            self.list.generation,
            self.files.len(),
            self.files.last().cloned(),
            self.folders.len(),
            self.out_dir.clone(),
        );
        if self.list.survey.is_none()
            && !self.encoding()
            && self.list.surveyed.as_ref() != Some(&key)
        {
            self.list.surveyed = Some(key);
            let files = self.files.clone();
            let planned = self.planned();
            self.list.survey = Some(Job::spawn(ctx, move |cancel, _| {
                survey(&files, &planned, cancel)
            }));
        }
    }

    fn apply(&mut self, s: Survey) {
        self.sizes = s.sizes;
        self.existing = s.existing;
        if !s.dirs.is_empty() {
            self.files.retain(|f| !s.dirs.contains(f));
            for d in s.dirs {
                self.add_folder(d);
            }
        }
    }

    pub fn add_folder(&mut self, root: PathBuf) {
        if !self.folders.iter().any(|f| f.root == root) {
            self.folders.push(Folder { root, walked: None });
            self.list.note = None;
        }
    }

    /// The files to encode with the buttons that change the list, each with its size, its
    /// container's expected size, and its result from the last run.
    pub(super) fn list_ui(&mut self, ui: &mut egui::Ui, dialogs: &mut Choosers) {
        ui.horizontal_wrapped(|ui| {
            let add = ui.button("Add files…");
            self.files.extend(dialogs.files(&add, "Files to protect"));
            let folder = ui.button("Add folder…");
            if let Some(d) = dialogs.folder(&folder, "A folder to protect, with everything in it") {
                self.add_folder(d);
            }
            let any = !self.files.is_empty() || !self.folders.is_empty();
            if any && ui.button("Clear list").clicked() {
                self.clear();
            }
        });
        if let Some(n) = &self.list.note {
            ui.label(n);
        }
        if self.files.is_empty() && self.folders.is_empty() {
            ui.label("Add files or a folder with the buttons above, or drop them on the window.");
            return;
        }
        let layout = self.opts(PathBuf::from("x"), Target::Beside).layout().ok();
        self.totals_ui(ui, layout.as_ref());
        self.conflicts_ui(ui);
        let mut remove = None;
        for i in 0..self.files.len() {
            let f = self.files[i].clone();
            let size = self.sizes.get(&f).copied();
            if self.row_ui(
                ui,
                &f,
                &f.display().to_string(),
                size,
                layout.as_ref(),
                true,
            ) {
                remove = Some(i);
            }
        }
        if let Some(i) = remove {
            self.files.remove(i);
        }
        let mut remove = None;
        for i in 0..self.folders.len() {
            if self.folder_ui(ui, i, layout.as_ref()) {
                remove = Some(i);
            }
        }
        if let Some(i) = remove {
            let f = self.folders.remove(i);
            if let Some((root, job)) = &self.list.walk
                && *root == f.root
            {
                job.cancel.cancel();
            }
        }
    }

    fn clear(&mut self) {
        self.files.clear();
        self.folders.clear();
        self.results.clear();
        self.result_of.clear();
        self.choices.clear();
        self.existing.clear();
        if let Some((_, job)) = &self.list.walk {
            job.cancel.cancel();
        }
    }

    /// "5 files to protect, 12.3 MiB in all; containers about 15.1 MiB".
    fn totals_ui(&self, ui: &mut egui::Ui, layout: Option<&Layout>) {
        let mut n = 0u64;
        let mut bytes = 0u64;
        let mut container = 0u64;
        let mut add = |size: u64| {
            n += 1;
            bytes += size;
            container += layout.map_or(0, |l| calc::container_size(l, size));
        };
        for f in &self.files {
            if let Some(&s) = self.sizes.get(f) {
                add(s);
            }
        }
        for folder in &self.folders {
            if let Some(w) = &folder.walked {
                w.files.iter().for_each(|f| add(f.size));
            }
        }
        let counting = self.folders.iter().any(|f| f.walked.is_none());
        ui.strong(format!(
            "{n} file{} to protect, {} in all{}{}",
            if n == 1 { "" } else { "s" },
            human(bytes),
            if layout.is_some() {
                format!("; containers about {}", human(container))
            } else {
                String::new()
            },
            if counting {
                " (still counting a folder)"
            } else {
                ""
            }
        ));
    }

    /// One file: [Remove], its sizes, its name (cut short to fit, whole on hover), then what
    /// is already there or what became of it. Returns true when Remove was clicked.
    fn row_ui(
        &mut self,
        ui: &mut egui::Ui,
        input: &Path,
        shown: &str,
        size: Option<u64>,
        layout: Option<&Layout>,
        removable: bool,
    ) -> bool {
        let mut remove = false;
        ui.horizontal(|ui| {
            if removable
                && ui
                    .small_button("Remove")
                    .on_hover_text("Take this off the list")
                    .clicked()
            {
                remove = true;
            }
            if let Some(s) = size {
                let c = layout.map_or(String::new(), |l| {
                    format!(" (container {})", human(calc::container_size(l, s)))
                });
                ui.label(format!("{}{c}", human(s)));
            }
            ui.add(egui::Label::new(shown).truncate());
        });
        // Indented under the row, and only when there is something to say (no empty gaps).
        match self.result_of.get(input).map(|&i| self.results[i].clone()) {
            Some(r) => {
                ui.indent(("file result", input), |ui| self.result_ui(ui, &r));
            }
            None if self.existing.contains_key(input) => {
                ui.indent(("file exists", input), |ui| self.existing_ui(ui, input));
            }
            None => {}
        }
        remove
    }

    /// A folder: its count and total (or the count so far while it is walked), what was
    /// left out, its failures, and its files when opened. Returns true when Remove was clicked.
    fn folder_ui(&mut self, ui: &mut egui::Ui, i: usize, layout: Option<&Layout>) -> bool {
        let root = self.folders[i].root.clone();
        let mut remove = false;
        ui.horizontal(|ui| {
            let walking = self.folders[i].walked.is_none();
            let words = if walking { "Stop counting" } else { "Remove" };
            if ui
                .small_button(words)
                .on_hover_text("Take this folder off the list")
                .clicked()
            {
                remove = true;
            }
            let what = match (&self.folders[i].walked, &self.list.walk) {
                (Some(w), _) => format!(
                    "{} file{}, {}",
                    w.files.len(),
                    if w.files.len() == 1 { "" } else { "s" },
                    human(w.total_bytes)
                ),
                (None, Some((r, job))) if *r == root => {
                    let (n, b) = job.progress.map_or((0, 0), |p| (p.items, p.bytes_done));
                    format!("counting… {n} files, {} so far", human(b))
                }
                (None, _) => "waiting to be counted".into(),
            };
            ui.label(format!("Folder ({what}):"));
            ui.add(egui::Label::new(root.display().to_string()).truncate());
        });
        let Some(w) = self.folders[i].walked.clone() else {
            return remove;
        };
        ui.indent(("folder", i), |ui| {
            for line in left_out(&w) {
                ui.weak(line);
            }
            self.folder_results_ui(ui, &w);
            egui::CollapsingHeader::new(format!(
                "Files in {}",
                crate::engine::io::file_name_of(&root)
            ))
            .id_salt(("folder files", &root))
            .show(ui, |ui| {
                for f in w.files.iter().take(ROWS_SHOWN) {
                    let shown = f.rel.display().to_string();
                    self.row_ui(ui, &f.path, &shown, Some(f.size), layout, false);
                }
                if w.files.len() > ROWS_SHOWN {
                    ui.weak(format!("… and {} more", w.files.len() - ROWS_SHOWN));
                }
            });
        });
        remove
    }

    /// After a run: how many of the folder's files were protected, and those that were not.
    fn folder_results_ui(&mut self, ui: &mut egui::Ui, w: &Walked) {
        let results: Vec<FileResult> = w
            .files
            .iter()
            .filter_map(|f| {
                self.result_of
                    .get(&f.path)
                    .map(|&i| self.results[i].clone())
            })
            .collect();
        if results.is_empty() {
            return;
        }
        let failed: Vec<&FileResult> = results.iter().filter(|r| r.outcome.is_err()).collect();
        ui.label(format!(
            "{} of {} protected and checked{}",
            results.len() - failed.len(),
            results.len(),
            if failed.is_empty() {
                String::new()
            } else {
                format!("; {} not:", failed.len())
            }
        ));
        for r in failed.iter().take(FAILURES_SHOWN) {
            ui.add(egui::Label::new(r.input.display().to_string()).truncate());
            ui.indent(("failed", &r.input), |ui| self.result_ui(ui, r));
        }
        if failed.len() > FAILURES_SHOWN {
            ui.weak(format!("… and {} more", failed.len() - FAILURES_SHOWN));
        }
    }
}

/// What a walk left out, in words.
fn left_out(w: &Walked) -> Vec<String> {
    let mut v = Vec::new();
    if w.containers_skipped > 0 {
        v.push(format!(
            "{} container(s) (.sbx) already in the folder are left out",
            w.containers_skipped
        ));
    }
    if w.loops_skipped > 0 {
        v.push(format!(
            "{} link(s) back to a folder already counted are left out",
            w.loops_skipped
        ));
    }
    if w.unreadable > 0 {
        v.push(format!(
            "{} item(s) could not be read and are left out{}",
            w.unreadable,
            w.notes
                .first()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        ));
    }
    v
}

/// The sizes of the single files, the list entries that are folders, and the containers
/// already there (on the worker).
fn survey(
    files: &[PathBuf],
    planned: &[Planned],
    cancel: &crate::engine::CancelFlag,
) -> Result<Survey, Error> {
    let mut s = Survey::default();
    for f in files {
        cancel.check()?;
        match std::fs::metadata(f) {
            Ok(m) if m.is_dir() => s.dirs.push(f.clone()),
            Ok(m) => {
                s.sizes.insert(f.clone(), m.len());
            }
            // Said when it is encoded.
            Err(_) => {}
        }
    }
    for p in planned {
        cancel.check()?;
        let opts = EncodeOpts {
            output: p.target.clone(),
            ..EncodeOpts::new(&p.input)
        };
        let (out, _) = encode::output_path(&opts);
        if out.symlink_metadata().is_ok() {
            s.existing.insert(p.input.clone(), out);
        }
    }
    Ok(s)
}
