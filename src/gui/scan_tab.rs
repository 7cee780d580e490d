//! The Scan tab: choose disk images or devices (read only) and a catalogue, scan, cancel,
//! resume.

use super::block_map::BlockMap;
use super::dialogs::Dialogs;
use super::encode_tab::name;
use super::jobs::{Job, human, progress_ui};
use seqbox::engine::scan::{self, ScanOpts, ScanReport};
use std::path::PathBuf;

#[derive(Default)]
pub struct ScanTab {
    pub sources: Vec<PathBuf>,
    /// Chosen catalogue; default beside the first source.
    pub catalog: Option<PathBuf>,
    pub password: String,
    job: Option<Job<ScanReport>>,
    pub report: Option<Result<ScanReport, String>>,
    /// The layout of the scanned source, refreshed while the scan runs.
    pub map: BlockMap,
    last_map: Option<std::time::Instant>,
}

impl ScanTab {
    pub fn busy(&self) -> bool {
        self.job.is_some() || self.map.busy()
    }

    /// The catalogue file: the chosen one, or `NAME.sbxscan.sqlite` beside the first source.
    pub fn catalog_path(&self) -> Option<PathBuf> {
        self.catalog.clone().or_else(|| {
            self.sources
                .first()
                .map(|s| s.with_file_name(format!("{}.sbxscan.sqlite", name(s))))
        })
    }

    /// Take in what the running job sent (called every frame, whatever tab is shown).
    /// Returns the catalogue of a scan that just finished, for the Recover tab.
    pub fn poll(&mut self, ctx: &egui::Context) -> Option<PathBuf> {
        self.map.poll();
        let mut finished = None;
        // While scanning, redraw the map from what is committed, about once a second.
        if let (Some(job), Some(catalog)) = (&self.job, self.catalog_path())
            && job.progress.is_some()
            && !self.map.busy()
            && self
                .last_map
                .is_none_or(|t| t.elapsed().as_secs_f32() > 1.0)
            && catalog.exists()
        {
            self.last_map = Some(std::time::Instant::now());
            self.map.load(ctx, catalog, None);
        }
        if let Some(j) = self.job.as_mut()
            && let Some(r) = j.poll()
        {
            if r.is_ok() {
                finished = self.catalog_path();
                if let Some(c) = finished.clone() {
                    self.map.load(ctx, c, None);
                }
            }
            self.report = Some(r.map_err(|e| e.to_string()));
            self.job = None;
        }
        finished
    }

    /// Draw the tab; returns the container of a map cell the user clicked.
    pub fn ui(&mut self, ui: &mut egui::Ui, dialogs: &mut dyn Dialogs) -> Option<u64> {
        ui.heading("Find SBX blocks on a disk");
        ui.label("Disk images and devices are only ever read, never written.");
        ui.horizontal(|ui| {
            if ui.button("Add images…").clicked() {
                self.sources
                    .extend(dialogs.pick_files("Disk images or devices"));
            }
            if !self.sources.is_empty() && ui.button("Clear list").clicked() {
                self.sources.clear();
            }
        });
        for s in &self.sources {
            ui.label(s.display().to_string());
        }
        ui.horizontal(|ui| {
            ui.label(match self.catalog_path() {
                Some(c) => format!("Catalogue: {}", c.display()),
                None => "Catalogue: beside the first image".into(),
            });
            if ui.button("Choose catalogue…").clicked()
                && let Some(c) = dialogs.save_file("Catalogue file", "scan.sbxscan.sqlite")
            {
                self.catalog = Some(c);
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
            if progress_ui(ui, job, "Scanning") {
                job.cancel.cancel();
            }
            if let Some(p) = job.progress {
                ui.label(format!("{} SBX blocks found so far", p.items));
            }
        } else if ui
            .add_enabled(!self.sources.is_empty(), egui::Button::new("Start scan"))
            .on_hover_text("A scan that was stopped resumes where it left off")
            .clicked()
        {
            self.start(ui.ctx());
        }
        match &self.report {
            Some(Ok(r)) => {
                let blocks: u64 = r.sources.iter().map(|s| s.blocks).sum();
                ui.label(format!(
                    "Scan finished: {} container(s), {blocks} SBX blocks in {} source(s). Open the Recover tab to get them back.",
                    r.containers,
                    r.sources.len()
                ));
                for s in &r.sources {
                    ui.label(format!(
                        "{}: {} scanned{}, {} damaged blocks",
                        name(&s.path),
                        human(s.scanned_to.saturating_sub(s.started_at)),
                        if s.resumed { " (resumed)" } else { "" },
                        s.damaged_blocks
                    ));
                }
            }
            Some(Err(e)) => {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    format!("The scan stopped: {e}"),
                );
            }
            None => {}
        }
        ui.separator();
        self.map.ui(ui)
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
            scan::run(&opts, cancel, progress)
        }));
    }
}
