//! The Scan tab: choose disk images or devices (read only) and a catalogue, scan, cancel,
//! resume.

use super::block_map::BlockMap;
use super::dialogs::Choosers;
use super::disk_picker::DiskPicker;
use super::jobs::{Job, human, progress_ui};
use super::problem::Problem;
use crate::engine::Error;
use crate::engine::io::file_name_of as name;
use crate::engine::scan::{self, ScanOpts, ScanReport};
use std::path::{Path, PathBuf};

/// What a click in the Scan tab asks of the rest of the app.
pub enum ScanAction {
    /// An SBX cell of this container was clicked on the map.
    Focus(u64),
    /// A catalogue from an earlier scan was opened: show its containers in Recover.
    Opened(PathBuf),
}

#[derive(Default)]
pub struct ScanTab {
    pub sources: Vec<PathBuf>,
    /// Chosen catalogue; default beside the first source.
    pub catalog: Option<PathBuf>,
    pub password: String,
    /// Disks, partitions, image files and typed paths, each checked before it is added.
    pub picker: DiskPicker,
    job: Option<Job<ScanReport>>,
    pub report: Option<Result<ScanReport, Problem>>,
    /// The last scan was paused; starting again resumes it from its last commit.
    pub paused: Option<(u64, u64)>,
    /// The layout of the scanned source, refreshed while the scan runs.
    pub map: BlockMap,
}

impl ScanTab {
    pub fn busy(&self) -> bool {
        self.job.is_some() || self.map.busy()
    }

    /// The catalogue file: the chosen one, or `NAME.sbxscan.sqlite` beside the first source
    /// (for a device, in the user's scans folder: nothing is ever written under /dev).
    pub fn catalog_path(&self) -> Option<PathBuf> {
        self.catalog
            .clone()
            .or_else(|| self.sources.first().map(|s| default_catalog(s)))
    }

    /// Take in what the running job sent (called every frame, whatever tab is shown).
    /// Returns the catalogue of a scan that just finished, for the Recover tab.
    pub fn poll(&mut self, ctx: &egui::Context) -> Option<PathBuf> {
        self.map.poll(ctx);
        let mut finished = None;
        // While scanning, the map reloads what is committed as fast as loading allows.
        if let (Some(job), Some(catalog)) = (&self.job, self.catalog_path())
            && job.progress.is_some()
        {
            self.map.keep_up(ctx, catalog);
        }
        if let Some(j) = self.job.as_mut()
            && let Some(r) = j.poll()
        {
            let progress = j.progress;
            match r {
                Ok(report) => {
                    finished = self.catalog_path();
                    self.paused = None;
                    self.report = Some(Ok(report));
                }
                Err(Error::Cancelled) => {
                    self.paused = Some(progress.map_or((0, 0), |p| (p.bytes_done, p.bytes_total)));
                    self.report = None;
                }
                Err(e) => self.report = Some(Err(Problem::new(&e))),
            }
            // The map shows what was committed, finished or not.
            self.map.live = false;
            if let Some(c) = self.catalog_path().filter(|c| c.exists()) {
                self.map.reload(ctx, c);
            }
            self.job = None;
        }
        finished
    }

    /// What the running scan last reported.
    pub fn progress(&self) -> Option<crate::engine::Progress> {
        self.job.as_ref().and_then(|j| j.progress)
    }

    /// Show the map of a catalogue written by an earlier scan (nothing is scanned).
    pub fn open(&mut self, ctx: &egui::Context, catalog: PathBuf) {
        self.catalog = Some(catalog.clone());
        self.report = None;
        self.paused = None;
        self.map.load(ctx, catalog, None);
    }

    /// Draw the tab; returns what a click asks of the other tabs.
    pub fn ui(&mut self, ui: &mut egui::Ui, dialogs: &mut Choosers) -> Option<ScanAction> {
        let mut action = None;
        ui.heading("Find SBX blocks on a disk");
        ui.label("Disk images and devices are only ever read, never written.");
        for p in self.picker.ui(ui, dialogs, "Disk images or devices") {
            if !self.sources.contains(&p) {
                self.sources.push(p);
            }
        }
        for s in &self.sources {
            ui.label(s.display().to_string());
        }
        if !self.sources.is_empty() && ui.button("Clear list").clicked() {
            self.sources.clear();
        }
        ui.horizontal(|ui| {
            ui.label(match self.catalog_path() {
                Some(c) => format!("Catalogue: {}", c.display()),
                None => "Catalogue: beside the first image".into(),
            });
            let choose = ui.button("Choose catalogue…");
            if let Some(c) = dialogs.save(&choose, "Catalogue file", "scan.sbxscan.sqlite") {
                self.catalog = Some(c);
            }
            let open = self.job.is_none().then(|| {
                ui.button("Open a previous scan…")
                    .on_hover_text("Show the map and the containers of a catalogue made earlier")
            });
            if let Some(open) = open
                && let Some(c) = dialogs
                    .files(&open, "A catalogue (.sbxscan.sqlite) from an earlier scan")
                    .into_iter()
                    .next()
            {
                self.open(ui.ctx(), c.clone());
                action = Some(ScanAction::Opened(c));
            }
        });
        ui.horizontal(|ui| {
            let l = ui.label("Password of SeqBox v1–3 containers (if any):");
            ui.add(
                egui::TextEdit::singleline(&mut self.password)
                    .password(true)
                    .desired_width(120.0),
            )
            .labelled_by(l.id);
        });
        ui.separator();
        if let Some(job) = &self.job {
            if progress_ui(ui, job, "Scanning", "Pause") {
                job.cancel.cancel();
            }
            if let Some(p) = self.progress() {
                let containers = self.map.view.as_ref().map_or(0, |v| v.names.len());
                ui.label(format!(
                    "{} SBX blocks of {containers} container(s) found so far",
                    p.items
                ));
            }
        } else {
            match self.paused {
                Some((done, total)) if total > 0 => {
                    ui.label(format!(
                        "Scan paused after {} of {}. Resume to go on from where it stopped.",
                        human(done),
                        human(total)
                    ));
                }
                Some(_) => {
                    ui.label("Scan paused. Resume to go on from where it stopped.");
                }
                None => {}
            }
            let label = if self.paused.is_some() {
                "Resume scan"
            } else {
                "Start scan"
            };
            ui.horizontal(|ui| {
                if ui
                    .add_enabled(!self.sources.is_empty(), egui::Button::new(label))
                    .on_hover_text("A scan that was stopped resumes where it left off")
                    .clicked()
                {
                    self.start(ui.ctx());
                }
                if self.sources.is_empty() {
                    ui.weak("Add a disk image or a device first (or drop one on the window).");
                }
            });
        }
        match &self.report {
            Some(Ok(r)) => {
                ui.label(finished_sentence(r));
                for s in &r.sources {
                    if s.already_scanned {
                        ui.label(format!(
                            "{}: already scanned before, and unchanged since — nothing to read \
                             again; what it holds is listed in Recover.",
                            name(&s.path)
                        ));
                        continue;
                    }
                    ui.label(format!(
                        "{}: {} scanned{}, {} damaged blocks{}",
                        name(&s.path),
                        human(s.scanned_to.saturating_sub(s.started_at)),
                        if s.resumed { " (resumed)" } else { "" },
                        s.damaged_blocks,
                        if s.unreadable_sectors > 0 {
                            format!(", {} unreadable sectors", s.unreadable_sectors)
                        } else {
                            String::new()
                        }
                    ));
                    for n in &s.notes {
                        ui.weak(n);
                    }
                }
            }
            Some(Err(p)) => {
                ui.label("The scan stopped:");
                p.ui(ui);
            }
            None => {}
        }
        ui.separator();
        self.map.ui(ui).map(ScanAction::Focus).or(action)
    }

    fn start(&mut self, ctx: &egui::Context) {
        let Some(catalog) = self.catalog_path() else {
            return;
        };
        let opts = ScanOpts {
            sources: self.sources.clone(),
            catalog,
            password: (!self.password.is_empty()).then(|| self.password.clone()),
            ..Default::default()
        };
        self.report = None;
        self.job = Some(Job::spawn(ctx, move |cancel, progress| {
            if let Some(folder) = opts.catalog.parent().filter(|f| !f.as_os_str().is_empty()) {
                std::fs::create_dir_all(folder).map_err(Error::write(folder))?;
            }
            scan::run(&opts, cancel, progress)
        }));
    }
}

/// Where the catalogue of a scan of `source` goes unless one is chosen: beside an image file;
/// for a device, in the user's scans folder.
pub fn default_catalog(source: &Path) -> PathBuf {
    let file = format!("{}.sbxscan.sqlite", name(source));
    if crate::engine::io::is_device_path(source) {
        scans_folder().join(file)
    } else {
        source.with_file_name(file)
    }
}

/// `…/seqbox/scans` in the user's data folder.
pub fn scans_folder() -> PathBuf {
    crate::engine::io::data_folder().join("scans")
}

/// The one sentence a finished scan ends with.
pub fn finished_sentence(r: &ScanReport) -> String {
    let disks = if r.sources.len() == 1 {
        "this disk".to_string()
    } else {
        format!("these {} disks", r.sources.len())
    };
    match r.containers {
        0 => format!("No protected files were found on {disks}."),
        1 => "Scan finished: 1 protected file found. Get it back in the Recover tab.".into(),
        n => format!("Scan finished: {n} protected files found. Get them back in the Recover tab."),
    }
}
