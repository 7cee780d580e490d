//! Each job's report, judged: decode, check, repair, a recovered container, a file from an
//! ext4 snapshot, or a job that could not run → a [`Said`] (verdict, one line for people,
//! the exact details). The verdict words are `Verdict::label`'s; never prints and never
//! touches a file.

use super::{Said, Verdict, assembly_details, missing_phrase};
use crate::engine::assemble::{Assembly, HashCheck, MissingRange};
use crate::engine::check::CheckReport;
use crate::engine::decode::{DecodeReport, DecodeStatus};
use crate::engine::ext4::recover::{FileVerdict, Now, Verdict as FileState};
use crate::engine::info::InfoReport;
use crate::engine::io::file_name_of;
use crate::engine::job::Error;
use crate::engine::recover::{ContainerResult, RecoverStatus};
use crate::engine::repair::RepairReport;
use crate::engine::source::list_ranges;

fn ranges_of(missing: &[MissingRange]) -> Vec<(u64, u64)> {
    missing.iter().map(|m| (m.byte_start, m.byte_end)).collect()
}

/// Total missing bytes of an assembly (the ranges are capped in number; the blocks are not).
fn missing_total(a: &Assembly, payload: u64) -> u64 {
    let listed: u64 = a.missing.iter().map(|m| m.byte_end - m.byte_start).sum();
    let listed_blocks: u64 = a.missing.iter().map(|m| m.blocks).sum();
    listed + a.missing_blocks.saturating_sub(listed_blocks) * payload
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
        Some(o) if o.as_os_str() == crate::engine::decode::STDOUT => {
            format!("{name}: {}{extra}, written to standard output", v.label())
        }
        Some(o) => format!("{name}: {}{extra}, saved as {}", v.label(), o.display()),
        None => format!("{name}: {}{extra}", v.label()),
    };
    let mut details = assembly_details(a);
    details.extend(r.notes.iter().cloned());
    let (verdict, line) = match r.status {
        DecodeStatus::Incomplete => {
            let what = match &r.output {
                Some(o) => format!(
                    "saved with the missing parts filled with zeros as {}",
                    o.display()
                ),
                None => "nothing was written".into(),
            };
            not_complete(&name, a, payload(&r.info), &what)
        }
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
    let mut details = recovered_details(c);
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

/// The details of one recovered container: where it went, why, its assembly, the bytes
/// its sources could not read, disagreeing copies, notes, and its identity.
fn recovered_details(c: &ContainerResult) -> Vec<String> {
    let mut details = Vec::new();
    if let Some(o) = &c.output {
        details.push(format!("written to {}", o.display()));
    }
    if let Some(r) = &c.reason {
        details.push(r.clone());
    }
    details.extend(assembly_details(&c.assembly));
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
    details
}

/// One file recovered from an ext4 snapshot. The path says what became of the file since the
/// snapshot ("deleted since the snapshot", "edited since the snapshot"); the verdict says what
/// came back.
pub fn snapshot_file(f: &FileVerdict) -> Said {
    let path = crate::engine::ext4::display_path(&f.path);
    let path = match f.now {
        Now::Same => path,
        Now::Changed => format!("{path} (edited since the snapshot)"),
        Now::Deleted => format!("{path} (deleted since the snapshot)"),
    };
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
        FileState::NotRecoverable if f.changed_bytes == 0 && f.unreadable_bytes == 0 => (
            Verdict::Lost,
            format!("{path}: lost — it cannot be verified against the snapshot"),
        ),
        FileState::NotRecoverable if f.now == Now::Deleted => (
            Verdict::Lost,
            format!("{path}: lost — every block of it has been overwritten since"),
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
