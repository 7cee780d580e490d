//! "Try the demo": the fragmentation demo in one click. A generated floppy holds a few files
//! and their SBX copies in pieces; its file system is wiped and its sectors scrambled; then a
//! signature carver and an SBX scan try to get the files back. Steps 1–3 show the disk map
//! of each stage; step 4 shows what recovery did (the pieces it found, the verdict per file).
//! The demo writes only into its own folder (`seqbox-demo`, reused: an earlier run's files are
//! cleared, anything else makes it ask first); the UI thread touches no file.

use super::block_map::BlockMap;
use super::dialogs::{Choosers, output_folder_row};
use super::jobs::{Job, human, progress_ui};
use super::problem::{Problem, tone_color};
use crate::engine::demo::{self, DemoFile, DemoOpts, DemoReport, Reuse};
use crate::engine::words::Verdict;
use std::path::{Path, PathBuf};

/// The demo's folder inside the chosen (or temporary) folder.
pub const FOLDER: &str = "seqbox-demo";

/// What a run came back with: the report, or the folder held things it did not make.
pub enum Outcome {
    Ran(DemoReport),
    Foreign { dir: PathBuf, names: Vec<String> },
}

pub struct DemoTab {
    pub seed: u64,
    /// The parent folder of the demo's folder; `None`: the system's temporary folder.
    pub parent: Option<PathBuf>,
    job: Option<Job<Outcome>>,
    pub report: Option<Result<DemoReport, Problem>>,
    /// The demo folder holds files the demo did not make: (folder, some names), to ask.
    pub foreign: Option<(PathBuf, Vec<String>)>,
    /// The stage shown: 0–2 the disk maps, 3 what recovery did.
    pub stage: usize,
    pub map: BlockMap,
}

impl Default for DemoTab {
    fn default() -> Self {
        DemoTab {
            seed: 1,
            parent: None,
            job: None,
            report: None,
            foreign: None,
            stage: 0,
            map: BlockMap::default(),
        }
    }
}

const INTRO: &str = "The demo puts a few files and their SBX copies on a simulated floppy whose \
    free space is full of gaps, so they are stored in pieces. Then it wipes the file system, \
    shuffles the disk's sectors, and tries to get the files back two ways. Nothing on your \
    disks is touched.";

const CARVING: &str = "Carving is what most undelete tools do when the file system is gone: \
    find the first bytes that every file of a kind starts with (a BMP picture starts with \
    \"BM\"), then copy as many bytes as the file's header says, from that point on. When the \
    file was stored in pieces, what follows its first piece belongs to something else.";

const HASH: &str = "A hash is a fingerprint of a file's content (SHA-256). Each SBX copy keeps \
    the fingerprint of the original; after recovery it is computed again. When the two match, \
    every byte is exactly as it was — \"safe — verified\".";

const RECOVERED: &str = "SBX recovery reads every block's own label on the scrambled disk \
    (which file it belongs to, its number in that file, a checksum), puts each file's blocks \
    back in order wherever they lie, and checks the result against the stored fingerprint.";

impl DemoTab {
    pub fn busy(&self) -> bool {
        self.job.is_some() || self.map.busy()
    }

    pub fn poll(&mut self, ctx: &egui::Context) {
        self.map.poll(ctx);
        if let Some(j) = self.job.as_mut()
            && let Some(r) = j.poll()
        {
            self.job = None;
            match r {
                Ok(Outcome::Ran(r)) => {
                    self.report = Some(Ok(r));
                    // Start on step 4: what recovery did.
                    self.stage = 3;
                }
                Ok(Outcome::Foreign { dir, names }) => self.foreign = Some((dir, names)),
                Err(e) => self.report = Some(Err(Problem::new(&e))),
            }
        }
    }

    /// Show step `i`: a stage's disk map (0–2) or what recovery did (3).
    fn show_stage(&mut self, ctx: &egui::Context, i: usize) {
        self.stage = i;
        if let Some(Ok(r)) = &self.report
            && let Some(s) = r.stages.get(i)
        {
            self.map.load(ctx, s.catalog.clone(), None);
        }
    }

    /// The folder a run writes into.
    pub fn folder(&self) -> PathBuf {
        self.parent
            .clone()
            .unwrap_or_else(std::env::temp_dir)
            .join(FOLDER)
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, dialogs: &mut Choosers) {
        ui.heading("Why SBX survives what carving cannot");
        ui.label(INTRO);
        if let Some(job) = &self.job {
            if progress_ui(ui, job, "Running the demo", "Cancel") {
                job.cancel.cancel();
            }
        } else if self.foreign.is_some() {
            self.ask_ui(ui);
        } else if ui.button("Run the demo").clicked() {
            self.start(ui.ctx(), self.folder());
        }
        egui::CollapsingHeader::new("Options")
            .id_salt("demo options")
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    let l = ui.label("Seed (the same seed gives the same disk):");
                    ui.add(egui::DragValue::new(&mut self.seed).range(0..=u32::MAX as u64))
                        .labelled_by(l.id);
                });
                output_folder_row(
                    ui,
                    dialogs,
                    &mut self.parent,
                    "Output: the system's temporary folder",
                    "Where the demo's folder goes",
                );
                ui.weak(format!(
                    "Each run replaces the last one in {}.",
                    self.folder().display()
                ));
            });
        let mut switch = None;
        match &self.report {
            Some(Ok(r)) => {
                ui.separator();
                ui.strong(r.summary());
                ui.horizontal(|ui| {
                    ui.label(format!("Everything is in {}", r.out_dir.display()));
                    if ui.button("Open folder").clicked() {
                        dialogs.open_folder(&r.out_dir);
                    }
                });
                ui.horizontal_wrapped(|ui| {
                    ui.label("Step:");
                    let titles = r.stages.iter().map(|s| stage_title(s.name));
                    for (i, title) in titles.chain(["Recovered"]).enumerate() {
                        let tip = r.stages.get(i).map_or(RECOVERED, |s| &s.description);
                        if ui
                            .selectable_label(self.stage == i, format!("{}. {title}", i + 1))
                            .on_hover_text(tip)
                            .clicked()
                            && self.stage != i
                        {
                            switch = Some(i);
                        }
                    }
                });
                match r.stages.get(self.stage) {
                    Some(s) => {
                        ui.label(&s.description);
                    }
                    None => recovered_ui(ui, r),
                }
                egui::CollapsingHeader::new("What carving and a hash are")
                    .default_open(true)
                    .show(ui, |ui| {
                        ui.label(CARVING);
                        ui.label(HASH);
                    });
                ui.strong("Carving and SBX recovery, file by file:");
                results_ui(ui, r);
            }
            Some(Err(p)) => p.ui(ui),
            None => {}
        }
        let on_a_map = matches!(&self.report, Some(Ok(r)) if self.stage < r.stages.len());
        if on_a_map {
            self.map.ui(ui);
        }
        if let Some(i) = switch {
            self.show_stage(ui.ctx(), i);
        }
    }

    /// The demo folder holds something else: say what, and offer a new folder or stopping.
    fn ask_ui(&mut self, ui: &mut egui::Ui) {
        let Some((dir, names)) = self.foreign.clone() else {
            return;
        };
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!(
                "{} holds files the demo did not make ({}), so it was left as it is.",
                dir.display(),
                names.join(", ")
            ),
        );
        ui.horizontal(|ui| {
            if ui.button("Run in a new folder").clicked() {
                self.foreign = None;
                let fresh = fresh_folder(&dir);
                self.start(ui.ctx(), fresh);
            }
            if ui.button("Don't run").clicked() {
                self.foreign = None;
            }
        });
    }

    fn start(&mut self, ctx: &egui::Context, out_dir: PathBuf) {
        let seed = self.seed;
        self.report = None;
        self.foreign = None;
        self.map = BlockMap::default();
        self.job = Some(Job::spawn(ctx, move |cancel, progress| {
            if let Reuse::Foreign(names) = demo::reuse(&out_dir)? {
                return Ok(Outcome::Foreign {
                    dir: out_dir,
                    names,
                });
            }
            let opts = DemoOpts {
                out_dir,
                seed,
                files: Vec::new(),
            };
            demo::run(&opts, cancel, progress).map(Outcome::Ran)
        }));
    }
}

/// `dir (2)`, `dir (3)`, …: the first name beside `dir` that is not taken.
fn fresh_folder(dir: &Path) -> PathBuf {
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    (2..)
        .map(|n| dir.with_file_name(format!("{name} ({n})")))
        .find(|p| !p.exists())
        .expect("a free name")
}

fn stage_title(name: &str) -> &str {
    match name {
        "before" => "Before",
        "wiped" => "File system wiped",
        "scrambled" => "Sectors scrambled",
        other => other,
    }
}

/// Step 4: per file, the pieces recovery found on the scrambled disk and what came back.
fn recovered_ui(ui: &mut egui::Ui, r: &DemoReport) {
    ui.label(RECOVERED);
    egui::Grid::new("demo recovered")
        .striped(true)
        .show(ui, |ui| {
            for h in [
                "File",
                "Its SBX copy, found on the scrambled disk",
                "Result",
            ] {
                ui.strong(h);
            }
            ui.end_row();
            for f in &r.files {
                ui.label(&f.name);
                ui.label(format!(
                    "{} in {}",
                    plural(f.sbx_blocks_found, "block"),
                    plural(f.sbx_pieces_found, "piece")
                ));
                sbx_verdict_ui(ui, f, true);
                ui.end_row();
            }
        });
}

/// "1 block", "37 pieces".
fn plural(n: u64, one: &str) -> String {
    format!("{n} {one}{}", if n == 1 { "" } else { "s" })
}

/// The SBX result in the verdict words the CLI uses, in the verdict's colour.
fn sbx_verdict_ui(ui: &mut egui::Ui, f: &DemoFile, with_name: bool) {
    let (v, text) = match (&f.recovered_path, f.sbx_recovered_identical) {
        (Some(p), true) if with_name => (
            Verdict::SafeVerified,
            format!(
                "{}, saved as {}",
                Verdict::SafeVerified.label(),
                p.file_name().unwrap_or_default().to_string_lossy()
            ),
        ),
        (_, true) => (Verdict::SafeVerified, Verdict::SafeVerified.label().into()),
        _ => (Verdict::Lost, Verdict::Lost.label().into()),
    };
    ui.colored_label(tone_color(ui, v.tone()), text);
}

/// The two ways of getting the files back, side by side.
fn results_ui(ui: &mut egui::Ui, r: &DemoReport) {
    egui::Grid::new("demo results")
        .striped(true)
        .show(ui, |ui| {
            for h in [
                "File",
                "Size",
                "Stored on the floppy in",
                "Carving",
                "SBX recovery",
            ] {
                ui.strong(h);
            }
            ui.end_row();
            for f in &r.files {
                ui.label(&f.name);
                ui.label(human(f.size));
                ui.label(plural(f.original_fragments as u64, "piece"));
                let carving = if f.carved_identical {
                    "intact".to_string()
                } else if !f.carved_found {
                    "not found".to_string()
                } else {
                    format!("garbage after the first {}", human(f.carved_correct_prefix))
                };
                if f.carved_identical {
                    ui.label(carving);
                } else {
                    ui.colored_label(ui.visuals().warn_fg_color, carving);
                }
                sbx_verdict_ui(ui, f, false);
                ui.end_row();
            }
        });
}
