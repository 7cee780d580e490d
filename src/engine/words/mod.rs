//! The one place that turns reports into verdicts, plain sentences and exit codes.
//!
//! Every job that gives files back (decode, check, repair, recover, snapshot recover) is
//! judged here, per item, with one vocabulary — *safe — verified*, *safe after repair*,
//! *damaged but all data safe (repairable)*, *not verified*, *incomplete* (with the exact
//! missing byte ranges), *lost*, *needs its password*, *failed* — and the exit code is
//! derived from the same verdicts, so the summary line and the exit code cannot disagree.
//! The CLI printer and the app both call this module; neither composes a verdict itself.
//! Never prints and never touches a file.
//!
//! - `reports.rs`: each job's report → [`Said`] (decode, check, repair, recovered,
//!   snapshot_file, failed);
//! - `details.rs`: the exact details of an assembly, for experts ([`assembly_details`]);
//! - `import.rs`: the summary of an import of the original SBXScan's databases ([`imported`]).

mod details;
mod import;
mod reports;

pub use details::assembly_details;
pub use import::{drop_reason, imported};
pub use reports::{check, decode, failed, recovered, repair, snapshot_file};

use super::calc::human;
use serde::Serialize;

/// Every selected item is safe.
pub const EXIT_OK: i32 = 0;
/// Bad usage (the CLI's own; no verdict maps to it).
pub const EXIT_USAGE: i32 = 1;
/// Something is not safe, or a job could not run.
pub const EXIT_FAILED: i32 = 2;

/// What became of one file (or container).
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every byte is back and matches the stored hash; or, for a container made without
    /// metadata (`--no-meta`) or without a hash, every block is present and valid.
    SafeVerified,
    /// Every byte is back and verified, after Reed–Solomon rebuilt missing or damaged blocks.
    SafeAfterRepair,
    /// (check) The container is damaged, but every byte can still be had and verified.
    DamagedRepairable,
    /// Every data block is there, but the result cannot be verified: the metadata block (the
    /// file's size and hash) is lost, or the hash is of an unknown kind.
    NotVerified,
    /// Some bytes are missing; the exact ranges are listed.
    Incomplete,
    /// Nothing usable: no data block, or the data does not match its hash.
    Lost,
    /// Stored with a password that was not given.
    NeedsPassword,
    /// The job could not run for this item (unreadable input, output exists, ...).
    Failed,
}

/// How a verdict is shown: green, amber or red.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Good,
    Warn,
    Bad,
}

impl Verdict {
    /// The words every front end shows for this verdict.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::SafeVerified => "safe — verified",
            Verdict::SafeAfterRepair => "safe after repair",
            Verdict::DamagedRepairable => "damaged but all data safe (repairable)",
            Verdict::NotVerified => "not verified",
            Verdict::Incomplete => "incomplete",
            Verdict::Lost => "lost",
            Verdict::NeedsPassword => "needs its password",
            Verdict::Failed => "failed",
        }
    }

    /// Every byte of the file is (or can be) had, verified: what exit code 0 means.
    pub fn is_safe(self) -> bool {
        matches!(
            self,
            Verdict::SafeVerified | Verdict::SafeAfterRepair | Verdict::DamagedRepairable
        )
    }

    pub fn tone(self) -> Tone {
        match self {
            Verdict::SafeVerified => Tone::Good,
            Verdict::SafeAfterRepair
            | Verdict::DamagedRepairable
            | Verdict::NotVerified
            | Verdict::Incomplete
            | Verdict::NeedsPassword => Tone::Warn,
            Verdict::Lost | Verdict::Failed => Tone::Bad,
        }
    }
}

/// One item, said: its verdict, one line for people, and the exact details for experts.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Said {
    pub verdict: Verdict,
    /// "holiday.jpg: safe — verified, saved as /restored/holiday.jpg"
    pub line: String,
    /// Offsets, sequence numbers, notes.
    pub details: Vec<String>,
}

/// The exit code for a set of verdicts: 0 only when there is at least one and all are safe.
pub fn exit_code(verdicts: &[Verdict]) -> i32 {
    if all_safe(verdicts) {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}

pub fn all_safe(verdicts: &[Verdict]) -> bool {
    !verdicts.is_empty() && verdicts.iter().all(|v| v.is_safe())
}

/// One summary line that says what the exit code says, e.g. "2 of 3 files safe; 1
/// incomplete" or "All 3 files safe (2 verified, 1 after repair)". `noun` is the plural
/// ("files", "containers").
pub fn summary(verdicts: &[Verdict], noun: &str) -> String {
    let n = verdicts.len();
    let count = |v: Verdict| verdicts.iter().filter(|&&x| x == v).count();
    if n == 0 {
        return format!("No {noun} selected: nothing to do.");
    }
    let safe_kinds = [
        (Verdict::SafeVerified, "verified"),
        (Verdict::SafeAfterRepair, "after repair"),
        (Verdict::DamagedRepairable, "damaged but repairable"),
    ];
    let safe: Vec<String> = safe_kinds
        .iter()
        .filter(|(v, _)| count(*v) > 0)
        .map(|(v, w)| format!("{} {w}", count(*v)))
        .collect();
    let safe_n: usize = safe_kinds.iter().map(|(v, _)| count(*v)).sum();
    let breakdown = if safe.len() > 1 || (safe_n > 0 && count(Verdict::SafeVerified) != safe_n) {
        format!(" ({})", safe.join(", "))
    } else {
        String::new()
    };
    if safe_n == n {
        return if n == 1 {
            format!("The one {} is safe{breakdown}.", singular(noun))
        } else {
            format!("All {n} {noun} safe{breakdown}.")
        };
    }
    let unsafe_kinds = [
        Verdict::NotVerified,
        Verdict::Incomplete,
        Verdict::Lost,
        Verdict::NeedsPassword,
        Verdict::Failed,
    ];
    let rest: Vec<String> = unsafe_kinds
        .iter()
        .filter(|&&v| count(v) > 0)
        .map(|&v| format!("{} {}", count(v), v.label()))
        .collect();
    format!(
        "{safe_n} of {n} {noun} safe{breakdown}; {}.",
        rest.join(", ")
    )
}

fn singular(noun: &str) -> &str {
    noun.strip_suffix('s').unwrap_or(noun)
}

/// "4.0 KiB missing (bytes 992–1487, 4096–8191 and 3 more ranges)"
pub fn missing_phrase(ranges: &[(u64, u64)], total: u64) -> String {
    let shown: Vec<String> = ranges
        .iter()
        .take(2)
        .map(|(a, b)| format!("{a}–{}", b.saturating_sub(1)))
        .collect();
    let more = match ranges.len() {
        0..=2 => String::new(),
        n => format!(" and {} more range{}", n - 2, if n == 3 { "" } else { "s" }),
    };
    let bytes = match ranges {
        [] => String::new(),
        [(a, b)] if b - a == 1 => format!(" (byte {a})"),
        _ => format!(" (bytes {}{more})", shown.join(", ")),
    };
    let size = if total == 1 {
        "1 byte".to_string()
    } else {
        human(total)
    };
    format!("{size} missing{bytes}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_and_exit_code_agree() {
        use Verdict::*;
        let cases: &[(&[Verdict], &str, i32)] = &[
            (&[SafeVerified], "The one file is safe.", 0),
            (
                &[SafeVerified, SafeVerified, SafeAfterRepair],
                "All 3 files safe (2 verified, 1 after repair).",
                0,
            ),
            (
                &[SafeVerified, Incomplete, Lost],
                "1 of 3 files safe; 1 incomplete, 1 lost.",
                2,
            ),
            (
                &[DamagedRepairable],
                "The one file is safe (1 damaged but repairable).",
                0,
            ),
            (
                &[SafeVerified, NeedsPassword],
                "1 of 2 files safe; 1 needs its password.",
                2,
            ),
            (&[NotVerified], "0 of 1 files safe; 1 not verified.", 2),
            (&[], "No files selected: nothing to do.", 2),
        ];
        for (v, words, code) in cases {
            assert_eq!(summary(v, "files"), *words, "{v:?}");
            assert_eq!(exit_code(v), *code, "{v:?}");
            // The summary says "safe" for all exactly when the exit code is 0.
            assert_eq!(
                summary(v, "files").starts_with("All")
                    || summary(v, "files").starts_with("The one"),
                *code == 0
            );
        }
    }

    #[test]
    fn missing_ranges_are_exact() {
        assert_eq!(
            missing_phrase(&[(992, 1488)], 496),
            "496 bytes missing (bytes 992–1487)"
        );
        assert_eq!(missing_phrase(&[(7, 8)], 1), "1 byte missing (byte 7)");
        assert_eq!(
            missing_phrase(&[(0, 4096), (8192, 12288), (20000, 20001)], 8193),
            "8.0 KiB missing (bytes 0–4095, 8192–12287 and 1 more range)"
        );
    }
}
