//! "Try the demo": the fragmentation demo in one click. A generated floppy holds a few files
//! and their SBX copies in pieces; its file system is wiped and its sectors scrambled; then a
//! signature carver and an SBX scan try to get the files back. The tab shows the disk map at
//! each stage and the two results side by side. The demo only writes into its own new folder.

use super::block_map::BlockMap;
use super::dialogs::{Choosers, output_folder_row};
use super::jobs::{Job, human, progress_ui};
use super::problem::Problem;
use crate::engine::demo::{self, DemoOpts, DemoReport};
use std::path::PathBuf;

pub struct DemoTab {
    pub seed: u64,
    /// The parent folder; each run writes into a new `seqbox-demo-…` folder inside it.
    pub parent: Option<PathBuf>,
    job: Option<Job<DemoReport>>,
    pub report: Option<Result<DemoReport, Problem>>,
    /// The stage whose map is shown (index into the report's stages).
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
            stage: 0,
            map: BlockMap::default(),
        }
    }
}

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
            self.report = Some(r.map_err(|e| Problem::new(&e)));
            // Start on the last stage: the scrambled disk the files came back from.
            if let Some(Ok(r)) = &self.report {
                self.stage = r.stages.len().saturating_sub(1);
                self.show_stage(ctx);
            }
        }
    }

    /// Load the map of the chosen stage; the last step, "Recovered", shows the scrambled disk
    /// the files were rebuilt from.
    fn show_stage(&mut self, ctx: &egui::Context) {
        if let Some(Ok(r)) = &self.report
            && let Some(s) = r.stages.get(self.stage).or(r.stages.last())
        {
            self.map.load(ctx, s.catalog.clone(), None);
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, dialogs: &mut Choosers) {
        ui.heading("Why SBX survives what carving cannot");
        ui.label(
            "The demo puts a few files and their SBX copies on a simulated floppy whose free \
             space is full of gaps, so they are stored in pieces. Then it wipes the file \
             system, shuffles the disk's sectors, and tries to get the files back two ways.",
        );
        ui.horizontal(|ui| {
            let l = ui.label("Seed (the same seed gives the same disk):");
            ui.add(egui::DragValue::new(&mut self.seed).range(0..=u32::MAX as u64))
                .labelled_by(l.id);
        });
        output_folder_row(
            ui,
            dialogs,
            &mut self.parent,
            "Output: a new folder in the system's temporary folder",
            "Where the demo's folder goes",
        );
        if let Some(job) = &self.job {
            if progress_ui(ui, job, "Running the demo", "Cancel") {
                job.cancel.cancel();
            }
        } else if ui.button("Run the demo").clicked() {
            self.start(ui.ctx());
        }
        let mut switch = None;
        match &self.report {
            Some(Ok(r)) => {
                ui.separator();
                ui.strong(r.summary());
                ui.label(format!("Everything is in {}", r.out_dir.display()));
                ui.horizontal(|ui| {
                    ui.label("Disk map:");
                    for (i, s) in r.stages.iter().enumerate() {
                        let label = format!("{}. {}", i + 1, stage_title(s.name));
                        if ui
                            .selectable_label(self.stage == i, label)
                            .on_hover_text(&s.description)
                            .clicked()
                            && self.stage != i
                        {
                            switch = Some(i);
                        }
                    }
                    let last = r.stages.len();
                    if ui
                        .selectable_label(self.stage == last, format!("{}. Recovered", last + 1))
                        .clicked()
                        && self.stage != last
                    {
                        switch = Some(last);
                    }
                });
                match r.stages.get(self.stage) {
                    Some(s) => ui.label(&s.description),
                    None => ui.label(
                        "SBX recovery read every block's own label (container, sequence number,                          checksum) on the scrambled disk, put each file's blocks back in order                          and checked the result against the stored SHA-256. Carving only knows                          where a file starts, so it reads on into whatever sectors follow.",
                    ),
                };
                results_ui(ui, r);
            }
            Some(Err(p)) => p.ui(ui),
            None => {}
        }
        if self.report.as_ref().is_some_and(|r| r.is_ok()) {
            self.map.ui(ui);
        }
        if let Some(i) = switch {
            self.stage = i;
            self.show_stage(ui.ctx());
        }
    }

    fn start(&mut self, ctx: &egui::Context) {
        let parent = self.parent.clone().unwrap_or_else(std::env::temp_dir);
        let seed = self.seed;
        self.report = None;
        self.map = BlockMap::default();
        self.job = Some(Job::spawn(ctx, move |cancel, progress| {
            let out_dir = fresh_folder(&parent, seed)?;
            let opts = DemoOpts {
                out_dir,
                seed,
                files: Vec::new(),
            };
            demo::run(&opts, cancel, progress)
        }));
    }
}

/// A new folder name under `parent` for one run (never an existing one).
fn fresh_folder(parent: &std::path::Path, seed: u64) -> Result<PathBuf, crate::engine::Error> {
    for n in 1..10_000 {
        let p = parent.join(format!("seqbox-demo-seed{seed}-{n}"));
        if !p.exists() {
            return Ok(p);
        }
    }
    Err(crate::engine::Error::Invalid(format!(
        "no free folder name for the demo in {}",
        parent.display()
    )))
}

fn stage_title(name: &str) -> &str {
    match name {
        "before" => "Before",
        "wiped" => "File system wiped",
        "scrambled" => "Sectors scrambled",
        other => other,
    }
}

/// The two ways of getting the files back, side by side.
fn results_ui(ui: &mut egui::Ui, r: &DemoReport) {
    egui::Grid::new("demo results")
        .striped(true)
        .show(ui, |ui| {
            for h in ["File", "Size", "Stored in", "Carving", "SBX recovery"] {
                ui.strong(h);
            }
            ui.end_row();
            for f in &r.files {
                ui.label(&f.name);
                ui.label(human(f.size));
                ui.label(format!("{} piece(s)", f.original_fragments));
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
                ui.label(if f.sbx_recovered_identical {
                    "bit-exact, hash verified"
                } else {
                    "not recovered"
                });
                ui.end_row();
            }
        });
}
