//! Errors for people: one plain sentence, with the exact words (paths, OS errors, offsets)
//! behind a "Details" expander. Every tab shows engine errors through this one type.

use crate::engine::Error;
use crate::engine::words::{Said, Tone};
use std::io::ErrorKind;
use std::path::Path;

#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub sentence: String,
    pub details: String,
}

impl Problem {
    pub fn new(e: &Error) -> Problem {
        let details = e.to_string();
        let sentence = match e {
            Error::Cancelled => "Stopped before it finished; nothing was left half-written.".into(),
            Error::Read { path, source } => match source.kind() {
                ErrorKind::NotFound => format!("{} could not be found.", name(path)),
                ErrorKind::PermissionDenied => {
                    format!("You are not allowed to read {}.", name(path))
                }
                _ => format!("{} could not be read.", name(path)),
            },
            Error::Write { path, source } => match source.kind() {
                ErrorKind::NotFound => format!("The folder for {} does not exist.", name(path)),
                ErrorKind::PermissionDenied => {
                    format!("You are not allowed to write {} there.", name(path))
                }
                ErrorKind::StorageFull | ErrorKind::FileTooLarge | ErrorKind::QuotaExceeded => {
                    format!("The disk is full, so {} could not be written.", name(path))
                }
                _ => format!("{} could not be written.", name(path)),
            },
            Error::OutputExists { path } => format!(
                "{} is already there, so it was left untouched; choose another folder.",
                name(path)
            ),
            Error::NotSbx {
                path,
                password_given: true,
            } => format!("No SBX block in {} matches this password.", name(path)),
            Error::NotSbx { path, .. } => format!(
                "{} is not an SBX container, or it was protected with a password.",
                name(path)
            ),
            Error::NoPassword { path } => format!(
                "{} was stored without a password: leave the password empty.",
                name(path)
            ),
            Error::Invalid(words) => sentence_case(words),
        };
        Problem { sentence, details }
    }

    /// The sentence in the error colour, with the details folded away under it.
    pub fn ui(&self, ui: &mut egui::Ui) {
        ui.colored_label(ui.visuals().error_fg_color, &self.sentence);
        if !self.details.is_empty() && self.details != self.sentence {
            egui::CollapsingHeader::new("Details")
                .id_salt(("problem", &self.sentence, &self.details))
                .show(ui, |ui| {
                    ui.label(&self.details);
                });
        }
    }
}

impl From<Error> for Problem {
    fn from(e: Error) -> Problem {
        Problem::new(&e)
    }
}

fn name(path: &Path) -> String {
    match path.file_name() {
        Some(n) => format!("“{}”", n.to_string_lossy()),
        None => format!("“{}”", path.display()),
    }
}

/// The engine's lower-case message as a sentence: capital first letter, full stop.
fn sentence_case(words: &str) -> String {
    let mut chars = words.trim().chars();
    let mut s: String = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => return "Something went wrong.".into(),
    };
    if !s.ends_with(['.', '!', '?']) {
        s.push('.');
    }
    s
}

/// The colour of a verdict: green, amber or red, readable in the dark and light themes.
pub fn tone_color(ui: &egui::Ui, tone: Tone) -> egui::Color32 {
    let dark = ui.visuals().dark_mode;
    match tone {
        Tone::Good if dark => egui::Color32::from_rgb(0x6b, 0xd0, 0x7a),
        Tone::Good => egui::Color32::from_rgb(0x1b, 0x7a, 0x2e),
        Tone::Warn => ui.visuals().warn_fg_color,
        Tone::Bad => ui.visuals().error_fg_color,
    }
}

/// One verdict from `engine::words`: its line in the verdict's colour, and the exact details
/// behind a "Details for …" expander (`salt` keeps expanders of equal names apart).
pub fn said_ui(
    ui: &mut egui::Ui,
    said: &Said,
    details_title: &str,
    salt: impl std::hash::Hash + std::fmt::Debug,
) {
    ui.colored_label(tone_color(ui, said.verdict.tone()), &said.line);
    if !said.details.is_empty() {
        egui::CollapsingHeader::new(details_title)
            .id_salt(("said", salt))
            .show(ui, |ui| {
                for d in &said.details {
                    ui.label(d);
                }
            });
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn each_error_is_one_plain_sentence_with_the_exact_words_in_details() {
        let e = Error::Read {
            path: "/data/disk.img".into(),
            source: std::io::Error::from(ErrorKind::NotFound),
        };
        let p = Problem::new(&e);
        assert_eq!(p.sentence, "“disk.img” could not be found.");
        assert!(p.details.contains("/data/disk.img"), "{}", p.details);

        let p = Problem::new(&Error::NotSbx {
            path: "x.sbx".into(),
            password_given: true,
        });
        assert_eq!(p.sentence, "No SBX block in “x.sbx” matches this password.");

        let p = Problem::new(&Error::Invalid("the file is too large".into()));
        assert_eq!(p.sentence, "The file is too large.");
        assert_eq!(p.details, "the file is too large");
    }
}
