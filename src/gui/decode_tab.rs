//! The Decode tab: open containers, see what they hold before decoding, decode them to a
//! folder or only check them, and read the result in plain words.

use super::dialogs::{Choosers, output_folder_row};
use super::jobs::{Job, human, progress_ui};
use super::problem::{Problem, said_ui};
use crate::engine::decode::DecodeOpts;
use crate::engine::encode::Target;
use crate::engine::info::InfoReport;
use crate::engine::io::file_name_of as name;
use crate::engine::words::{self, Said, Verdict};
use crate::engine::{check, decode, info};
use std::path::PathBuf;

pub struct Outcome {
    pub container: PathBuf,
    /// The verdict, in the words the command line uses too.
    pub said: Said,
}

#[derive(Default)]
pub struct DecodeTab {
    pub containers: Vec<PathBuf>,
    pub infos: Vec<Result<InfoReport, Problem>>,
    pub password: String,
    pub out_dir: Option<PathBuf>,
    info_job: Option<Job<Vec<Result<InfoReport, Problem>>>>,
    job: Option<Job<Vec<Outcome>>>,
    pub results: Vec<Outcome>,
}

impl DecodeTab {
    pub fn busy(&self) -> bool {
        self.job.is_some() || self.info_job.is_some()
    }

    pub fn add(&mut self, ctx: &egui::Context, paths: Vec<PathBuf>) {
        if paths.is_empty() {
            return;
        }
        self.containers.extend(paths);
        let list = self.containers.clone();
        let pw = (!self.password.is_empty()).then(|| self.password.clone());
        self.info_job = Some(Job::spawn(ctx, move |_, _| {
            Ok(list
                .iter()
                .map(|c| info::run(c, pw.as_deref()).map_err(Problem::from))
                .collect())
        }));
    }

    /// Take in what the running jobs sent (called every frame, whatever tab is shown).
    pub fn poll(&mut self) {
        if let Some(j) = self.info_job.as_mut()
            && let Some(r) = j.poll()
        {
            self.infos = r.unwrap_or_default();
            self.info_job = None;
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
                }]
            });
            self.job = None;
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, dialogs: &mut Choosers) {
        ui.heading("Get files back from containers");
        ui.horizontal(|ui| {
            let open = ui.button("Open containers…");
            let picked = dialogs.files(&open, "SBX containers");
            if !picked.is_empty() {
                self.add(ui.ctx(), picked);
            }
            if !self.containers.is_empty() && ui.button("Clear list").clicked() {
                self.containers.clear();
                self.infos.clear();
                self.results.clear();
            }
            let l = ui.label("Password (if any):");
            ui.add(
                egui::TextEdit::singleline(&mut self.password)
                    .password(true)
                    .desired_width(120.0),
            )
            .labelled_by(l.id);
        });
        egui::Grid::new("containers").striped(true).show(ui, |ui| {
            for (i, c) in self.containers.iter().enumerate() {
                ui.label(name(c));
                match self.infos.get(i) {
                    Some(Ok(info)) => {
                        ui.label(describe(info));
                    }
                    Some(Err(p)) => {
                        ui.vertical(|ui| p.ui(ui));
                    }
                    None => {
                        ui.label("reading…");
                    }
                }
                ui.end_row();
            }
        });
        output_folder_row(
            ui,
            dialogs,
            &mut self.out_dir,
            "Output: beside each container",
            "Where the files go",
        );
        ui.separator();
        if let Some(job) = &self.job {
            if progress_ui(ui, job, "Reading", "Cancel") {
                job.cancel.cancel();
            }
        } else {
            ui.horizontal(|ui| {
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
            said_ui(
                ui,
                &r.said,
                &format!("Details for {}", name(&r.container)),
                i,
            );
        }
    }

    fn start(&mut self, ctx: &egui::Context, check_only: bool) {
        let list = self.containers.clone();
        let out = self.out_dir.clone();
        let pw = (!self.password.is_empty()).then(|| self.password.clone());
        self.results.clear();
        self.job = Some(Job::spawn(ctx, move |cancel, progress| {
            let mut out_list = Vec::new();
            for c in list {
                let said = if check_only {
                    let opts = check::CheckOpts {
                        password: pw.clone(),
                        ..check::CheckOpts::new(&c)
                    };
                    match check::run(&opts, cancel, progress) {
                        Ok(r) => words::check(&r),
                        Err(e) => failed(&c, e),
                    }
                } else {
                    let mut opts = DecodeOpts::new(&c);
                    opts.password = pw.clone();
                    opts.output = match &out {
                        Some(d) => Target::Folder(d.clone()),
                        None => Target::Beside,
                    };
                    match decode::run(&opts, cancel, progress) {
                        Ok(r) => words::decode(&r),
                        Err(e) => failed(&c, e),
                    }
                };
                let o = Outcome { container: c, said };
                out_list.push(o);
                cancel.check()?;
            }
            Ok(out_list)
        }));
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

/// One line about a container, for people.
fn describe(i: &InfoReport) -> String {
    let rs = match (i.rs_data, i.rs_parity) {
        (Some(d), Some(p)) => format!(", {d}+{p} Reed–Solomon, burst {}", i.burst),
        _ => String::new(),
    };
    match &i.metadata {
        Some(m) => format!(
            "{} — {} — made {} — version {}{rs} — UID {}{}",
            m.file_name.as_deref().unwrap_or("(no name)"),
            m.file_size.map_or("size unknown".into(), human),
            m.sbx_time_utc.as_deref().unwrap_or("?"),
            i.version,
            i.uid,
            m.hash_kind.map(|k| format!(" — {k}")).unwrap_or_default()
        ),
        None => format!("no metadata — version {}{rs} — UID {}", i.version, i.uid),
    }
}
