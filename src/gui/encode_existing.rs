//! The Encode tab's answer to a container that is already there: *Replace* or *Keep both*
//! (`NAME (1).sbx`), chosen per file before encoding or offered on the result of a run that
//! left one untouched, and for all of them at once. Never replaces anything without a click;
//! never touches the disk on the UI thread (the choice is carried out by the encode job).

use super::encode_list::Planned;
use super::encode_tab::{EncodeTab, FileResult};
use std::path::{Path, PathBuf};

/// What to do with a container that is already there.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OnExisting {
    /// Write over it (only ever on the user's click).
    Replace,
    /// Write the new one as `NAME (1).sbx`.
    KeepBoth,
}

impl EncodeTab {
    /// The containers already there, all at once: "Replace all" / "Keep both for all".
    pub(super) fn conflicts_ui(&mut self, ui: &mut egui::Ui) {
        let mut inputs: Vec<PathBuf> = self
            .existing
            .keys()
            .filter(|i| !self.result_of.contains_key(*i))
            .cloned()
            .collect();
        inputs.extend(
            self.results
                .iter()
                .filter(|r| r.already_there)
                .map(|r| r.input.clone()),
        );
        if inputs.len() < 2 {
            return;
        }
        let mut chosen = None;
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("{} containers are already there.", inputs.len()),
            );
            if ui.button("Replace all").clicked() {
                chosen = Some(OnExisting::Replace);
            }
            if ui.button("Keep both for all").clicked() {
                chosen = Some(OnExisting::KeepBoth);
            }
        });
        if let Some(c) = chosen {
            for i in &inputs {
                self.choices.insert(i.clone(), c);
            }
            self.redo_already_there(ui.ctx(), None);
        }
    }

    /// Encode again the files whose container was already there (all, or only `input`).
    fn redo_already_there(&mut self, ctx: &egui::Context, input: Option<&Path>) {
        let again: Vec<PathBuf> = self
            .results
            .iter()
            .filter(|r| r.already_there && input.is_none_or(|i| r.input == i))
            .map(|r| r.input.clone())
            .collect();
        if again.is_empty() {
            return;
        }
        let planned: Vec<Planned> = self
            .planned()
            .into_iter()
            .filter(|p| again.contains(&p.input))
            .collect();
        self.start(ctx, planned);
    }

    /// "“x.sbx” is already there." with the choice of what to do about it.
    pub(super) fn existing_ui(&mut self, ui: &mut egui::Ui, input: &Path) {
        let Some(out) = self.existing.get(input) else {
            return;
        };
        let name = crate::engine::io::file_name_of(out);
        let choice = self.choices.get(input).copied();
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("“{name}” is already there."),
            );
            for (c, words) in [
                (OnExisting::Replace, "Replace"),
                (OnExisting::KeepBoth, "Keep both"),
            ] {
                if ui
                    .add(egui::Button::new(words).selected(choice == Some(c)))
                    .clicked()
                {
                    if choice == Some(c) {
                        self.choices.remove(input);
                    } else {
                        self.choices.insert(input.to_path_buf(), c);
                    }
                }
            }
            ui.weak(match choice {
                Some(OnExisting::Replace) => "it will be replaced",
                Some(OnExisting::KeepBoth) => "the new one gets a number, like “NAME (1).sbx”",
                None => "left as it is unless you choose",
            });
        });
    }

    /// What became of one file; a container that was already there offers Replace / Keep
    /// both, which encode that file again at once.
    pub(super) fn result_ui(&mut self, ui: &mut egui::Ui, r: &FileResult) {
        match &r.outcome {
            Ok(words) => {
                ui.label(words);
            }
            Err(p) if r.already_there => {
                ui.colored_label(ui.visuals().warn_fg_color, &p.sentence);
                let mut chosen = None;
                ui.horizontal_wrapped(|ui| {
                    if ui.button("Replace").clicked() {
                        chosen = Some(OnExisting::Replace);
                    }
                    if ui.button("Keep both").clicked() {
                        chosen = Some(OnExisting::KeepBoth);
                    }
                });
                egui::CollapsingHeader::new("Details")
                    .id_salt(("exists", &r.input))
                    .show(ui, |ui| {
                        ui.label(&p.details);
                    });
                if let Some(c) = chosen {
                    self.choices.insert(r.input.clone(), c);
                    self.redo_already_there(ui.ctx(), Some(&r.input));
                }
            }
            Err(p) => p.ui(ui),
        }
    }
}
