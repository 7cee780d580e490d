//! The Encode tab: pick files, choose protection in plain words, encode, and check what was
//! written.

use super::dialogs::{Choosers, output_folder_row};
use super::jobs::{Job, progress_ui};
use super::problem::Problem;
use crate::engine::encode::{EncodeOpts, RsParams, Target};
use crate::engine::{calc, check, encode};
use crate::format::Version;
use std::path::PathBuf;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Protection {
    /// SBX v1: survives fragmentation.
    Standard,
    /// v17, 10 + 2, burst 12: also survives damaged sectors.
    Strong,
    Custom,
}

/// What happened to one file.
pub struct FileResult {
    pub input: PathBuf,
    pub outcome: Result<String, Problem>,
}

/// What the running job has done so far, shared with its worker thread: the file it is on
/// (index from 0) and the result of each file already finished, in order.
#[derive(Default)]
struct Running {
    files: Vec<PathBuf>,
    current: usize,
    checking: bool,
    done: Vec<FileResult>,
}

pub struct EncodeTab {
    pub files: Vec<PathBuf>,
    pub protection: Protection,
    pub version: Version,
    pub rs: RsParams,
    pub use_password: bool,
    pub password: String,
    pub out_dir: Option<PathBuf>,
    job: Option<Job<()>>,
    running: std::sync::Arc<std::sync::Mutex<Running>>,
    /// Every file's result once the job has ended (cancelled files are not listed).
    pub results: Vec<FileResult>,
    /// Why the job stopped early, if it did.
    pub stopped: Option<Problem>,
}

impl Default for EncodeTab {
    fn default() -> Self {
        EncodeTab {
            files: Vec::new(),
            protection: Protection::Strong,
            version: Version::V17,
            rs: RsParams::default(),
            use_password: false,
            password: String::new(),
            out_dir: None,
            job: None,
            running: Default::default(),
            results: Vec::new(),
            stopped: None,
        }
    }
}

impl EncodeTab {
    pub fn busy(&self) -> bool {
        self.job.is_some()
    }

    fn opts(&self, input: PathBuf) -> EncodeOpts {
        let (version, rs) = match self.protection {
            Protection::Standard => (Version::V1, RsParams::default()),
            Protection::Strong => (Version::V17, RsParams::default()),
            Protection::Custom => (self.version, self.rs),
        };
        EncodeOpts {
            output: match &self.out_dir {
                Some(d) => Target::Folder(d.clone()),
                None => Target::Beside,
            },
            version,
            rs,
            password: (self.use_password && !self.password.is_empty())
                .then(|| self.password.clone()),
            ..EncodeOpts::new(input)
        }
    }

    /// Take in what the running job sent (called every frame, whatever tab is shown).
    pub fn poll(&mut self) {
        if let Some(job) = self.job.as_mut()
            && let Some(result) = job.poll()
        {
            if let Ok(mut r) = self.running.lock() {
                self.results = std::mem::take(&mut r.done);
            }
            self.stopped = result.err().map(Problem::from);
            self.job = None;
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, dialogs: &mut Choosers) {
        ui.heading("Protect files");
        if self.job.is_some() {
            self.running_ui(ui);
        } else {
            self.list_ui(ui, dialogs);
        }
        ui.separator();
        ui.label("Protection");
        ui.radio_value(
            &mut self.protection,
            Protection::Standard,
            "Standard — survives fragmentation",
        );
        ui.radio_value(
            &mut self.protection,
            Protection::Strong,
            "Strong — also survives damaged sectors",
        );
        ui.radio_value(&mut self.protection, Protection::Custom, "Custom");
        if self.protection == Protection::Custom {
            self.custom_ui(ui);
        }
        let probe = self.opts(PathBuf::from("x"));
        if let Ok(r) = calc::run(1 << 30, &probe) {
            ui.label(format!(
                "{} A 1 GiB file takes {}.",
                r.tolerance,
                super::jobs::human(r.container_size)
            ));
        }
        ui.separator();
        ui.horizontal(|ui| {
            ui.checkbox(
                &mut self.use_password,
                "Hide with a password (not encryption)",
            );
            if self.use_password {
                let label = ui.label("Password:");
                ui.add(egui::TextEdit::singleline(&mut self.password).password(true))
                    .labelled_by(label.id);
            }
        });
        output_folder_row(
            ui,
            dialogs,
            &mut self.out_dir,
            "Output: beside each file",
            "Where the containers go",
        );
        ui.separator();
        if let Some(job) = &self.job {
            let what = match self.running.lock() {
                Ok(r) => format!(
                    "{} file {} of {}",
                    if r.checking { "Checking" } else { "Encoding" },
                    r.current + 1,
                    r.files.len()
                ),
                Err(_) => "Encoding".into(),
            };
            if progress_ui(ui, job, &what, "Cancel") {
                job.cancel.cancel();
            }
        } else if ui
            .add_enabled(!self.files.is_empty(), egui::Button::new("Encode files"))
            .clicked()
        {
            self.start(ui.ctx());
        }
        if let Some(p) = &self.stopped {
            p.ui(ui);
        }
    }

    /// The files to encode, each with its result from the last run, and the buttons to change
    /// the list.
    fn list_ui(&mut self, ui: &mut egui::Ui, dialogs: &mut Choosers) {
        ui.horizontal(|ui| {
            let add = ui.button("Add files…");
            self.files.extend(dialogs.files(&add, "Files to protect"));
            if !self.files.is_empty() && ui.button("Clear list").clicked() {
                self.files.clear();
                self.results.clear();
            }
        });
        if self.files.is_empty() {
            ui.label("Add files with the button above, or drop them on the window.");
        }
        let mut remove = None;
        for (i, f) in self.files.iter().enumerate() {
            ui.horizontal(|ui| {
                ui.label(f.display().to_string());
                if ui
                    .small_button("Remove")
                    .on_hover_text("Take this file off the list")
                    .clicked()
                {
                    remove = Some(i);
                }
            });
            if let Some(r) = self.results.iter().find(|r| &r.input == f) {
                ui.indent(("result", i), |ui| match &r.outcome {
                    Ok(words) => {
                        ui.label(words);
                    }
                    Err(p) => p.ui(ui),
                });
            }
        }
        if let Some(i) = remove {
            self.files.remove(i);
        }
    }

    /// While a job runs: each file with its state (done with its result, working, waiting).
    fn running_ui(&self, ui: &mut egui::Ui) {
        let Ok(r) = self.running.lock() else {
            return;
        };
        for (i, f) in r.files.iter().enumerate() {
            ui.horizontal(|ui| {
                ui.label(f.display().to_string());
                match r.done.get(i) {
                    Some(FileResult { outcome: Ok(_), .. }) => ui.label("done"),
                    Some(FileResult {
                        outcome: Err(_), ..
                    }) => ui.colored_label(ui.visuals().error_fg_color, "failed"),
                    None if i == r.current => ui.label(if r.checking {
                        "checking what was written…"
                    } else {
                        "encoding…"
                    }),
                    None => ui.weak("waiting"),
                };
            });
            if let Some(d) = r.done.get(i) {
                ui.indent(("result", i), |ui| match &d.outcome {
                    Ok(words) => {
                        ui.label(words);
                    }
                    Err(p) => p.ui(ui),
                });
            }
        }
    }

    fn custom_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.label("Version:");
            egui::ComboBox::from_id_salt("version")
                .selected_text(format!("{}", self.version))
                .show_ui(ui, |ui| {
                    for v in Version::ALL {
                        ui.selectable_value(
                            &mut self.version,
                            v,
                            format!("{v} ({} byte blocks)", v.block_size()),
                        );
                    }
                });
            if self.version.uses_rs() {
                let l = ui.label("Data shards:");
                ui.add(egui::DragValue::new(&mut self.rs.data).range(1..=255))
                    .labelled_by(l.id);
                let l = ui.label("Parity shards:");
                ui.add(egui::DragValue::new(&mut self.rs.parity).range(1..=255))
                    .labelled_by(l.id);
                let l = ui.label("Burst:");
                ui.add(egui::DragValue::new(&mut self.rs.burst).range(0..=1000))
                    .labelled_by(l.id);
            }
        });
    }

    fn start(&mut self, ctx: &egui::Context) {
        let jobs: Vec<EncodeOpts> = self.files.iter().map(|f| self.opts(f.clone())).collect();
        self.results.clear();
        self.stopped = None;
        let running = self.running.clone();
        if let Ok(mut r) = running.lock() {
            *r = Running {
                files: self.files.clone(),
                ..Running::default()
            };
        }
        self.job = Some(Job::spawn(ctx, move |cancel, progress| {
            let set = |f: &dyn Fn(&mut Running)| {
                if let Ok(mut r) = running.lock() {
                    f(&mut r);
                }
            };
            for (i, opts) in jobs.into_iter().enumerate() {
                set(&|r| {
                    r.current = i;
                    r.checking = false;
                });
                let outcome = encode::run(&opts, cancel, progress).and_then(|r| {
                    // Read back what was written before calling it safe.
                    set(&|r| r.checking = true);
                    let c = check::run(&check::CheckOpts::new(&r.output), cancel, progress)?;
                    Ok(if c.ok {
                        format!(
                            "Protected as {} ({}), and checked.",
                            r.output.display(),
                            super::jobs::human(r.container_size)
                        )
                    } else {
                        format!(
                            "Written to {}, but reading it back FAILED: do not rely on it.",
                            r.output.display()
                        )
                    })
                });
                if let Err(crate::engine::Error::Cancelled) = outcome {
                    return Err(crate::engine::Error::Cancelled);
                }
                let result = FileResult {
                    input: opts.input.clone(),
                    outcome: outcome.map_err(Problem::from),
                };
                if let Ok(mut r) = running.lock() {
                    r.done.push(result);
                }
            }
            Ok(())
        }));
    }
}
