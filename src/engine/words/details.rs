//! The exact details of an assembly, for experts: block sets repaired or beyond repair,
//! damaged, absent and unreadable blocks, runs of missing bytes, blocks ignored, and what
//! the hash said — offsets and sequence numbers, lists capped with "… and N more". Never
//! prints and never touches a file.

use crate::engine::assemble::{Assembly, HashCheck, SetReport};
use crate::engine::source::list_ranges;

/// The exact details of an assembly, for experts.
pub fn assembly_details(a: &Assembly) -> Vec<String> {
    let mut v = Vec::new();
    set_lines(a, &mut v);
    damage_lines(a, &mut v);
    missing_lines(a, &mut v);
    ignored_lines(a, &mut v);
    if let Some(line) = hash_line(&a.hash) {
        v.push(line);
    }
    v
}

/// "block set [a..=b]: seq N at byte O (0xO), …"
fn set_line(s: &SetReport) -> String {
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
}

/// Block sets Reed–Solomon repaired, then those beyond repair.
fn set_lines(a: &Assembly, v: &mut Vec<String>) {
    for s in &a.repaired {
        v.push(format!("repaired: {}", set_line(s)));
    }
    if a.repaired_sets > a.repaired.len() as u64 {
        v.push(format!(
            "… and {} more block sets repaired",
            a.repaired_sets - a.repaired.len() as u64
        ));
    }
    for s in &a.failed {
        v.push(format!("beyond repair: {}", set_line(s)));
    }
    if a.failed_sets > a.failed.len() as u64 {
        v.push(format!(
            "… and {} more block sets beyond repair ({} absent blocks in all)",
            a.failed_sets - a.failed.len() as u64,
            a.failed_blocks
        ));
    }
}

/// Damaged blocks, absent blocks and unreadable bytes.
fn damage_lines(a: &Assembly, v: &mut Vec<String>) {
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
}

/// Runs of the file's bytes no block gives back.
fn missing_lines(a: &Assembly, v: &mut Vec<String>) {
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
}

/// Valid blocks that were not used: other containers', duplicates, numbered past the end.
fn ignored_lines(a: &Assembly, v: &mut Vec<String>) {
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
}

/// What the stored hash said (nothing when it could not be checked).
fn hash_line(hash: &HashCheck) -> Option<String> {
    match hash {
        HashCheck::Match { kind, digest } => Some(format!("{kind} verified: {digest}")),
        HashCheck::Mismatch {
            kind,
            expected,
            actual,
        } => Some(format!("{kind} mismatch: stored {expected}, data {actual}")),
        HashCheck::NotStored => Some("no hash stored".into()),
        HashCheck::UnknownKind { raw } => Some(format!("hash of an unknown kind: {raw}")),
        HashCheck::NotChecked => None,
    }
}
