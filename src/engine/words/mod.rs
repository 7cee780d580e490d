//! The one place that turns reports into verdicts, plain sentences and exit codes.
//!
//! Every job that gives files back (decode, check, repair, recover, snapshot recover) is
//! judged here, per item, with one vocabulary — *safe — verified*, *safe after repair*,
//! *damaged but all data safe (repairable)*, *not verified*, *incomplete* (with the exact
//! missing byte ranges), *lost*, *needs its password*, *failed* — and the exit code is
//! derived from the same verdicts, so the summary line and the exit code cannot disagree.
//! The CLI printer and the app both call this module; neither composes a verdict itself.
//! Never prints and never touches a file.

use super::assemble::{Assembly, HashCheck, MissingRange};
use super::calc::human;
use super::check::CheckReport;
use super::decode::{DecodeReport, DecodeStatus};
use super::ext4::recover::{FileVerdict, Verdict as FileState};
use super::info::InfoReport;
use super::io::file_name_of;
use super::job::Error;
use super::recover::{ContainerResult, RecoverStatus};
use super::repair::RepairReport;
use super::source::list_ranges;
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

fn ranges_of(missing: &[MissingRange]) -> Vec<(u64, u64)> {
    missing.iter().map(|m| (m.byte_start, m.byte_end)).collect()
}

/// Total missing bytes of an assembly (the ranges are capped in number; the blocks are not).
fn missing_total(a: &Assembly, payload: u64) -> u64 {
    let listed: u64 = a.missing.iter().map(|m| m.byte_end - m.byte_start).sum();
    let listed_blocks: u64 = a.missing.iter().map(|m| m.blocks).sum();
    listed + a.missing_blocks.saturating_sub(listed_blocks) * payload
}

/// The exact details of an assembly, for experts.
pub fn assembly_details(a: &Assembly) -> Vec<String> {
    let mut v = Vec::new();
    let sets = |s: &super::assemble::SetReport| {
        let blocks: Vec<String> = s
            .blocks
            .iter()
            .map(|b| match b.offset {
                Some(o) => format!("seq {} at byte {o} (0x{o:x})", b.seq),
                None => format!("seq {}", b.seq),
            })
            .collect();
        format!(
            "block set [{}..={}]: {}",
            s.first_seq,
            s.last_seq,
            blocks.join(", ")
        )
    };
    for s in &a.repaired {
        v.push(format!("repaired: {}", sets(s)));
    }
    if a.repaired_sets > a.repaired.len() as u64 {
        v.push(format!(
            "… and {} more block sets repaired",
            a.repaired_sets - a.repaired.len() as u64
        ));
    }
    for s in &a.failed {
        v.push(format!("beyond repair: {}", sets(s)));
    }
    if a.failed_sets > a.failed.len() as u64 {
        v.push(format!(
            "… and {} more block sets beyond repair ({} absent blocks in all)",
            a.failed_sets - a.failed.len() as u64,
            a.failed_blocks
        ));
    }
    for d in &a.damaged {
        v.push(format!(
            "damaged block: seq {} at byte {} (0x{:x}){}",
            d.seq,
            d.offset,
            d.offset,
            if d.cut_short {
                ", cut short by the end of the file"
            } else {
                ", bad CRC"
            }
        ));
    }
    if a.damaged_blocks > a.damaged.len() as u64 {
        v.push(format!(
            "… and {} more damaged blocks",
            a.damaged_blocks - a.damaged.len() as u64
        ));
    }
    if a.absent_blocks > 0 {
        v.push(format!(
            "{} block(s) absent (data, parity or metadata copies)",
            a.absent_blocks
        ));
    }
    if a.unreadable_bytes > 0 {
        v.push(format!(
            "unreadable (disk errors): {} byte(s) in {} block(s), treated as missing: bytes {}",
            a.unreadable_bytes,
            a.unreadable_blocks,
            list_ranges(&a.unreadable, 10)
        ));
    }
    for m in &a.missing {
        v.push(format!(
            "missing: bytes {}..{} of the file (seq {}..={}, {} block(s))",
            m.byte_start, m.byte_end, m.first_seq, m.last_seq, m.blocks
        ));
    }
    if a.missing_ranges > a.missing.len() as u64 {
        v.push(format!(
            "… and {} more runs of missing bytes",
            a.missing_ranges - a.missing.len() as u64
        ));
    }
    if a.foreign_blocks > 0 {
        v.push(format!(
            "{} block(s) of other containers ignored",
            a.foreign_blocks
        ));
    }
    if a.duplicate_blocks > 0 {
        v.push(format!("{} duplicate block(s) ignored", a.duplicate_blocks));
    }
    if a.out_of_range_blocks > 0 {
        v.push(format!(
            "{} block(s) numbered past the end of the file ignored",
            a.out_of_range_blocks
        ));
    }
    match &a.hash {
        HashCheck::Match { kind, digest } => v.push(format!("{kind} verified: {digest}")),
        HashCheck::Mismatch {
            kind,
            expected,
            actual,
        } => v.push(format!("{kind} mismatch: stored {expected}, data {actual}")),
        HashCheck::NotStored => v.push("no hash stored".into()),
        HashCheck::UnknownKind { raw } => v.push(format!("hash of an unknown kind: {raw}")),
        HashCheck::NotChecked => {}
    }
    v
}

/// The container's damage that does not touch the data: what makes a check "damaged but
/// all data safe" rather than "safe — verified".
fn container_damaged(a: &Assembly) -> bool {
    a.damaged_blocks > 0 || a.absent_blocks > 0 || a.repaired_sets > 0 || a.unreadable_blocks > 0
}

/// What the hash (or its absence) says about complete data.
enum Complete {
    Verified,
    /// No hash stored, and the container is one that never had one (or its metadata holds
    /// none): every block present and valid is all there is to check.
    NothingToVerify,
    /// The metadata is lost (size and hash unknown), or the hash is of an unknown kind.
    Unverifiable(&'static str),
    Mismatch,
}

fn complete_state(a: &Assembly, metadata_lost: bool) -> Complete {
    match &a.hash {
        HashCheck::Match { .. } => Complete::Verified,
        HashCheck::Mismatch { .. } => Complete::Mismatch,
        HashCheck::NotStored if metadata_lost => Complete::Unverifiable(
            "its metadata block is lost, so the file's size and hash are unknown (the last block's padding is kept)",
        ),
        HashCheck::NotStored => Complete::NothingToVerify,
        HashCheck::UnknownKind { .. } => {
            Complete::Unverifiable("its stored hash is of a kind this program cannot compute")
        }
        HashCheck::NotChecked => Complete::Unverifiable("its hash could not be checked"),
    }
}

const NO_HASH_NOTE: &str = "no hash is stored (made without metadata or without a hash): every block is present and valid, which is all that can be checked";

/// A decode of one container.
pub fn decode(r: &DecodeReport) -> Said {
    let name = file_name_of(&r.info.container);
    let a = &r.assembly;
    let saved = |v: Verdict, extra: &str| match &r.output {
        Some(o) => format!("{name}: {}{extra}, saved as {}", v.label(), o.display()),
        None => format!("{name}: {}{extra}", v.label()),
    };
    let mut details = assembly_details(a);
    details.extend(r.notes.iter().cloned());
    let (verdict, line) = match r.status {
        DecodeStatus::Incomplete => not_complete(&name, a, payload(&r.info), "nothing was written"),
        DecodeStatus::HashMismatch => (
            Verdict::Lost,
            format!(
                "{name}: lost — every block was read, but the data does not match its stored hash; nothing was written"
            ),
        ),
        DecodeStatus::Verified | DecodeStatus::Unverified => {
            match complete_state(a, r.info.metadata_lost) {
                Complete::Verified | Complete::NothingToVerify if a.repaired_sets > 0 => (
                    Verdict::SafeAfterRepair,
                    saved(
                        Verdict::SafeAfterRepair,
                        &format!(" (Reed–Solomon rebuilt {} block set(s))", a.repaired_sets),
                    ),
                ),
                Complete::Verified => (Verdict::SafeVerified, saved(Verdict::SafeVerified, "")),
                Complete::NothingToVerify => {
                    details.push(NO_HASH_NOTE.into());
                    (
                        Verdict::SafeVerified,
                        saved(
                            Verdict::SafeVerified,
                            " (every block valid; no hash stored)",
                        ),
                    )
                }
                Complete::Unverifiable(why) => (
                    Verdict::NotVerified,
                    saved(Verdict::NotVerified, &format!(": {why}")),
                ),
                Complete::Mismatch => (
                    Verdict::Lost,
                    format!("{name}: lost — the data does not match its stored hash"),
                ),
            }
        }
    };
    Said {
        verdict,
        line,
        details,
    }
}

fn payload(info: &InfoReport) -> u64 {
    info.version.payload_size() as u64
}

/// Incomplete (with exact ranges) or lost (nothing of the data).
fn not_complete(name: &str, a: &Assembly, payload: u64, what_happened: &str) -> (Verdict, String) {
    if a.valid_data_blocks == 0 && a.expected_data_blocks != Some(0) {
        return (
            Verdict::Lost,
            format!("{name}: lost — no block of the file's data could be found; {what_happened}"),
        );
    }
    let total = missing_total(a, payload);
    (
        Verdict::Incomplete,
        format!(
            "{name}: incomplete — {}; {what_happened}",
            missing_phrase(&ranges_of(&a.missing), total)
        ),
    )
}

/// A check of one container (nothing written).
pub fn check(r: &CheckReport) -> Said {
    let name = file_name_of(&r.info.container);
    let a = &r.assembly;
    let mut details = assembly_details(a);
    let (verdict, line) = if !a.complete() {
        not_complete(&name, a, payload(&r.info), "the rest checks out")
    } else {
        match complete_state(a, r.info.metadata_lost) {
            Complete::Mismatch => (
                Verdict::Lost,
                format!(
                    "{name}: lost — every block was read, but the data does not match its stored hash"
                ),
            ),
            Complete::Unverifiable(why) => (
                Verdict::NotVerified,
                format!("{name}: not verified — {why}"),
            ),
            state => {
                if matches!(state, Complete::NothingToVerify) {
                    details.push(NO_HASH_NOTE.into());
                }
                if container_damaged(a) {
                    if r.info.rs_data.is_some() {
                        details.push(
                            "`seqbox repair` (or Repair in the app) rewrites the bad blocks".into(),
                        );
                    }
                    let bad = a.absent_blocks.max(a.damaged_blocks);
                    (
                        Verdict::DamagedRepairable,
                        format!(
                            "{name}: {} — {bad} block{} damaged or missing; decoding gives every byte back",
                            Verdict::DamagedRepairable.label(),
                            if bad == 1 { "" } else { "s" }
                        ),
                    )
                } else {
                    (
                        Verdict::SafeVerified,
                        format!(
                            "{name}: {} — every block{}",
                            Verdict::SafeVerified.label(),
                            if matches!(state, Complete::Verified) {
                                " and the stored hash check out"
                            } else {
                                " is present and valid (no hash stored)"
                            }
                        ),
                    )
                }
            }
        }
    };
    Said {
        verdict,
        line,
        details,
    }
}

/// A repair of one container.
pub fn repair(r: &RepairReport) -> Said {
    let name = file_name_of(&r.info.container);
    let a = &r.assembly;
    let mut details = assembly_details(a);
    for o in &r.metadata_repaired {
        details.push(format!("metadata copy rewritten at byte {o} (0x{o:x})"));
    }
    if r.unreadable_bytes > 0 && a.unreadable_bytes == 0 {
        details.push(format!(
            "unreadable (disk errors): {} byte(s) of the container: bytes {}",
            r.unreadable_bytes,
            list_ranges(&r.unreadable, 10)
        ));
    }
    let written = if r.in_place {
        format!("{} rewritten in place", r.output.display())
    } else {
        format!("repaired copy {}", r.output.display())
    };
    let fixed = r.blocks_repaired + r.metadata_repaired.len() as u64;
    let (verdict, line) = if !a.complete() {
        let (v, l) = not_complete(
            &name,
            a,
            payload(&r.info),
            &format!(
                "{} block(s) rebuilt, {} could not be ({written})",
                r.blocks_repaired, r.blocks_failed
            ),
        );
        (v, l)
    } else {
        match complete_state(a, r.info.metadata_lost) {
            Complete::Mismatch => (
                Verdict::Lost,
                format!(
                    "{name}: lost — every block was read, but the data does not match its stored hash ({written})"
                ),
            ),
            Complete::Unverifiable(why) => (
                Verdict::NotVerified,
                format!("{name}: not verified — {why} ({written})"),
            ),
            _ if fixed > 0 => (
                Verdict::SafeAfterRepair,
                format!(
                    "{name}: safe after repair — {} block(s) and {} metadata cop(ies) rebuilt; {written}",
                    r.blocks_repaired,
                    r.metadata_repaired.len()
                ),
            ),
            _ => (
                Verdict::SafeVerified,
                format!("{name}: safe — verified; nothing needed repair ({written})"),
            ),
        }
    };
    Said {
        verdict,
        line,
        details,
    }
}

/// One container rebuilt from a catalogue.
pub fn recovered(c: &ContainerResult) -> Said {
    let name = c
        .file_name
        .clone()
        .unwrap_or_else(|| format!("(no name, UID {})", c.uid));
    let a = &c.assembly;
    let mut details = Vec::new();
    if let Some(o) = &c.output {
        details.push(format!("written to {}", o.display()));
    }
    if let Some(r) = &c.reason {
        details.push(r.clone());
    }
    details.extend(assembly_details(a));
    for u in c.unreadable.iter().take(20) {
        details.push(format!(
            "unreadable (disk errors): bytes {}–{} of {}",
            u.start,
            u.end.saturating_sub(1),
            u.source.display()
        ));
    }
    for k in &c.conflicts {
        details.push(format!(
            "copies of block {} disagreed: {} of {} agreed with the one used",
            k.seq, k.agreeing, k.copies
        ));
    }
    details.extend(c.notes.iter().cloned());
    details.push(format!("UID {}, version {}", c.uid, c.version));
    let saved = |v: Verdict, extra: &str| match &c.output {
        Some(o) => format!("{name}: {}{extra}, saved as {}", v.label(), o.display()),
        None => format!("{name}: {}{extra}", v.label()),
    };
    let why = c.reason.clone().unwrap_or_default();
    let (verdict, line) = match c.status {
        RecoverStatus::NeedsPassword => (
            Verdict::NeedsPassword,
            format!(
                "{name}: {} — it was stored with a password; recover it again with that password",
                Verdict::NeedsPassword.label()
            ),
        ),
        RecoverStatus::Unrecoverable => (Verdict::Lost, format!("{name}: lost — {why}")),
        RecoverStatus::Partial => {
            let what = if c.output.is_some() {
                "saved with the missing parts filled with zeros"
            } else {
                "not saved (ask for incomplete files to keep the rest)"
            };
            let (v, l) = not_complete(&name, a, c.version.payload_size() as u64, what);
            let l = match (&c.output, v) {
                (Some(o), Verdict::Incomplete) => format!("{l}, as {}", o.display()),
                _ => l,
            };
            (v, l)
        }
        RecoverStatus::Complete | RecoverStatus::Repaired => {
            match complete_state(a, c.metadata_lost) {
                Complete::Verified | Complete::NothingToVerify if a.repaired_sets > 0 => (
                    Verdict::SafeAfterRepair,
                    saved(
                        Verdict::SafeAfterRepair,
                        &format!(" (Reed–Solomon rebuilt {} block set(s))", a.repaired_sets),
                    ),
                ),
                Complete::Verified => (Verdict::SafeVerified, saved(Verdict::SafeVerified, "")),
                Complete::NothingToVerify => {
                    details.push(NO_HASH_NOTE.into());
                    (
                        Verdict::SafeVerified,
                        saved(
                            Verdict::SafeVerified,
                            " (every block valid; no hash stored)",
                        ),
                    )
                }
                Complete::Unverifiable(w) => (
                    Verdict::NotVerified,
                    saved(Verdict::NotVerified, &format!(": {w}")),
                ),
                Complete::Mismatch => (Verdict::Lost, format!("{name}: lost — {why}")),
            }
        }
    };
    Said {
        verdict,
        line,
        details,
    }
}

/// One file recovered from an ext4 snapshot.
pub fn snapshot_file(f: &FileVerdict) -> Said {
    let path = super::ext4::display_path(&f.path);
    let mut details = Vec::new();
    if let Some(o) = &f.out_path {
        details.push(format!("written to {}", o.display()));
    }
    details.extend(f.reasons.iter().cloned());
    for (a, b) in f.damaged.iter().take(50) {
        details.push(format!("damaged: bytes {a}..{b}"));
    }
    let total: u64 = f.damaged.iter().map(|(a, b)| b - a).sum();
    let (verdict, line) = match f.verdict {
        FileState::Identical => (
            Verdict::SafeVerified,
            match &f.out_path {
                Some(o) => format!(
                    "{path}: safe — verified (identical to the snapshot), saved as {}",
                    o.display()
                ),
                None => format!("{path}: safe — verified (identical to the snapshot)"),
            },
        ),
        FileState::Partial { .. } => (
            Verdict::Incomplete,
            format!(
                "{path}: incomplete — {}; the rest is intact{}",
                missing_phrase(&f.damaged, total),
                match &f.out_path {
                    Some(o) => format!(", saved with the gaps zero-filled as {}", o.display()),
                    None => String::new(),
                }
            ),
        ),
        FileState::NotRecoverable => (
            Verdict::Lost,
            format!("{path}: lost — every block of this file has changed since the snapshot"),
        ),
    };
    Said {
        verdict,
        line,
        details,
    }
}

/// An item whose job could not run.
pub fn failed(input: &std::path::Path, e: &Error) -> Said {
    Said {
        verdict: Verdict::Failed,
        line: format!("{}: failed — {e}", file_name_of(input)),
        details: vec![e.to_string()],
    }
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
