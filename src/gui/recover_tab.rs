//! The Recover tab: the containers a scan found, with how complete each is; pick some or all
//! and get the files back, with the result of each in plain words.

use super::dialogs::{Choosers, output_folder_row};
use super::jobs::{Job, human, progress_ui};
use super::problem::{Problem, said_ui, tone_color};
use crate::engine::catalog::{Catalog, ContainerRow};
use crate::engine::recover::{self, RecoverOpts, RecoverReport, Selection};
use crate::engine::words::{self, Said};
use crate::format::block::parse_uid;
use std::path::PathBuf;

#[derive(Default)]
pub struct RecoverTab {
    pub catalog: Option<PathBuf>,
    pub rows: Vec<ContainerRow>,
    pub selected: Vec<bool>,
    pub filter: String,
    pub out_dir: Option<PathBuf>,
    pub password: String,
    /// Also write files with blocks missing (the gaps filled with zeros, listed in details).
    pub partial: bool,
    load: Option<Job<Vec<ContainerRow>>>,
    job: Option<Job<RecoverReport>>,
    pub report: Option<Result<RecoverReport, Problem>>,
    /// The container picked on the block map: selected alone and marked.
    pub focus: Option<String>,
    /// Column the table is sorted by, and whether descending.
    pub sort: (SortBy, bool),
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortBy {
    /// The order the scan found them in.
    #[default]
    Found,
    Name,
    Size,
    Version,
    Completeness,
}

impl RecoverTab {
    pub fn busy(&self) -> bool {
        self.job.is_some() || self.load.is_some()
    }

    /// Select only the container with this UID (clicked on the map).
    pub fn focus(&mut self, uid: u64) {
        let hex = format!("{uid:012x}");
        for (r, s) in self.rows.iter().zip(self.selected.iter_mut()) {
            *s = r.uid == hex;
        }
        self.focus = Some(hex);
    }

    /// Read the list of containers from `catalog` (on a worker thread).
    pub fn open(&mut self, ctx: &egui::Context, catalog: PathBuf) {
        // Another catalogue: nothing shown may be left from the previous one.
        self.rows.clear();
        self.selected.clear();
        self.report = None;
        self.focus = None;
        self.catalog = Some(catalog.clone());
        self.load = Some(Job::spawn(ctx, move |_, _| {
            Catalog::open_existing(&catalog)?.containers()
        }));
    }

    /// Take in what the running jobs sent (called every frame, whatever tab is shown).
    pub fn poll(&mut self) {
        if let Some(j) = self.load.as_mut()
            && let Some(r) = j.poll()
        {
            match r {
                Ok(rows) => {
                    self.selected = vec![true; rows.len()];
                    self.rows = rows;
                }
                Err(e) => self.report = Some(Err(Problem::new(&e))),
            }
            self.load = None;
        }
        if let Some(j) = self.job.as_mut()
            && let Some(r) = j.poll()
        {
            self.report = Some(r.map_err(|e| Problem::new(&e)));
            self.job = None;
        }
    }

    /// The order rows are shown in.
    pub fn order(&self) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.rows.len()).collect();
        let complete = |r: &ContainerRow| match r.blocks_expected {
            Some(e) if e > 0 => r.blocks_found as f64 / e as f64,
            _ => 1.0,
        };
        let rows = &self.rows;
        match self.sort.0 {
            SortBy::Found => {}
            SortBy::Name => {
                idx.sort_by_key(|&i| rows[i].file_name.clone().unwrap_or_default().to_lowercase())
            }
            SortBy::Size => idx.sort_by_key(|&i| rows[i].file_size),
            SortBy::Version => idx.sort_by_key(|&i| rows[i].version),
            SortBy::Completeness => {
                idx.sort_by(|&a, &b| complete(&rows[a]).total_cmp(&complete(&rows[b])))
            }
        }
        if self.sort.1 {
            idx.reverse();
        }
        idx
    }

    /// Draw the tab; returns a container whose "Map" button was pressed.
    pub fn ui(&mut self, ui: &mut egui::Ui, dialogs: &mut Choosers) -> Option<u64> {
        let mut show = None;
        ui.heading("Get files back from a scan");
        ui.horizontal(|ui| {
            ui.label(match &self.catalog {
                Some(c) => format!("Catalogue: {}", c.display()),
                None => "No catalogue yet: scan first, or open one.".into(),
            });
            let open = ui.button("Open catalogue…");
            if let Some(c) = dialogs.files(&open, "Catalogue").into_iter().next() {
                self.open(ui.ctx(), c);
            }
        });
        if !self.rows.is_empty() {
            ui.horizontal(|ui| {
                if ui.button("Select all").clicked() {
                    self.selected.iter_mut().for_each(|s| *s = true);
                }
                if ui.button("Select none").clicked() {
                    self.selected.iter_mut().for_each(|s| *s = false);
                }
                let l = ui.label("Filter:");
                ui.add(egui::TextEdit::singleline(&mut self.filter).desired_width(140.0))
                    .labelled_by(l.id);
            });
            egui::Grid::new("found").striped(true).show(ui, |ui| {
                ui.strong("");
                for (h, by) in [
                    ("Name", SortBy::Name),
                    ("Size", SortBy::Size),
                    ("Version", SortBy::Version),
                    ("Blocks found", SortBy::Completeness),
                ] {
                    let arrow = match self.sort {
                        (b, false) if b == by => " ^",
                        (b, true) if b == by => " v",
                        _ => "",
                    };
                    if ui
                        .button(format!("{h}{arrow}"))
                        .on_hover_text(format!("Sort by {h}"))
                        .clicked()
                    {
                        self.sort = (by, self.sort.0 == by && !self.sort.1);
                    }
                }
                ui.strong("Status");
                ui.end_row();
                for i in self.order() {
                    let r = &self.rows[i];
                    let name = r
                        .file_name
                        .clone()
                        .unwrap_or_else(|| format!("(no name) {}", r.uid));
                    if !self.filter.is_empty()
                        && !name.to_lowercase().contains(&self.filter.to_lowercase())
                    {
                        continue;
                    }
                    ui.checkbox(&mut self.selected[i], "")
                        .on_hover_text(format!("Recover {name}"));
                    if self.focus.as_deref() == Some(r.uid.as_str()) {
                        ui.strong(format!("{name} (picked on the map)"));
                    } else {
                        ui.label(&name);
                    }
                    ui.label(r.file_size.map_or("?".into(), human));
                    ui.label(r.version.to_string());
                    let (found, expected) = (r.blocks_found, r.blocks_expected);
                    let fraction = expected
                        .map_or(1.0, |e| if e == 0 { 1.0 } else { found as f32 / e as f32 });
                    ui.add(
                        egui::ProgressBar::new(fraction.min(1.0))
                            .desired_width(100.0)
                            .text(match expected {
                                Some(e) => format!("{found}/{e}"),
                                None => format!("{found}/?"),
                            }),
                    );
                    // Once recovered, the row says how it came back, in the verdict's words.
                    let done = self
                        .report
                        .as_ref()
                        .and_then(|rep| rep.as_ref().ok())
                        .and_then(|rep| rep.results.iter().find(|c| c.uid == r.uid));
                    if let Some(c) = done {
                        let v = words::recovered(c).verdict;
                        ui.colored_label(tone_color(ui, v.tone()), v.label());
                    } else {
                        ui.label(match expected {
                            Some(e) if found >= e => "all blocks found".to_string(),
                            Some(e) if r.rs_parity.is_some() => {
                                format!("{} missing; parity may rebuild them", e - found)
                            }
                            Some(e) => format!("{} missing", e - found),
                            None => "no metadata found".to_string(),
                        });
                    }
                    if ui
                        .small_button("Map")
                        .on_hover_text(format!("Show {name} on the disk map"))
                        .clicked()
                    {
                        show = u64::from_str_radix(&r.uid, 16).ok();
                    }
                    ui.end_row();
                }
            });
        }
        output_folder_row(
            ui,
            dialogs,
            &mut self.out_dir,
            "Output folder: not chosen",
            "Where recovered files go",
        );
        ui.checkbox(
            &mut self.partial,
            "Also save incomplete files (missing parts filled with zeros)",
        );
        let needs_password = self.report.as_ref().is_some_and(|r| {
            r.as_ref().is_ok_and(|r| {
                r.results
                    .iter()
                    .any(|c| c.status == recover::RecoverStatus::NeedsPassword)
            })
        });
        if needs_password || !self.password.is_empty() {
            ui.horizontal(|ui| {
                let l = ui.label("Password of the containers stored with one:");
                ui.add(
                    egui::TextEdit::singleline(&mut self.password)
                        .password(true)
                        .desired_width(120.0),
                )
                .labelled_by(l.id);
            });
        }
        ui.separator();
        if let Some(job) = &self.job {
            if progress_ui(ui, job, "Recovering", "Cancel") {
                job.cancel.cancel();
            }
        } else {
            let ready = self.out_dir.is_some() && self.selected.iter().any(|&s| s);
            ui.horizontal(|ui| {
                if ui
                    .add_enabled(ready, egui::Button::new("Recover selected"))
                    .clicked()
                {
                    self.start(ui.ctx());
                }
                if self.rows.is_empty() {
                    ui.weak("Scan a disk first, or open the catalogue of an earlier scan.");
                } else if self.out_dir.is_none() {
                    ui.weak("Choose an output folder first (not on the disk being rescued).");
                } else if !ready {
                    ui.weak("Select at least one file.");
                }
            });
        }
        match &self.report {
            Some(Ok(r)) => report_ui(ui, r),
            Some(Err(p)) => p.ui(ui),
            None => {}
        }
        show
    }

    fn start(&mut self, ctx: &egui::Context) {
        let (Some(catalog), Some(out_dir)) = (self.catalog.clone(), self.out_dir.clone()) else {
            return;
        };
        let uids = self
            .rows
            .iter()
            .zip(&self.selected)
            .filter(|(_, s)| **s)
            .filter_map(|(r, _)| parse_uid(&r.uid).ok())
            .collect();
        let opts = RecoverOpts {
            catalog,
            out_dir,
            select: Selection::Uids(uids),
            partial: self.partial,
            password: (!self.password.is_empty()).then(|| self.password.clone()),
        };
        self.report = None;
        self.job = Some(Job::spawn(ctx, move |cancel, progress| {
            recover::run(&opts, cancel, progress)
        }));
    }
}

fn report_ui(ui: &mut egui::Ui, r: &RecoverReport) {
    let items: Vec<Said> = r.results.iter().map(words::recovered).collect();
    let v: Vec<_> = items.iter().map(|s| s.verdict).collect();
    ui.strong(words::summary(&v, "files"));
    for (s, c) in items.iter().zip(&r.results) {
        let name = c
            .file_name
            .clone()
            .unwrap_or_else(|| format!("(no name) {}", c.uid));
        said_ui(ui, s, &format!("Details for {name}"), &c.uid);
    }
}
