//! Catalogue open of arbitrary SQLite files: open, list sources, containers, metadata,
//! copies, block runs and layout runs (and the block map's cells), then recover everything.
//!
//! An input that starts with SQLite's magic is the catalogue file itself (seeded with real
//! catalogues, fuzz/seeds.sh). Any other input is a list of edits to a real catalogue built
//! at start-up — set a column of a row to an integer or to bytes, delete a row — so that
//! mutations reach the values (counts, offsets, sequence numbers, payloads) instead of
//! breaking SQLite's page format. The catalogues' sources live at a fixed path the target
//! recreates, so recovery still reads real blocks.
//!
//! Invariants: never a panic, a hang or an unbounded allocation; verified means the hash
//! holds; no temporary file is left behind.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rusqlite::{Connection, params};
use seqbox::engine::catalog::Catalog;
use seqbox::engine::layout;
use seqbox::engine::recover::{self, RecoverOpts, Selection};
use seqbox::format::block::parse_uid;
use seqbox_fuzz::{
    Input, assert_hash_holds, assert_no_temp_files, assert_only_outputs, catalog_sources,
    fresh_dir, never, put, quiet, remove_db, scratch,
};
use std::path::Path;
use std::sync::OnceLock;

const MAGIC: &[u8] = b"SQLite format 3\0";

/// Each table with its primary key and the columns an edit may change.
const TABLES: [(&str, &str, &[&str]); 4] = [
    (
        "source",
        "id",
        &[
            "path",
            "size",
            "identity",
            "scan_from",
            "scanned_to",
            "scan_end",
            "complete",
        ],
    ),
    (
        "block_run",
        "source_id, offset",
        &[
            "source_id",
            "offset",
            "end_offset",
            "count",
            "version",
            "uid",
            "slot",
            "data",
            "parity",
            "burst",
            "password",
        ],
    ),
    (
        "metadata",
        "source_id, offset",
        &[
            "source_id",
            "offset",
            "uid",
            "version",
            "payload",
            "file_name",
            "sbx_name",
            "file_size",
            "file_time",
            "sbx_time",
            "rs_data",
            "rs_parity",
            "burst",
        ],
    ),
    (
        "layout_run",
        "source_id, start_sector",
        &["source_id", "start_sector", "sectors", "class", "uid"],
    ),
];

fuzz_target!(init: seqbox_fuzz::seeds::write_if_asked("catalog_open"), |data: &[u8]| {
    catalog_sources::ensure();
    let path = scratch().join("catalog.sqlite");
    remove_db(&path);
    if data.starts_with(MAGIC) {
        put("catalog.sqlite", data);
    } else {
        put("catalog.sqlite", base());
        edit(&path, data);
    }
    seqbox_fuzz::save_if_asked(&path);
    read_everything(&path);
    recover_everything(&path);
});

/// A real catalogue: every catalogue source scanned.
fn base() -> &'static [u8] {
    static BASE: OnceLock<Vec<u8>> = OnceLock::new();
    BASE.get_or_init(|| seqbox_fuzz::seeds::catalogue_of_all_sources(&scratch().join("base")))
}

/// Apply the edits the input describes: (op, table, row, column) then a value. Ops (mod 4):
/// 0 set an 8-byte integer, 1 set a small integer, 2 set bytes (length byte first), 3 delete.
fn edit(path: &Path, data: &[u8]) {
    let conn = Connection::open(path).expect("the base catalogue");
    let mut input = Input::new(data);
    while !input.is_empty() {
        let (op, t, row, col) = (input.u8(), input.u8(), input.u8(), input.u8());
        let (table, pk, cols) = TABLES[usize::from(t) % TABLES.len()];
        let col = cols[usize::from(col) % cols.len()];
        let pick = format!("({pk}) = (SELECT {pk} FROM {table} ORDER BY {pk} LIMIT 1 OFFSET ?2)");
        let row = i64::from(row);
        // Constraint violations and type mismatches are fine: the edit just does not apply.
        let _ = match op % 4 {
            0 => {
                let v = i64::from_le_bytes(std::array::from_fn(|_| input.u8()));
                conn.execute(
                    &format!("UPDATE {table} SET {col} = ?1 WHERE {pick}"),
                    params![v, row],
                )
            }
            1 => {
                // Small values: -128..=127, the interesting edges of counts and steps.
                let v = i64::from(input.u8() as i8);
                conn.execute(
                    &format!("UPDATE {table} SET {col} = ?1 WHERE {pick}"),
                    params![v, row],
                )
            }
            2 => {
                let n = usize::from(input.u8());
                let bytes = input.take(n).to_vec();
                if col == "path" {
                    // Keep source paths inside the sources folder: a catalogue naming a FIFO
                    // or a terminal would block the fuzzer, not test the engine.
                    let name = String::from_utf8_lossy(&bytes).replace('/', "_");
                    let p = catalog_sources::dir().join(name);
                    conn.execute(
                        &format!("UPDATE {table} SET {col} = ?1 WHERE {pick}"),
                        params![p.to_string_lossy(), row],
                    )
                } else {
                    conn.execute(
                        &format!("UPDATE {table} SET {col} = ?1 WHERE {pick}"),
                        params![bytes, row],
                    )
                }
            }
            _ => conn.execute(&format!("DELETE FROM {table} WHERE {pick}"), params![row]),
        };
    }
}

/// Every query the app and the CLI make on a catalogue.
fn read_everything(path: &Path) {
    let Ok(cat) = Catalog::open_existing(path) else {
        return;
    };
    if let Ok(sources) = cat.sources() {
        for s in sources.iter().take(8) {
            let end = s.size.div_ceil(512).min(1 << 40);
            if let Ok(runs) = cat.runs(s.id, 0, end) {
                let _ = layout::cells(&runs, 0, end, 64);
            }
            let _ = cat.blocks_between(s.id, 0, s.size, 64);
        }
    }
    if let Ok(containers) = cat.containers() {
        for c in containers.iter().take(8) {
            let Ok(uid) = parse_uid(&c.uid) else { continue };
            let _ = cat.metadata_of(uid, c.version);
            let _ = cat.copies_of(uid, c.version);
        }
    }
}

fn recover_everything(path: &Path) {
    let out = fresh_dir("recovered");
    let opts = RecoverOpts {
        catalog: path.to_path_buf(),
        out_dir: out.clone(),
        select: Selection::All,
        partial: true,
        password: Some("fuzz".into()),
    };
    let Ok(r) = recover::run(&opts, &never(), &quiet) else {
        assert_no_temp_files("recover (failed)", &out);
        return;
    };
    let mut written = Vec::new();
    for c in &r.results {
        if let Some(p) = &c.output {
            assert_hash_holds(&format!("recover of {}", c.uid), &c.assembly.hash, p);
            written.push(p.clone());
        }
    }
    assert_only_outputs("recover", &out, &written);
}
