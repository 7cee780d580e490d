//! `seqbox import` of databases made by the original SBXScan (`sbxscan.py` 1.0.1), through the
//! real binary: a scrambled image built here by the recipe below, the databases the original
//! made of it (tests/data/sbxscan/, see its README: once with `-sv 1`, once with `-sv 2`),
//! imported and recovered bit-exact; a block changed after the scan dropped and reported and
//! recovery saying exactly what is missing; `--base`; a missing source; a file that is not
//! such a database; importing twice; and the map of what was imported.

mod common;
mod gui_support;

use common::*;
use seqbox::engine::catalog::{Catalog, SECTOR, SectorClass};
use seqbox::engine::encode::{EncodeOpts, Target};
use seqbox::engine::{CancelFlag, encode, layout};
use seqbox::format::Version;
use seqbox::format::block::parse_uid;
use serde_json::Value;
use std::path::Path;

const PHOTO_UID: u64 = 0x0000_0a00_0001;
const NOTES_UID: u64 = 0x0000_0b00_0002;

/// What the image holds in each 512-byte slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    /// Block `n` of the v1 container (photo.jpg).
    V1(usize),
    /// Blocks `4n..4n+4` of the v2 container (notes.txt), 128 bytes each.
    V2(usize),
    Noise(u64),
    Zero,
}

struct Image {
    bytes: Vec<u8>,
    slots: Vec<Slot>,
    photo: Vec<u8>,
    notes: Vec<u8>,
}

impl Image {
    /// Byte offsets of the slots holding v1 block `n`.
    fn v1_at(&self, n: usize) -> Vec<u64> {
        (0..self.slots.len())
            .filter(|&i| self.slots[i] == Slot::V1(n))
            .map(|i| i as u64 * 512)
            .collect()
    }
}

/// Encode `data` as `name` (fixed UID, times) and return the container's bytes.
fn container(dir: &Path, name: &str, data: &[u8], version: Version, uid: &str) -> Vec<u8> {
    let input = dir.join(name);
    std::fs::write(&input, data).unwrap();
    set_mtime(&input, VECTOR_MTIME);
    let out = dir.join(format!("{name}.sbx"));
    let opts = EncodeOpts {
        output: Target::File(out.clone()),
        version,
        uid: Some(parse_uid(uid).unwrap()),
        sbx_time: Some(1_700_000_000),
        ..EncodeOpts::new(&input)
    };
    encode::run(&opts, &CancelFlag::new(), &|_| {}).unwrap();
    let bytes = std::fs::read(&out).unwrap();
    std::fs::remove_file(out).unwrap();
    std::fs::remove_file(input).unwrap();
    bytes
}

/// The recipe of `scrambled.img` (tests/data/sbxscan/README.md): a v1 container of 20 000
/// bytes (42 blocks, block 5 twice) and a v2 container of 3 000 bytes (28 blocks of 128, four
/// to a slot) in shuffled 512-byte slots, between noise and zeros, after two zero slots.
fn scrambled(dir: &Path) -> Image {
    let photo = noise(20_000, 1);
    let notes = noise(3_000, 2);
    let v1 = container(dir, "photo.jpg", &photo, Version::V1, "00000a000001");
    let v2 = container(dir, "notes.txt", &notes, Version::V2, "00000b000002");
    assert_eq!((v1.len(), v2.len()), (42 * 512, 28 * 128));
    let mut items: Vec<Slot> = (0..42).map(Slot::V1).collect();
    items.push(Slot::V1(5));
    items.extend((0..7).map(Slot::V2));
    items.extend((0..8).map(Slot::Noise));
    items.extend([Slot::Zero; 6]);
    let mut x: u64 = 7;
    for i in (1..items.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        items.swap(i, (x % (i as u64 + 1)) as usize);
    }
    let mut slots = vec![Slot::Zero, Slot::Zero];
    slots.extend(items);
    let mut bytes = Vec::new();
    for s in &slots {
        match *s {
            Slot::V1(n) => bytes.extend_from_slice(&v1[n * 512..(n + 1) * 512]),
            Slot::V2(n) => bytes.extend_from_slice(&v2[n * 512..(n + 1) * 512]),
            Slot::Noise(k) => bytes.extend_from_slice(&noise(512, 100 + k)),
            Slot::Zero => bytes.extend_from_slice(&[0; 512]),
        }
    }
    Image {
        bytes,
        slots,
        photo,
        notes,
    }
}

/// The image and the original's two databases of it in `dir`, as its scans left them.
fn stage(dir: &Path) -> Image {
    let img = scrambled(dir);
    std::fs::write(dir.join("scrambled.img"), &img.bytes).unwrap();
    for db in ["v1.db3", "v2.db3"] {
        std::fs::copy(data(&format!("sbxscan/{db}")), dir.join(db)).unwrap();
    }
    img
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn import(d: &Path, args: &[&str]) -> (std::process::Output, Value) {
    let mut all = vec!["import", "--json"];
    all.extend_from_slice(args);
    let out = seqbox(&all, d, &[]);
    let doc = json(&out);
    (out, doc)
}

/// Run this to write the image the committed databases were made of (see the README).
#[test]
#[ignore]
fn write_fixture_image() {
    let dir = std::env::var("SBXSCAN_FIXTURE_DIR").expect("SBXSCAN_FIXTURE_DIR");
    let img = scrambled(Path::new(&dir));
    std::fs::write(Path::new(&dir).join("scrambled.img"), img.bytes).unwrap();
}

#[test]
fn the_recipe_builds_the_image_the_databases_were_made_of() {
    let dir = tempfile::tempdir().unwrap();
    let img = scrambled(dir.path());
    let want = std::fs::read_to_string(data("sbxscan/scrambled.img.sha256")).unwrap();
    assert_eq!(
        sha256_hex(&img.bytes),
        want.trim(),
        "the recipe no longer builds the image sbxscan.py scanned: make the databases again \
         (tests/data/sbxscan/README.md)"
    );
}

#[test]
fn an_import_of_the_originals_scans_recovers_every_file_bit_exact() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let img = stage(d);
    let (out, doc) = import(d, &["--catalog", "c.sqlite", "v1.db3", "v2.db3"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    let s = &doc["report"]["sources"][0];
    assert_eq!(doc["report"]["sources"].as_array().unwrap().len(), 1);
    assert_eq!(s["listed_as"], "scrambled.img");
    assert_eq!(s["path"], d.join("scrambled.img").to_str().unwrap());
    // 43 v1 blocks (block 5 twice) and 28 v2 blocks listed, all found as listed.
    assert_eq!(
        (s["listed"].as_u64(), s["blocks"].as_u64()),
        (Some(71), Some(71))
    );
    assert_eq!(
        (s["metadata_blocks"].as_u64(), s["dropped"].as_u64()),
        (Some(2), Some(0))
    );
    assert_eq!(doc["report"]["containers"], 2);
    let summary = doc["report"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("every block listed checked out"),
        "{summary}"
    );

    let out = seqbox(&["recover", "--catalog", "c.sqlite", "--out", "o"], d, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    assert_eq!(std::fs::read(d.join("o/photo.jpg")).unwrap(), img.photo);
    assert_eq!(std::fs::read(d.join("o/notes.txt")).unwrap(), img.notes);
    // Sources are opened read-only: the image and the databases are as they were.
    assert_eq!(std::fs::read(d.join("scrambled.img")).unwrap(), img.bytes);
    for db in ["v1.db3", "v2.db3"] {
        assert_eq!(
            sha256_file(&d.join(db)),
            sha256_file(&data(&format!("sbxscan/{db}")))
        );
    }
}

#[test]
fn a_block_changed_after_the_scan_is_dropped_and_recovery_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut img = stage(d);
    let at = img.v1_at(7);
    assert_eq!(at.len(), 1);
    img.bytes[at[0] as usize + 100] ^= 0xFF;
    std::fs::write(d.join("scrambled.img"), &img.bytes).unwrap();

    let (out, doc) = import(d, &["--catalog", "c.sqlite", "v1.db3", "v2.db3"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, d));
    let s = &doc["report"]["sources"][0];
    assert_eq!(
        (s["blocks"].as_u64(), s["dropped"].as_u64()),
        (Some(70), Some(1))
    );
    let b = &s["dropped_blocks"][0];
    assert_eq!(b["offset"].as_u64(), Some(at[0]));
    assert_eq!(
        (b["uid"].as_str(), b["seq"].as_u64()),
        (Some("00000a000001"), Some(7))
    );
    assert_eq!(b["why"], "bad_crc");

    // The text report names it too.
    let out = seqbox(
        &["import", "--catalog", "t.sqlite", "v1.db3", "v2.db3"],
        d,
        &[],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "dropped: block 7 of container 00000a000001 at byte {}",
            at[0]
        )) && text.contains("1 listed block did not check out"),
        "{text}"
    );

    let out = seqbox(
        &["recover", "--catalog", "c.sqlite", "--out", "o", "--json"],
        d,
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, d));
    let doc = json(&out);
    let results = doc["report"]["results"].as_array().unwrap();
    let photo = results
        .iter()
        .find(|r| r["file_name"] == "photo.jpg")
        .unwrap();
    assert_eq!(photo["missing_bytes"], 496);
    assert_eq!(photo["missing"][0]["byte_start"], 6 * 496);
    assert_eq!(photo["missing"][0]["byte_end"], 7 * 496);
    assert_eq!(std::fs::read(d.join("o/notes.txt")).unwrap(), img.notes);
}

#[test]
fn sources_are_found_beside_the_database_or_under_base() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let img = stage(d);
    std::fs::create_dir(d.join("db")).unwrap();
    std::fs::create_dir(d.join("disk")).unwrap();
    std::fs::rename(d.join("v1.db3"), d.join("db/v1.db3")).unwrap();
    std::fs::rename(d.join("scrambled.img"), d.join("disk/scrambled.img")).unwrap();

    // Beside the database (where the original writes it by default) there is no image.
    let (out, doc) = import(d, &["--catalog", "c.sqlite", "db/v1.db3"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, d));
    let err = doc["error"].as_str().unwrap();
    assert!(
        err.contains("the source scrambled.img listed in db/v1.db3")
            && err.contains(d.join("db/scrambled.img").to_str().unwrap())
            && err.contains("--base"),
        "{err}"
    );
    assert!(!d.join("c.sqlite").exists(), "nothing written on error");

    let (out, doc) = import(d, &["--catalog", "c.sqlite", "--base", "disk", "db/v1.db3"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    let s = &doc["report"]["sources"][0];
    assert_eq!(s["path"], d.join("disk/scrambled.img").to_str().unwrap());
    assert_eq!(s["blocks"], 43);
    let out = seqbox(&["recover", "--catalog", "c.sqlite", "--out", "o"], d, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    assert_eq!(std::fs::read(d.join("o/photo.jpg")).unwrap(), img.photo);
}

#[test]
fn a_file_that_is_not_an_sbxscan_database_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    stage(d);
    std::fs::write(d.join("notes.db3"), b"just some text, not SQLite at all").unwrap();
    let (out, doc) = import(d, &["--catalog", "c.sqlite", "notes.db3"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, d));
    let err = doc["error"].as_str().unwrap();
    assert!(
        err.contains("notes.db3 is not a database made by the original SBXScan"),
        "{err}"
    );
    assert!(!d.join("c.sqlite").exists());

    // Our own catalogue is not one either, and the error says what to do with it.
    let (out, _) = import(d, &["--catalog", "ours.sqlite", "v1.db3"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    let (out, doc) = import(d, &["--catalog", "c.sqlite", "ours.sqlite"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, d));
    let err = doc["error"].as_str().unwrap();
    assert!(err.contains("is a SeqBox Studio catalogue"), "{err}");

    // A database of the original's that lists no source.
    let c = rusqlite::Connection::open(d.join("empty.db3")).unwrap();
    c.execute_batch(
        "CREATE TABLE sbx_source (id INTEGER, name TEXT);
         CREATE TABLE sbx_meta (uid INTEGER, size INTEGER, name TEXT, sbxname TEXT,
             datetime INTEGER, sbxdatetime INTEGER, fileid INTEGER);
         CREATE TABLE sbx_uids (uid INTEGER, ver INTEGER);
         CREATE TABLE sbx_blocks (uid INTEGER, num INTEGER, fileid INTEGER, pos INTEGER);",
    )
    .unwrap();
    drop(c);
    let (out, doc) = import(d, &["--catalog", "c.sqlite", "empty.db3"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, d));
    assert!(doc["error"].as_str().unwrap().contains("lists no source"));
    assert!(!d.join("c.sqlite").exists());

    // Importing into the database itself would write to it.
    let before = sha256_file(&d.join("v1.db3"));
    let (out, _) = import(d, &["--catalog", "v1.db3", "v1.db3"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, d));
    assert_eq!(sha256_file(&d.join("v1.db3")), before);
}

#[test]
fn importing_again_replaces_the_earlier_import_and_counts_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    stage(d);
    let (out, _) = import(d, &["--catalog", "c.sqlite", "v1.db3", "v2.db3"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    let first = seqbox(&["catalog", "--json", "c.sqlite"], d, &[]);
    let (out, doc) = import(d, &["--catalog", "c.sqlite", "v1.db3", "v2.db3"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    let notes = doc["report"]["sources"][0]["notes"].to_string();
    assert!(notes.contains("that import is replaced"), "{notes}");
    let again = seqbox(&["catalog", "--json", "c.sqlite"], d, &[]);
    assert_eq!(
        json(&first)["report"]["containers"],
        json(&again)["report"]["containers"]
    );
    let photo = json(&again)["report"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["file_name"] == "photo.jpg")
        .cloned()
        .unwrap();
    assert_eq!(
        (photo["blocks_found"].as_u64(), photo["copies"].as_u64()),
        (Some(41), Some(43))
    );

    // A scan of ours then reads the whole image afresh: the import claimed nothing scanned.
    let out = seqbox(
        &["scan", "--json", "--catalog", "c.sqlite", "scrambled.img"],
        d,
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    let s = &json(&out)["report"]["sources"][0];
    assert_eq!(
        (s["started_at"].as_u64(), s["blocks"].as_u64()),
        (Some(0), Some(71))
    );
    // And an import after that scan leaves the scan's findings alone.
    let (out, doc) = import(d, &["--catalog", "c.sqlite", "v1.db3"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    assert_eq!(doc["report"]["sources"][0]["blocks"], 0);
}

#[test]
fn the_map_of_an_imported_catalogue_shows_the_containers_and_nothing_else_as_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let img = stage(d);
    let (out, _) = import(d, &["--catalog", "c.sqlite", "v1.db3", "v2.db3"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    let cat = Catalog::open_existing(&d.join("c.sqlite")).unwrap();
    let src = &cat.sources().unwrap()[0];
    assert!(!src.complete && src.scanned_to == src.scan_from, "{src:?}");
    let sectors = img.bytes.len() as u64 / SECTOR;
    let runs = cat.runs(src.id, 0, sectors).unwrap();
    // Each slot (one sector) is drawn as its container's block, or not at all.
    let mut drawn = vec![None; sectors as usize];
    for r in &runs {
        for s in r.start_sector..r.start_sector + r.sectors {
            drawn[s as usize] = Some((r.class, r.uid));
        }
    }
    for (i, slot) in img.slots.iter().enumerate() {
        let want = match *slot {
            Slot::V1(0) => Some((SectorClass::SbxMeta, Some(PHOTO_UID))),
            Slot::V1(_) => Some((SectorClass::SbxData, Some(PHOTO_UID))),
            // A sector of four v2 blocks takes the class of the last one starting in it.
            Slot::V2(_) => Some((SectorClass::SbxData, Some(NOTES_UID))),
            Slot::Noise(_) | Slot::Zero => None,
        };
        assert_eq!(drawn[i], want, "sector {i} ({slot:?})");
    }
    // The map's cells: the containers' sectors counted, the rest shown as not scanned.
    let map = cat.map_runs(src.id, 0, sectors).unwrap();
    let cells = layout::cells_of(&map, 0, sectors, sectors as usize);
    let blank = cells.iter().filter(|c| c.shown().is_none()).count();
    let others = img
        .slots
        .iter()
        .filter(|s| matches!(s, Slot::Noise(_) | Slot::Zero))
        .count();
    assert_eq!(blank, others);
    assert!(cells.iter().any(|c| c.uid == Some(PHOTO_UID)));
    assert!(cells.iter().any(|c| c.uid == Some(NOTES_UID)));
}

#[test]
fn rows_no_scan_writes_are_dropped_and_counted_never_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let img = stage(d);
    // The original's table has no types or keys: add what a damaged or hand-made one holds.
    let c = rusqlite::Connection::open(d.join("v1.db3")).unwrap();
    c.execute_batch(
        "INSERT INTO sbx_blocks VALUES (167772161, 3, 1, -512);
         INSERT INTO sbx_blocks VALUES (167772161, 3, 1, 'here');
         INSERT INTO sbx_blocks VALUES (281474976710656, 3, 1, 0);
         INSERT INTO sbx_blocks VALUES (167772161, 4294967296, 1, 0);
         INSERT INTO sbx_blocks VALUES (167772161, 3, 1, 99999999);
         INSERT INTO sbx_blocks VALUES (167772161, 3, 1, 0);
         INSERT INTO sbx_blocks VALUES (167772161, 3, 7, 512);",
    )
    .unwrap();
    drop(c);
    let (out, doc) = import(d, &["--catalog", "c.sqlite", "v1.db3"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, d));
    let r = &doc["report"];
    assert_eq!(r["unplaced"], 1, "the row of source 7, which is not listed");
    let s = &r["sources"][0];
    assert_eq!(
        (s["blocks"].as_u64(), s["dropped"].as_u64()),
        (Some(43), Some(6))
    );
    let why: Vec<(i64, String)> = s["dropped_blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["offset"].as_i64().unwrap(),
                b["why"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(i64, &str)> = vec![
        (-1, "impossible"),
        (-512, "impossible"),
        (0, "impossible"),
        (0, "impossible"),
        (0, "not_sbx"),
        (99_999_999, "past_end"),
    ];
    let mut got: Vec<(i64, &str)> = why.iter().map(|(o, w)| (*o, w.as_str())).collect();
    got.sort();
    let mut want = want;
    want.sort();
    assert_eq!(got, want);
    let out = seqbox(&["recover", "--catalog", "c.sqlite", "--out", "o"], d, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    assert_eq!(std::fs::read(d.join("o/photo.jpg")).unwrap(), img.photo);
}

#[test]
fn blocks_the_original_found_with_a_password_are_imported_with_it() {
    // pw.db3: `sbxscan.py -p ab pw.img -d pw.db3`, pw.img = 1 KiB of zeros, the vector
    // b497.v1.pw-ab.sbx (three blocks XORed with the password's keystream), 512 bytes 0x55.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut img = vec![0u8; 1024];
    img.extend(std::fs::read(data("seqbox/b497.v1.pw-ab.sbx")).unwrap());
    img.extend([0x55; 512]);
    std::fs::write(d.join("pw.img"), &img).unwrap();
    std::fs::copy(data("sbxscan/pw.db3"), d.join("pw.db3")).unwrap();

    // Without the password nothing at those offsets reads as the listed blocks.
    let (out, doc) = import(d, &["--catalog", "no.sqlite", "pw.db3"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, d));
    let s = &doc["report"]["sources"][0];
    assert_eq!(
        (s["blocks"].as_u64(), s["dropped"].as_u64()),
        (Some(0), Some(3))
    );
    assert_eq!(s["dropped_blocks"][0]["why"], "not_sbx");

    let (out, doc) = import(d, &["--catalog", "c.sqlite", "--password", "ab", "pw.db3"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    let s = &doc["report"]["sources"][0];
    assert_eq!(
        (s["blocks"].as_u64(), s["metadata_blocks"].as_u64()),
        (Some(3), Some(1))
    );
    let out = seqbox(
        &[
            "recover",
            "--catalog",
            "c.sqlite",
            "--out",
            "o",
            "--password",
            "ab",
        ],
        d,
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    assert_eq!(
        std::fs::read(d.join("o/b497.bin")).unwrap(),
        std::fs::read(data("seqbox/b497.bin")).unwrap()
    );
}

#[test]
fn the_apps_map_of_an_imported_catalogue_names_the_containers_and_says_the_rest_was_not_scanned() {
    use egui_kittest::kittest::Queryable;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    stage(d);
    let (out, _) = import(d, &["--catalog", "c.sqlite", "v1.db3", "v2.db3"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    let catalog = d.join("c.sqlite");
    let mut h = egui_kittest::Harness::builder()
        .with_max_steps(16)
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |cc| {
            let mut app = seqbox::gui::App::with_settings(
                cc,
                Box::new(gui_support::Scripted::default()),
                Default::default(),
                None,
            );
            app.open_catalog(&cc.egui_ctx, catalog);
            app
        });
    gui_support::wait_up_to(&mut h, std::time::Duration::from_secs(60));
    h.get_by_label("Map of scrambled.img");
    h.get_by_label("photo.jpg");
    h.get_by_label("notes.txt");
    h.get_by_label_contains("only the blocks imported from an SBXScan list");
    // 8 noise and 8 zero slots were never read: 16 sectors of 512 bytes.
    h.get_by_label("not scanned: 8.0 KiB");
}
