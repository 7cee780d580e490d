//! The Decode tab: open containers, see what they hold before decoding, decode them to a
//! folder or only check them, and read the result in plain words.

use super::dialogs::{Dialogs, output_folder_row};
use super::jobs::{Job, human, progress_ui};
use super::problem::Problem;
use seqbox::engine::decode::{DecodeOpts, DecodeStatus};
use seqbox::engine::encode::Target;
use seqbox::engine::info::InfoReport;
use seqbox::engine::io::file_name_of as name;
use seqbox::engine::{check, decode, info};
use std::path::PathBuf;

pub struct Outcome {
    pub container: PathBuf,
    /// Plain words, and whether all is well.
    pub words: String,
    pub ok: bool,
    pub details: Vec<String>,
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
                    words: p.sentence,
                    ok: false,
                    details: vec![p.details],
                }]
            });
            self.job = None;
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, dialogs: &mut dyn Dialogs) {
        ui.heading("Get files back from containers");
        ui.horizontal(|ui| {
            if ui.button("Open containers…").clicked() {
                let picked = dialogs.pick_files("SBX containers");
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
        for r in &self.results {
            if r.ok {
                ui.label(&r.words);
            } else {
                ui.colored_label(ui.visuals().error_fg_color, &r.words);
            }
            if !r.details.is_empty() {
                ui.collapsing(format!("Details for {}", name(&r.container)), |ui| {
                    for d in &r.details {
                        ui.label(d);
                    }
                });
            }
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
                let o = if check_only {
                    let opts = check::CheckOpts {
                        password: pw.clone(),
                        ..check::CheckOpts::new(&c)
                    };
                    match check::run(&opts, cancel, progress) {
                        Ok(r) => Outcome {
                            words: if r.ok {
                                format!("{}: intact, every block and the hash check out", name(&c))
                            } else {
                                format!(
                                    "{}: damaged — {} damaged, {} absent, {} data blocks missing",
                                    name(&c),
                                    r.assembly.damaged_blocks,
                                    r.assembly.absent_blocks,
                                    r.assembly.missing_blocks
                                )
                            },
                            ok: r.ok,
                            details: details(&r.assembly),
                            container: c,
                        },
                        Err(e) => failed(c, e),
                    }
                } else {
                    let mut opts = DecodeOpts::new(&c);
                    opts.password = pw.clone();
                    opts.output = match &out {
                        Some(d) => Target::Folder(d.clone()),
                        None => Target::Beside,
                    };
                    match decode::run(&opts, cancel, progress) {
                        Ok(r) => {
                            let words = match (r.status, &r.output) {
                                (DecodeStatus::Verified, Some(o))
                                    if r.assembly.repaired_sets > 0 =>
                                {
                                    format!(
                                        "{} -> {}: verified, after repairing {} damaged block set(s) on the fly",
                                        name(&c),
                                        o.display(),
                                        r.assembly.repaired_sets
                                    )
                                }
                                (DecodeStatus::Verified, Some(o)) => {
                                    format!("{} -> {}: verified", name(&c), o.display())
                                }
                                (DecodeStatus::Unverified, Some(o)) => format!(
                                    "{} -> {}: written, but no hash to verify it",
                                    name(&c),
                                    o.display()
                                ),
                                (DecodeStatus::HashMismatch, _) => format!(
                                    "{}: the data does not match its hash; nothing was written",
                                    name(&c)
                                ),
                                _ => format!(
                                    "{}: {} data block(s) missing ({}); nothing was written",
                                    name(&c),
                                    r.assembly.missing_blocks,
                                    human(
                                        r.assembly
                                            .missing
                                            .iter()
                                            .map(|m| m.byte_end - m.byte_start)
                                            .sum()
                                    )
                                ),
                            };
                            Outcome {
                                ok: r.success(),
                                details: details(&r.assembly)
                                    .into_iter()
                                    .chain(r.notes.clone())
                                    .collect(),
                                words,
                                container: c,
                            }
                        }
                        Err(e) => failed(c, e),
                    }
                };
                out_list.push(o);
                cancel.check()?;
            }
            Ok(out_list)
        }));
    }
}

fn failed(c: PathBuf, e: seqbox::engine::Error) -> Outcome {
    let p = Problem::new(&e);
    Outcome {
        words: format!("{}: {}", name(&c), p.sentence),
        ok: false,
        details: vec![p.details],
        container: c,
    }
}

/// Exact details for experts: damaged blocks, missing ranges, repaired sets.
fn details(a: &seqbox::engine::assemble::Assembly) -> Vec<String> {
    let mut v = Vec::new();
    for d in a.damaged.iter().take(50) {
        v.push(format!("damaged block: seq {} at byte {}", d.seq, d.offset));
    }
    for m in a.missing.iter().take(50) {
        v.push(format!(
            "missing: bytes {}..{} (seq {}..={})",
            m.byte_start, m.byte_end, m.first_seq, m.last_seq
        ));
    }
    for s in a.repaired.iter().take(50) {
        v.push(format!(
            "repaired block set [{}..={}]",
            s.first_seq, s.last_seq
        ));
    }
    v
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
