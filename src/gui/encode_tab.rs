//! The Encode tab: pick files and folders, choose protection in plain words (a password only
//! where it can hold one), encode, and check what was written. The list (folders walked,
//! sizes, containers already there) lives in `encode_list.rs`; this file never touches the
//! disk on the UI thread: encoding, walking and looking at outputs run as jobs.

use super::dialogs::{Choosers, output_folder_row};
use super::encode_list::{OnExisting, Planned};
use super::jobs::{Job, human, progress_ui};
use super::problem::Problem;
use crate::engine::encode::{EncodeOpts, RsParams, Target};
use crate::engine::walk::Walked;
use crate::engine::{Error, calc, check, encode};
use crate::format::Version;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Protection {
    /// SBX v1: survives fragmentation.
    Standard,
    /// v17, 10 + 2, burst 12: also survives damaged sectors.
    Strong,
    Custom,
}

/// What happened to one file.
#[derive(Clone, Debug)]
pub struct FileResult {
    pub input: PathBuf,
    pub outcome: Result<String, Problem>,
    /// The container was already there and left untouched: the row offers Replace / Keep both.
    pub already_there: bool,
}

/// What the running job has done so far, shared with its worker thread: the file it is on
/// (index from 0) and the result of each file already finished, in order.
#[derive(Default)]
pub(super) struct Running {
    pub(super) files: Vec<PathBuf>,
    pub(super) current: usize,
    pub(super) checking: bool,
    pub(super) done: Vec<FileResult>,
}

/// A folder on the list: counted by a walk job (`walked` is `None` until it has finished).
pub struct Folder {
    pub root: PathBuf,
    pub walked: Option<Walked>,
}

pub struct EncodeTab {
    /// Single files on the list.
    pub files: Vec<PathBuf>,
    /// Folders on the list, each with every file under it.
    pub folders: Vec<Folder>,
    pub protection: Protection,
    pub version: Version,
    pub rs: RsParams,
    pub use_password: bool,
    pub password: String,
    pub out_dir: Option<PathBuf>,
    /// What to do where a container is already there, per input file (none: leave it).
    pub choices: HashMap<PathBuf, OnExisting>,
    /// The containers already there, per input file (from the last look at the disk).
    pub existing: HashMap<PathBuf, PathBuf>,
    /// Sizes of the single files (from the last look at the disk).
    pub(super) sizes: HashMap<PathBuf, u64>,
    pub(super) list: super::encode_list::ListJobs,
    job: Option<Job<()>>,
    running: Arc<Mutex<Running>>,
    /// Every file's result once the job has ended (cancelled files are not listed).
    pub results: Vec<FileResult>,
    pub(super) result_of: HashMap<PathBuf, usize>,
    /// Why the job stopped early, if it did.
    pub stopped: Option<Problem>,
    /// Said once when the password box switched the protection to Standard.
    switched: bool,
}

impl Default for EncodeTab {
    fn default() -> Self {
        EncodeTab {
            files: Vec::new(),
            folders: Vec::new(),
            protection: Protection::Strong,
            version: Version::V17,
            rs: RsParams::default(),
            use_password: false,
            password: String::new(),
            out_dir: None,
            choices: HashMap::new(),
            existing: HashMap::new(),
            sizes: HashMap::new(),
            list: Default::default(),
            job: None,
            running: Default::default(),
            results: Vec::new(),
            result_of: HashMap::new(),
            stopped: None,
            switched: false,
        }
    }
}

impl EncodeTab {
    pub fn busy(&self) -> bool {
        self.job.is_some() || self.list.busy()
    }

    pub(super) fn encoding(&self) -> bool {
        self.job.is_some()
    }

    /// The version and RS settings the chosen protection stands for.
    fn format(&self) -> (Version, RsParams) {
        match self.protection {
            Protection::Standard => (Version::V1, RsParams::default()),
            Protection::Strong => (Version::V17, RsParams::default()),
            Protection::Custom => (self.version, self.rs),
        }
    }

    /// Whether the chosen protection can hold a password (SBX versions 1–3 only: the
    /// Reed–Solomon versions 17–19 have none, in blkar as here).
    pub fn password_possible(&self) -> bool {
        !self.format().0.uses_rs()
    }

    pub(super) fn opts(&self, input: PathBuf, output: Target) -> EncodeOpts {
        let (version, rs) = self.format();
        EncodeOpts {
            output,
            version,
            rs,
            password: (self.use_password && !self.password.is_empty() && !version.uses_rs())
                .then(|| self.password.clone()),
            ..EncodeOpts::new(input)
        }
    }

    /// Take in what the running jobs sent (called every frame, whatever tab is shown).
    pub fn poll(&mut self, ctx: &egui::Context) {
        if let Some(job) = self.job.as_mut()
            && let Some(result) = job.poll()
        {
            let done = match self.running.lock() {
                Ok(mut r) => std::mem::take(&mut r.done),
                Err(_) => Vec::new(),
            };
            for d in done {
                match self.result_of.get(&d.input) {
                    Some(&i) => self.results[i] = d,
                    None => {
                        self.result_of.insert(d.input.clone(), self.results.len());
                        self.results.push(d);
                    }
                }
            }
            self.stopped = result.err().map(Problem::from);
            self.job = None;
            // What is on the disk has changed: look again.
            self.list.changed();
        }
        self.poll_list(ctx);
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, dialogs: &mut Choosers) {
        ui.heading("Protect files");
        if self.job.is_some() {
            self.running_ui(ui);
        } else {
            self.list_ui(ui, dialogs);
        }
        ui.separator();
        self.protection_ui(ui);
        ui.separator();
        self.password_ui(ui);
        let before = self.out_dir.clone();
        output_folder_row(
            ui,
            dialogs,
            &mut self.out_dir,
            "Output: beside each file",
            "Where the containers go",
        );
        if before != self.out_dir {
            self.list.changed();
        }
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
        } else {
            let planned = self.planned();
            // Not while a folder is being counted: its files would be left out.
            let counting = self.folders.iter().any(|f| f.walked.is_none());
            if ui
                .add_enabled(
                    !planned.is_empty() && !counting,
                    egui::Button::new("Encode files"),
                )
                .clicked()
            {
                self.results.clear();
                self.result_of.clear();
                self.start(ui.ctx(), planned);
            }
        }
        if let Some(p) = &self.stopped {
            p.ui(ui);
        }
        // A list changed in this frame is looked at now, not one frame later (cheap when
        // nothing changed: a key compared).
        self.poll_list(ui.ctx());
    }

    fn protection_ui(&mut self, ui: &mut egui::Ui) {
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
        let probe = self.opts(PathBuf::from("x"), Target::Beside);
        if let Ok(r) = calc::run(1 << 30, &probe) {
            ui.label(format!(
                "{} A 1 GiB file takes {}.",
                r.tolerance,
                human(r.container_size)
            ));
        }
    }

    /// The password box, honest about the protection: versions 17–19 hold no password, so
    /// with Strong (or a custom 17–19) the box says that ticking it switches to Standard.
    fn password_ui(&mut self, ui: &mut egui::Ui) {
        if !self.password_possible() {
            self.use_password = false;
        }
        let label = if self.password_possible() {
            "Hide with a password (not encryption)"
        } else {
            "Hide with a password (not encryption) — switches to Standard: damaged-sector \
             protection cannot hold a password"
        };
        ui.horizontal_wrapped(|ui| {
            let was = self.use_password;
            ui.checkbox(&mut self.use_password, label);
            if self.use_password && !was && !self.password_possible() {
                self.protection = Protection::Standard;
                self.switched = true;
            }
            if self.use_password {
                let label = ui.label("Password:");
                ui.add(
                    egui::TextEdit::singleline(&mut self.password)
                        .password(true)
                        .desired_width(160.0),
                )
                .labelled_by(label.id);
            }
        });
        if self.switched && self.use_password {
            ui.label(
                "Protection switched to Standard, the one that can hold a password. Without a \
                 password, Strong also survives damaged sectors.",
            );
        } else {
            self.switched = false;
        }
    }

    /// While a job runs: where it is, what failed so far, the last files done (capped, so a
    /// folder of thousands of files costs nothing per frame).
    fn running_ui(&self, ui: &mut egui::Ui) {
        let Ok(r) = self.running.lock() else {
            return;
        };
        let failed = r.done.iter().filter(|d| d.outcome.is_err()).count();
        ui.label(format!(
            "{} of {} files done{}",
            r.done.len(),
            r.files.len(),
            if failed > 0 {
                format!(", {failed} not protected")
            } else {
                String::new()
            }
        ));
        if let Some(f) = r.files.get(r.current) {
            ui.add(
                egui::Label::new(format!(
                    "{} {}",
                    if r.checking {
                        "Checking what was written:"
                    } else {
                        "Encoding:"
                    },
                    f.display()
                ))
                .truncate(),
            );
        }
        for (i, d) in r.done.iter().enumerate().rev().take(8) {
            ui.horizontal(|ui| {
                match &d.outcome {
                    Ok(_) => ui.label("done"),
                    Err(_) => ui.colored_label(ui.visuals().error_fg_color, "failed"),
                };
                ui.add(egui::Label::new(d.input.display().to_string()).truncate());
            });
            if let Err(p) = &d.outcome {
                ui.indent(("running failure", i), |ui| p.ui(ui));
            }
        }
    }

    fn custom_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            ui.label("Version:");
            egui::ComboBox::from_id_salt("version")
                .selected_text(format!("{}", self.version))
                .show_ui(ui, |ui| {
                    for v in Version::ALL {
                        ui.selectable_value(
                            &mut self.version,
                            v,
                            format!(
                                "{v} ({} byte blocks{})",
                                v.block_size(),
                                if v.uses_rs() {
                                    ", parity"
                                } else {
                                    ", password possible"
                                }
                            ),
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

    /// Encode `planned` (each file with where its container goes and what to do when one is
    /// already there), then read each container back.
    pub(super) fn start(&mut self, ctx: &egui::Context, planned: Vec<Planned>) {
        let jobs: Vec<(EncodeOpts, Option<OnExisting>)> = planned
            .into_iter()
            .map(|p| {
                // A choice is used once: encoding again asks again.
                let choice = self.choices.remove(&p.input);
                (self.opts(p.input, p.target), choice)
            })
            .collect();
        self.stopped = None;
        let running = self.running.clone();
        if let Ok(mut r) = running.lock() {
            *r = Running {
                files: jobs.iter().map(|(o, _)| o.input.clone()).collect(),
                ..Running::default()
            };
        }
        self.job = Some(Job::spawn(ctx, move |cancel, progress| {
            let set = |f: &dyn Fn(&mut Running)| {
                if let Ok(mut r) = running.lock() {
                    f(&mut r);
                }
            };
            for (i, (opts, choice)) in jobs.into_iter().enumerate() {
                set(&|r| {
                    r.current = i;
                    r.checking = false;
                });
                let outcome = encode_one(opts.clone(), choice, cancel, progress, &|| {
                    set(&|r| r.checking = true)
                });
                if let Err(Error::Cancelled) = outcome {
                    return Err(Error::Cancelled);
                }
                let result = FileResult {
                    input: opts.input.clone(),
                    already_there: matches!(outcome, Err(Error::OutputExists { .. })),
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

/// Encode one file (on the worker): replace or keep both as chosen, make the output folder,
/// then read the container back before calling it safe.
fn encode_one(
    mut opts: EncodeOpts,
    choice: Option<OnExisting>,
    cancel: &crate::engine::CancelFlag,
    progress: crate::engine::job::ProgressFn<'_>,
    checking: &dyn Fn(),
) -> Result<String, Error> {
    if let Target::Folder(d) = &opts.output {
        std::fs::create_dir_all(d).map_err(Error::write(d))?;
    }
    match choice {
        Some(OnExisting::Replace) => opts.overwrite = true,
        Some(OnExisting::KeepBoth) => {
            let (path, _) = encode::output_path(&opts);
            opts.output = Target::File(crate::engine::output::unique_path(&path));
        }
        None => {}
    }
    let r = encode::run(&opts, cancel, progress)?;
    checking();
    // Read back with the password it was hidden with (without it nothing would be found).
    let check_opts = check::CheckOpts {
        password: opts.password.clone(),
        ..check::CheckOpts::new(&r.output)
    };
    let c = check::run(&check_opts, cancel, progress)?;
    Ok(if c.ok {
        format!(
            "Protected as {} ({}), and checked.",
            r.output.display(),
            human(r.container_size)
        )
    } else {
        format!(
            "Written to {}, but reading it back FAILED: do not rely on it.",
            r.output.display()
        )
    })
}
