//! Plain-text reports for people; `--json` prints the same reports as data instead.

use seqbox::engine::assemble::{Assembly, HashCheck};
use seqbox::engine::check::CheckReport;
use seqbox::engine::decode::{DecodeReport, DecodeStatus};
use seqbox::engine::encode::EncodeReport;
use seqbox::engine::info::InfoReport;

pub fn encode(r: &EncodeReport) {
    println!(
        "{} -> {}: version {}, UID {}, {} bytes in {} data blocks, container {} bytes, {} {}",
        r.input.display(),
        r.output.display(),
        r.version,
        r.uid,
        r.file_size,
        r.data_blocks,
        r.container_size,
        r.hash_kind,
        r.hash
    );
    for n in &r.notes {
        println!("  note: {n}");
    }
}

pub fn decode(r: &DecodeReport) {
    let src = r.info.container.display();
    match (r.status, &r.output) {
        (DecodeStatus::Verified, Some(out)) => println!(
            "{src} -> {}: {} bytes, hash verified ({})",
            out.display(),
            r.assembly.data_len,
            hash_words(&r.assembly.hash)
        ),
        (DecodeStatus::Unverified, Some(out)) => println!(
            "{src} -> {}: {} bytes, every block valid, hash not verified",
            out.display(),
            r.assembly.data_len
        ),
        (DecodeStatus::Incomplete, _) => {
            println!("{src}: FAILED, blocks are missing; nothing was written")
        }
        (DecodeStatus::HashMismatch, _) => println!(
            "{src}: FAILED, the data does not match the stored hash ({}); nothing was written",
            hash_words(&r.assembly.hash)
        ),
        _ => println!("{src}: {:?}", r.status),
    }
    details(&r.assembly);
    for n in &r.notes {
        println!("  note: {n}");
    }
}

pub fn check(r: &CheckReport) {
    let a = &r.assembly;
    println!(
        "{}: {} ({} valid data blocks{}, {})",
        r.info.container.display(),
        if r.ok { "OK" } else { "DAMAGED" },
        a.valid_data_blocks,
        a.expected_data_blocks
            .map(|e| format!(" of {e}"))
            .unwrap_or_default(),
        hash_words(&a.hash)
    );
    details(a);
}

pub fn info(r: &InfoReport) {
    println!("{}", r.container.display());
    let row = |k: &str, v: String| println!("  {k:<16} {v}");
    row(
        "version",
        format!("{} ({} byte blocks)", r.version, r.block_size),
    );
    row("UID", r.uid.clone());
    if r.offset > 0 {
        row("starts at", format!("byte {} (0x{:x})", r.offset, r.offset));
    }
    row("block positions", r.block_positions.to_string());
    if r.password {
        row("password", "yes".into());
    }
    if let Some(len) = r.overlong_metadata {
        row(
            "note",
            format!("block 0 is {len} bytes long (written by the original SBXEnc's long-name bug)"),
        );
    }
    let Some(m) = &r.metadata else {
        row("metadata", "none (no name, size or hash stored)".into());
        return;
    };
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    row("file name", opt(&m.file_name));
    row("container name", opt(&m.sbx_name));
    row(
        "file size",
        m.file_size.map_or("-".into(), |s| format!("{s} bytes")),
    );
    row("file date", opt(&m.file_time_utc));
    row("encoded on", opt(&m.sbx_time_utc));
    match (&m.hash_kind, &m.hash, &m.hash_unknown) {
        (Some(k), Some(h), _) => row("hash", format!("{k} {h}")),
        (_, _, Some(raw)) => row("hash", format!("unknown kind: {raw}")),
        _ => row("hash", "-".into()),
    }
    if let (Some(d), Some(p)) = (m.rs_data, m.rs_parity) {
        row("Reed-Solomon", format!("{d} data + {p} parity"));
    }
    if !m.unknown_fields.is_empty() {
        row("unknown fields", m.unknown_fields.join(", "));
    }
}

fn hash_words(h: &HashCheck) -> String {
    match h {
        HashCheck::Match { kind, digest } => format!("{kind} match {digest}"),
        HashCheck::Mismatch {
            kind,
            expected,
            actual,
        } => format!("{kind} mismatch: stored {expected}, data {actual}"),
        HashCheck::NotStored => "no hash stored".into(),
        HashCheck::UnknownKind { .. } => "hash of an unknown kind".into(),
        HashCheck::NotChecked => "hash not checked".into(),
    }
}

/// Exact details of anything wrong: damaged blocks, missing ranges, strays.
fn details(a: &Assembly) {
    for d in &a.damaged {
        println!(
            "  damaged block: seq {} at offset {} (0x{:x}){}",
            d.seq,
            d.offset,
            d.offset,
            if d.cut_short {
                ", cut short by the end of the file"
            } else {
                ", bad CRC"
            }
        );
    }
    if a.damaged_blocks > a.damaged.len() as u64 {
        println!(
            "  ... {} more damaged blocks",
            a.damaged_blocks - a.damaged.len() as u64
        );
    }
    if a.missing_blocks > 0 {
        println!("  missing: {} block(s)", a.missing_blocks);
        for m in a.missing.iter().take(50) {
            println!(
                "    seq {}..={}: bytes {}..{} of the file",
                m.first_seq, m.last_seq, m.byte_start, m.byte_end
            );
        }
    }
    if a.foreign_blocks > 0 {
        println!(
            "  {} block(s) of other containers ignored",
            a.foreign_blocks
        );
    }
    if a.duplicate_blocks > 0 {
        println!("  {} duplicate block(s) ignored", a.duplicate_blocks);
    }
    if a.out_of_range_blocks > 0 {
        println!(
            "  {} block(s) numbered past the end of the file ignored",
            a.out_of_range_blocks
        );
    }
}
