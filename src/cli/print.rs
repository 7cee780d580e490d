//! Plain-text reports for people; `--json` prints the same reports as data instead.

use seqbox::engine::calc::{CalcReport, human};
use seqbox::engine::check::CheckReport;
use seqbox::engine::decode::DecodeReport;
use seqbox::engine::demo::DemoReport;
use seqbox::engine::encode::EncodeReport;
use seqbox::engine::import::ImportReport;
use seqbox::engine::info::InfoReport;
use seqbox::engine::recover::RecoverReport;
use seqbox::engine::repair::RepairReport;
use seqbox::engine::scan::ScanReport;
use seqbox::engine::words::{self, Said};

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

/// One item's verdict line and, indented, its exact details.
pub fn said(s: &Said) {
    println!("{}", s.line);
    for d in &s.details {
        println!("  {d}");
    }
}

pub fn decode(r: &DecodeReport) {
    said(&words::decode(r));
}

/// A decode whose file went to standard output: its words on standard error.
pub fn decode_to_stderr(r: &DecodeReport) {
    let s = words::decode(r);
    eprintln!("{}", s.line);
    for d in &s.details {
        eprintln!("  {d}");
    }
}

pub fn check(r: &CheckReport) {
    said(&words::check(r));
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
    if let (Some(d), Some(p)) = (r.rs_data, r.rs_parity) {
        row(
            "Reed-Solomon",
            format!(
                "{d} data + {p} parity per block set, burst level {}",
                r.burst
            ),
        );
    }
    for n in &r.geometry_notes {
        row("note", n.clone());
    }
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
    if !m.unknown_fields.is_empty() {
        row("unknown fields", m.unknown_fields.join(", "));
    }
}

pub fn repair(r: &RepairReport) {
    said(&words::repair(r));
}

pub fn calc(r: &CalcReport) {
    let rs = match (r.rs_data, r.rs_parity, r.burst) {
        (Some(m), Some(p), Some(b)) => format!(", {m} data + {p} parity, burst {b}"),
        _ => String::new(),
    };
    println!(
        "{} file, version {}{rs}: container {} ({} bytes, {:.1} % overhead)",
        human(r.file_size),
        r.version,
        human(r.container_size),
        r.container_size,
        r.overhead_percent
    );
    println!(
        "  blocks: {} data, {} padding, {} parity, {} metadata",
        r.data_blocks, r.padding_blocks, r.parity_blocks, r.metadata_blocks
    );
    println!("  {}", r.tolerance);
}

pub fn scan(r: &ScanReport) {
    for s in &r.sources {
        println!(
            "{}: {} scanned{}, {} SBX blocks ({} metadata), {} damaged{}",
            s.path.display(),
            human(s.scanned_to.saturating_sub(s.started_at)),
            if s.resumed {
                format!(" (resumed at byte {})", s.started_at)
            } else {
                String::new()
            },
            s.blocks,
            s.metadata_blocks,
            s.damaged_blocks,
            if s.unreadable_sectors > 0 {
                format!(", {} unreadable sectors", s.unreadable_sectors)
            } else {
                String::new()
            }
        );
        for n in &s.notes {
            println!("  note: {n}");
        }
    }
    println!(
        "catalogue {}: {} container(s) found; `seqbox catalog {}` lists them",
        r.catalog.display(),
        r.containers,
        r.catalog.display()
    );
}

/// An import's report with its summary line (words::imported), as text and in JSON.
#[derive(serde::Serialize)]
pub struct Imported {
    pub summary: String,
    #[serde(flatten)]
    pub report: ImportReport,
}

pub fn import(d: &Imported) {
    for s in &d.report.sources {
        println!(
            "{} (listed as {}): {} of {} listed blocks imported ({} metadata), {} dropped",
            s.path.display(),
            s.listed_as,
            s.blocks,
            s.listed,
            s.metadata_blocks,
            s.dropped
        );
        for b in &s.dropped_blocks {
            println!(
                "  dropped: block {} of container {} at byte {}: {}",
                b.seq,
                b.uid,
                b.offset,
                words::drop_reason(b.why)
            );
        }
        if s.dropped > s.dropped_blocks.len() as u64 {
            println!(
                "  … and {} more dropped",
                s.dropped - s.dropped_blocks.len() as u64
            );
        }
        for n in &s.notes {
            println!("  note: {n}");
        }
    }
    if d.report.unplaced > 0 {
        println!(
            "{} listed block(s) name a source the database does not list: dropped",
            d.report.unplaced
        );
    }
    println!("{}", d.summary);
    println!(
        "catalogue {}: `seqbox catalog {}` lists the containers, `seqbox recover` rebuilds them",
        d.report.catalog.display(),
        d.report.catalog.display()
    );
}

pub fn recover(r: &RecoverReport) {
    let items: Vec<Said> = r.results.iter().map(words::recovered).collect();
    let verdicts: Vec<_> = items.iter().map(|s| s.verdict).collect();
    println!(
        "{} Into {}.",
        words::summary(&verdicts, "files"),
        r.out_dir.display()
    );
    for s in &items {
        said(s);
    }
}

pub fn catalog(v: &serde_json::Value) {
    if let Some(sources) = v["sources"].as_array() {
        for s in sources {
            println!(
                "source {}: {} bytes, scanned {}",
                s["path"].as_str().unwrap_or("?"),
                s["size"],
                if s["complete"] == true {
                    "completely".to_string()
                } else if s["changed_during_scan"] == true {
                    "while it changed: scan it again".to_string()
                } else if s["scanned_to"] == s["scan_from"] {
                    "not at all (any blocks shown were imported from an SBXScan list)".to_string()
                } else {
                    format!("up to byte {}", s["scanned_to"])
                }
            );
        }
    }
    println!(
        "{:<32} {:>12} {:<12} {:>4} {:>16}  status",
        "name", "size", "UID", "ver", "blocks found"
    );
    for c in v["containers"].as_array().into_iter().flatten() {
        let found = c["blocks_found"].as_u64().unwrap_or(0);
        let expected = c["blocks_expected"].as_u64();
        let status = match expected {
            Some(e) if found >= e => "all blocks found".to_string(),
            Some(e) => format!(
                "{} missing{}",
                e - found,
                if c["rs_parity"].is_null() {
                    ""
                } else {
                    " (Reed-Solomon may rebuild)"
                }
            ),
            None => "no metadata found".to_string(),
        };
        println!(
            "{:<32} {:>12} {:<12} {:>4} {:>16}  {status}",
            c["file_name"].as_str().unwrap_or("(unknown)"),
            c["file_size"]
                .as_u64()
                .map_or("?".into(), |s| s.to_string()),
            c["uid"].as_str().unwrap_or("?"),
            c["version"],
            match expected {
                Some(e) => format!("{found}/{e}"),
                None => format!("{found}/?"),
            },
        );
    }
}

pub fn demo(r: &DemoReport) {
    println!(
        "Fragmentation demo, seed {}, {} in {}",
        r.seed,
        if r.samples {
            "generated sample files"
        } else {
            "your files"
        },
        r.out_dir.display()
    );
    for (i, s) in r.stages.iter().enumerate() {
        let name = |p: &std::path::Path| {
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        };
        println!(
            "  {} {:<10} {} + {} ({} SBX blocks found)",
            i + 1,
            s.name,
            name(&s.image),
            name(&s.catalog),
            s.sbx_blocks
        );
        println!("               {}", s.description);
    }
    println!();
    let width = r
        .files
        .iter()
        .map(|f| f.name.len())
        .max()
        .unwrap_or(0)
        .max(4);
    println!(
        "{:<width$} {:>9} {:>6} {:>6}  {:<36} SBX recovery",
        "file", "size", "pieces", "SBX", "carving"
    );
    for f in &r.files {
        let carving = if !f.carved_found {
            "header not found".to_string()
        } else if f.carved_identical {
            "intact".to_string()
        } else {
            format!("first {} bytes right, then wrong", f.carved_correct_prefix)
        };
        let sbx = if f.sbx_recovered_identical {
            "bit-exact, hash verified"
        } else {
            "NOT recovered"
        };
        println!(
            "{:<width$} {:>9} {:>6} {:>6}  {carving:<36} {sbx}",
            f.name, f.size, f.original_fragments, f.sbx_fragments
        );
    }
    println!();
    println!("{}", r.summary());
    println!(
        "Originals, carved and recovered files are in originals/, carved/ and recovered/; \
         `seqbox gui {}` shows where the blocks are.",
        r.stages
            .last()
            .map(|s| s.catalog.display().to_string())
            .unwrap_or_default()
    );
}
