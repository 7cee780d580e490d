//! The plain sentences of an import of the original SBXScan's databases: how many of the
//! listed blocks checked out against the images, and what became of the rest. Never prints.

use crate::engine::import::{DropReason, ImportReport};

/// One line that says what the exit code says: every listed block imported, or how many were
/// dropped and what that means for recovery.
pub fn imported(r: &ImportReport) -> String {
    let blocks: u64 = r.sources.iter().map(|s| s.blocks).sum();
    let sources = r.sources.len();
    let of = format!(
        "{blocks} block{} from {sources} source{} ({} container{} in the catalogue)",
        plural(blocks),
        plural(sources as u64),
        r.containers,
        plural(r.containers as u64)
    );
    let dropped = r.dropped();
    if dropped == 0 {
        return format!("Imported {of}: every block listed checked out against its image.");
    }
    format!(
        "Imported {of}; {dropped} listed block{} did not check out and {} dropped: recovery \
         counts {} as missing.",
        plural(dropped),
        if dropped == 1 { "was" } else { "were" },
        if dropped == 1 { "it" } else { "them" },
    )
}

/// Why one block was dropped, in plain words.
pub fn drop_reason(why: DropReason) -> &'static str {
    match why {
        DropReason::Impossible => "the database holds values no scan writes",
        DropReason::PastEnd => "the image ends before it (it is shorter than when scanned)",
        DropReason::Unreadable => "its sectors cannot be read",
        DropReason::NotSbx => "no SBX block is there now",
        DropReason::BadCrc => "its CRC fails: it changed since the scan",
        DropReason::OtherBlock => "another block is there now",
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}
