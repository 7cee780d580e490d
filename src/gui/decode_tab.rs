//! The Decode tab: open containers, see what they hold before decoding (a password asked for
//! in the row of a container that needs one, never one box for all), decode them to a folder
//! or only check them, and read the result in the words the command line uses. Reading and
//! decoding run as jobs; the UI thread never opens a container. The rows are drawn by
//! `decode_rows.rs`.

use super::decode_rows::{RowInfo, read_info, shell_quote};
use super::dialogs::{Choosers, output_folder_row};
use super::jobs::{Job, progress_ui};
use super::problem::Problem;
use crate::engine::decode::DecodeOpts;
use crate::engine::encode::Target;
use crate::engine::io::file_name_of as name;
use crate::engine::words::{self, Said, Verdict};
use crate::engine::{check, decode};
use std::path::PathBuf;

pub struct Outcome {
    pub container: PathBuf,
    /// The verdict, in the words the command line uses too.
    pub said: Said,
    /// The file written (whole, or kept incomplete), for *Open folder*.
    pub saved: Option<PathBuf>,
}

/// What is known of one container on the list.
#[derive(Default)]
pub struct Row {
    /// `None` while it is being read.
    pub info: Option<Result<RowInfo, Problem>>,
    /// It could not be opened without a password: its row asks for one.
    pub asks_password: bool,
    /// What was typed in this row's password box.
    pub password: String,
    /// The password that opened it; only this container is decoded with it.
    pub opened_with: Option<String>,
}

/// A container read: its path, the password tried (if any), and what came of it.
pub(super) type InfoDone = (PathBuf, Option<String>, Result<RowInfo, (Problem, bool)>);

#[derive(Default)]
pub struct DecodeTab {
    pub containers: Vec<PathBuf>,
    /// One per container, in the same order.
    pub rows: Vec<Row>,
    pub out_dir: Option<PathBuf>,
    /// Keep a file with missing parts as `NAME (incomplete).ext`, its gaps zero-filled.
    pub keep_incomplete: bool,
    info_jobs: Vec<Job<Vec<InfoDone>>>,
    job: Option<Job<Vec<Outcome>>>,
    pub results: Vec<Outcome>,
}

impl DecodeTab {
    pub fn busy(&self) -> bool {
        self.job.is_some() || !self.info_jobs.is_empty()
    }

    /// Put containers on the list (each once) and read what they say, without a password.
    pub fn add(&mut self, ctx: &egui::Context, paths: Vec<PathBuf>) {
        let new: Vec<PathBuf> = paths
            .into_iter()
            .filter(|p| !self.containers.contains(p))
            .collect();
        if new.is_empty() {
            return;
        }
        for p in &new {
            self.containers.push(p.clone());
            self.rows.push(Row::default());
        }
        self.read(ctx, new.into_iter().map(|p| (p, None)).collect());
    }

    /// Read containers on a worker, each with its own password (or none).
    fn read(&mut self, ctx: &egui::Context, list: Vec<(PathBuf, Option<String>)>) {
        self.info_jobs.push(Job::spawn(ctx, move |_, _| {
            Ok(list
                .into_iter()
                .map(|(c, pw)| {
                    let r = read_info(&c, pw.as_deref());
                    (c, pw, r)
                })
                .collect())
        }));
    }

    /// Take in what the running jobs sent (called every frame, whatever tab is shown).
    pub fn poll(&mut self) {
        let mut done = Vec::new();
        self.info_jobs.retain_mut(|j| match j.poll() {
            Some(r) => {
                done.extend(r.unwrap_or_default());
                false
            }
            None => true,
        });
        for (path, pw, r) in done {
            let Some(i) = self.containers.iter().position(|c| *c == path) else {
                continue;
            };
            let row = &mut self.rows[i];
            match r {
                Ok(info) => {
                    row.opened_with = pw;
                    row.info = Some(Ok(info));
                }
                Err((p, needs_password)) => {
                    row.asks_password |= needs_password || pw.is_some();
                    row.opened_with = None;
                    row.info = Some(Err(p));
                }
            }
        }
        if let Some(j) = self.job.as_mut()
            && let Some(r) = j.poll()
        {
            self.results = r.unwrap_or_else(|e| {
                let p = Problem::new(&e);
                vec![Outcome {
                    container: PathBuf::new(),
                    said: Said {
                        verdict: Verdict::Failed,
                        line: p.sentence,
                        details: vec![p.details],
                    },
                    saved: None,
                }]
            });
            self.job = None;
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, dialogs: &mut Choosers) {
        ui.heading("Get files back from containers");
        ui.horizontal_wrapped(|ui| {
            let open = ui.button("Open containers…");
            let picked = dialogs.files(&open, "SBX containers");
            if !picked.is_empty() {
                self.add(ui.ctx(), picked);
            }
            if !self.containers.is_empty()
                && self.job.is_none()
                && ui.button("Clear list").clicked()
            {
                self.containers.clear();
                self.rows.clear();
                self.results.clear();
            }
        });
        if self.containers.is_empty() {
            ui.label("Open containers (.sbx) with the button above, or drop them on the window.");
        }
        let mut remove = None;
        let mut retry = None;
        for i in 0..self.containers.len() {
            let result = self
                .results
                .iter()
                .find(|r| r.container == self.containers[i]);
            let act = super::decode_rows::row_ui(
                ui,
                i,
                &self.containers[i],
                &mut self.rows[i],
                result,
                self.job.is_none(),
                dialogs,
            );
            if act.remove {
                remove = Some(i);
            }
            if act.try_password {
                retry = Some(i);
            }
        }
        if let Some(i) = remove {
            self.containers.remove(i);
            self.rows.remove(i);
        }
        if let Some(i) = retry {
            let pw = self.rows[i].password.clone();
            self.rows[i].info = None;
            self.read(ui.ctx(), vec![(self.containers[i].clone(), Some(pw))]);
        }
        ui.separator();
        output_folder_row(
            ui,
            dialogs,
            &mut self.out_dir,
            "Output: beside each container",
            "Where the files go",
        );
        ui.checkbox(
            &mut self.keep_incomplete,
            "Keep files with missing parts (saved as “NAME (incomplete).ext”, the gaps filled \
             with zeros)",
        );
        ui.separator();
        self.actions_ui(ui);
    }

    /// Decode / Check only (or the progress of the running job), then the summary and any
    /// result that belongs to no row (the job could not run).
    fn actions_ui(&mut self, ui: &mut egui::Ui) {
        if let Some(job) = &self.job {
            if progress_ui(ui, job, "Reading", "Cancel") {
                job.cancel.cancel();
            }
        } else {
            ui.horizontal_wrapped(|ui| {
                let ready = !self.containers.is_empty();
                if ui
                    .add_enabled(ready, egui::Button::new("Decode files"))
                    .clicked()
                {
                    self.start(ui.ctx(), false);
                }
                if ui
                    .add_enabled(ready, egui::Button::new("Check only"))
                    .clicked()
                {
                    self.start(ui.ctx(), true);
                }
            });
        }
        if self.results.len() > 1 {
            let v: Vec<_> = self.results.iter().map(|r| r.said.verdict).collect();
            ui.strong(words::summary(&v, "containers"));
        }
        for (i, r) in self.results.iter().enumerate() {
            if !self.containers.contains(&r.container) {
                super::problem::said_ui(ui, &r.said, "Details", ("orphan", i));
            }
        }
    }

    fn start(&mut self, ctx: &egui::Context, check_only: bool) {
        // A container that asks for its password and has not been opened is not tried: it
        // is said to need its password (the CLI would only fail on it).
        let list: Vec<(PathBuf, Option<String>, bool)> = self
            .containers
            .iter()
            .zip(&self.rows)
            .map(|(c, r)| {
                let locked = r.asks_password && !matches!(r.info, Some(Ok(_)));
                (c.clone(), r.opened_with.clone(), locked)
            })
            .collect();
        let out = self.out_dir.clone();
        let keep = self.keep_incomplete;
        self.results.clear();
        self.job = Some(Job::spawn(ctx, move |cancel, progress| {
            let mut out_list = Vec::new();
            for (c, pw, locked) in list {
                if locked {
                    out_list.push(Outcome {
                        said: needs_password(&c),
                        container: c,
                        saved: None,
                    });
                    continue;
                }
                let hint = format!(
                    "command line: seqbox {}{} {}",
                    if check_only { "check" } else { "decode" },
                    if pw.is_some() {
                        " --password-file FILE"
                    } else {
                        ""
                    },
                    shell_quote(&c.display().to_string())
                );
                let (mut said, saved) = if check_only {
                    let opts = check::CheckOpts {
                        password: pw,
                        ..check::CheckOpts::new(&c)
                    };
                    match check::run(&opts, cancel, progress) {
                        Ok(r) => (words::check(&r), None),
                        Err(e) => (failed(&c, e), None),
                    }
                } else {
                    let opts = DecodeOpts {
                        password: pw,
                        output: match &out {
                            Some(d) => Target::Folder(d.clone()),
                            None => Target::Beside,
                        },
                        // Decoding again never fails on the last run's file: `NAME (1).ext`.
                        unique_name: true,
                        keep_incomplete: keep,
                        ..DecodeOpts::new(&c)
                    };
                    match decode::run(&opts, cancel, progress) {
                        Ok(r) => (words::decode(&r), r.output.clone()),
                        Err(e) => (failed(&c, e), None),
                    }
                };
                said.details.push(hint);
                out_list.push(Outcome {
                    container: c,
                    said,
                    saved,
                });
                cancel.check()?;
            }
            Ok(out_list)
        }));
    }
}

/// A container that showed no SBX block without a password and was given none that opens it.
fn needs_password(c: &std::path::Path) -> Said {
    Said {
        verdict: Verdict::NeedsPassword,
        line: format!(
            "{}: {} — type it in its row (or it is not an SBX container)",
            name(c),
            Verdict::NeedsPassword.label()
        ),
        details: vec![format!(
            "no SBX block found in {} without a password; command line: seqbox decode \
             --password-file FILE {}",
            c.display(),
            shell_quote(&c.display().to_string())
        )],
    }
}

/// A job that could not run for this container: the plain sentence, the exact error below.
fn failed(c: &std::path::Path, e: crate::engine::Error) -> Said {
    let p = Problem::new(&e);
    Said {
        verdict: Verdict::Failed,
        line: format!("{}: {}", name(c), p.sentence),
        details: vec![p.details],
    }
}
