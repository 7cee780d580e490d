//! Which source is which: two different images are never merged, a moved image resumes its
//! interrupted scan, an image changed since its scan (or while it was scanned) is scanned
//! again and reported, paths that are not UTF-8 survive the catalogue, and a catalogue of
//! schema version 1 still opens and recovers.

mod common;

use common::scenario::*;
use common::*;
use seqbox::engine::catalog::{Catalog, SectorClass};
use seqbox::engine::{CancelFlag, Error, scan};
use seqbox::format::Version;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

const MIB: usize = 1 << 20;

/// An image of `len` bytes: `head` at the start, zeros at the end (the last MiB), `fill`
/// noise between, and `sbx` at `at`.
fn image(len: usize, head: &[u8], fill_seed: u64, sbx: &[u8], at: usize) -> Vec<u8> {
    let mut img = noise(len, fill_seed);
    img[..head.len()].copy_from_slice(head);
    img[len - MIB..].fill(0);
    img[at..at + sbx.len()].copy_from_slice(sbx);
    img
}

#[test]
fn two_images_that_agree_at_both_ends_are_two_sources_and_both_containers_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (x, xs) = noise_container(d, "x.bin", 100_000, Version::V1, "a0a0");
    let (y, ys) = noise_container(d, "y.bin", 150_000, Version::V17, "b0b0");
    // Two dumps of same-model disks: the same partition table in the first MiB, a zeroed
    // last MiB, the same size; different containers in between.
    let head = noise(MIB, 1);
    let a = image(4 * MIB, &head, 2, &xs, MIB + 4096 + 77);
    let b = image(4 * MIB, &head, 3, &ys, MIB + 300_000 + 5);
    let (pa, pb) = (d.join("a.img"), d.join("b.img"));
    std::fs::write(&pa, &a).unwrap();
    std::fs::write(&pb, &b).unwrap();

    // One scan of both, then a catalogue filled by two scans one after the other.
    let both = d.join("both.sqlite");
    let r = scan_into(&both, &[pa.clone(), pb.clone()]);
    assert_eq!(r.containers, 2, "{r:#?}");
    assert!(
        r.sources
            .iter()
            .all(|s| !s.resumed && s.scanned_to == 4 * MIB as u64),
        "{r:#?}"
    );
    let cat = Catalog::open_existing(&both).unwrap();
    let paths: Vec<PathBuf> = cat.sources().unwrap().into_iter().map(|s| s.path).collect();
    assert_eq!(paths, vec![pa.clone(), pb.clone()]);
    let out = recover_all(&both, &d.join("out"), None);
    assert!(out.success(), "{out:#?}");
    assert!(recovered(&out, "x.bin") == x && recovered(&out, "y.bin") == y);

    let apart = d.join("apart.sqlite");
    scan_into(&apart, std::slice::from_ref(&pa));
    let second = scan_into(&apart, std::slice::from_ref(&pb));
    assert!(!second.sources[0].resumed, "{second:#?}");
    assert_eq!(second.sources[0].blocks, r.sources[1].blocks);
    assert!(second.sources[0].blocks > 100);
    assert_eq!(second.containers, 2);

    // The same through the binary.
    for img in ["a.img", "b.img"] {
        let o = seqbox(&["scan", "--catalog", "cli.sqlite", img], d, &[]);
        assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    }
    let o = seqbox(
        &["recover", "--catalog", "cli.sqlite", "--out", "cli-out"],
        d,
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    assert!(std::fs::read(d.join("cli-out/x.bin")).unwrap() == x);
    assert!(std::fs::read(d.join("cli-out/y.bin")).unwrap() == y);
}

/// Scan `p` into `cat` and cancel once the first piece is committed; returns how far it got.
fn cancelled_scan(cat: &Path, p: &Path) -> u64 {
    let cancel = CancelFlag::new();
    let opts = scan_opts(cat, &[p.to_path_buf()]);
    let r = scan::run(&opts, &cancel, &|pr| {
        if pr.bytes_done > 0 {
            cancel.cancel();
        }
    });
    assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
    Catalog::open_existing(cat).unwrap().sources().unwrap()[0].scanned_to
}

#[test]
fn a_moved_image_resumes_its_interrupted_scan_and_ends_like_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (data, sbx) = noise_container(d, "big.bin", 5 << 20, Version::V17, "bb17");
    let mut img = noise((9 << 20) + 333, 9);
    img.extend_from_slice(&sbx);
    img.extend_from_slice(&vec![0; 3 << 20]);
    let old = d.join("disk.img");
    std::fs::write(&old, &img).unwrap();
    let cat = d.join("c.sqlite");
    let done = cancelled_scan(&cat, &old);
    assert!(done > 0 && done < img.len() as u64, "{done}");

    let new = d.join("renamed.img");
    std::fs::rename(&old, &new).unwrap();
    let r = scan_into(&cat, std::slice::from_ref(&new));
    let s = &r.sources[0];
    assert!(s.resumed && !s.changed_since_last_scan, "{s:#?}");
    assert_eq!(s.started_at, done);
    assert_eq!(s.moved_from.as_deref(), Some(old.as_path()));
    let full = d.join("full.sqlite");
    scan_into(&full, std::slice::from_ref(&new));
    assert_eq!(catalog_state(&cat), catalog_state(&full));
    let out = recover_all(&cat, &d.join("out"), None);
    assert!(recovered(&out, "big.bin") == data);

    // A copy beside it is another file: scanned as a source of its own, never merged.
    let copy = d.join("copy.img");
    std::fs::copy(&new, &copy).unwrap();
    let r = scan_into(&cat, std::slice::from_ref(&copy));
    assert!(!r.sources[0].resumed && r.sources[0].moved_from.is_none());
    assert_eq!(
        Catalog::open_existing(&cat)
            .unwrap()
            .sources()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn an_image_changed_since_its_scan_is_scanned_again_and_its_old_rows_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (_, xs) = noise_container(d, "x.bin", 100_000, Version::V1, "a1a1");
    let (y, ys) = noise_container(d, "y.bin", 90_000, Version::V3, "b3b3");
    let head = noise(MIB, 4);
    let p = d.join("disk.img");
    std::fs::write(&p, image(4 * MIB, &head, 5, &xs, MIB + 1000)).unwrap();
    let cat = d.join("c.sqlite");
    let first = scan_into(&cat, std::slice::from_ref(&p));
    assert_eq!(first.containers, 1);

    // Scanning it again unchanged does nothing new.
    let again = scan_into(&cat, std::slice::from_ref(&p));
    let s = &again.sources[0];
    assert!(
        !s.changed_since_last_scan && s.resumed && s.blocks == 0,
        "{s:#?}"
    );
    // …and says so (issue 12, item 8).
    assert!(s.already_scanned, "{s:#?}");
    assert!(
        s.notes
            .iter()
            .any(|n| n.starts_with("already scanned completely")),
        "{s:#?}"
    );
    assert!(!first.sources[0].already_scanned);

    // Same path, same size, same first and last MiB; another container in the middle.
    // (The pause lets the file system's clock move on, as it would between two dumps.)
    std::thread::sleep(std::time::Duration::from_millis(50));
    std::fs::write(&p, image(4 * MIB, &head, 5, &ys, 2 * MIB + 7)).unwrap();
    let r = scan_into(&cat, std::slice::from_ref(&p));
    let s = &r.sources[0];
    assert!(s.changed_since_last_scan && !s.resumed, "{s:#?}");
    assert!(!s.notes.is_empty(), "{s:#?}");
    assert_eq!(r.containers, 1, "the old container's rows are gone: {r:#?}");
    let cat_rows = Catalog::open_existing(&cat).unwrap();
    assert_eq!(cat_rows.sources().unwrap().len(), 1);
    assert_eq!(cat_rows.containers().unwrap()[0].uid, "00000000b3b3");
    let out = recover_all(&cat, &d.join("out"), None);
    assert_eq!(out.results.len(), 1);
    assert!(recovered(&out, "y.bin") == y);
}

/// Scan `p` into `cat`, calling `during` once, after the first piece is scanned.
fn scan_with(cat: &Path, p: &Path, during: impl Fn() + Sync) -> scan::ScanReport {
    let once = AtomicBool::new(false);
    scan::run(
        &scan_opts(cat, &[p.to_path_buf()]),
        &CancelFlag::new(),
        &|pr| {
            if pr.bytes_done > 0 && !once.swap(true, Ordering::SeqCst) {
                during();
            }
        },
    )
    .unwrap()
}

#[test]
fn an_image_that_grows_or_changes_during_its_scan_is_reported_and_scanned_again() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (x, xs) = noise_container(d, "x.bin", 200_000, Version::V1, "c1c1");
    let (y, ys) = noise_container(d, "y.bin", 50_000, Version::V1, "c2c2");
    let p = d.join("growing.img");
    let mut img = noise(3 * MIB, 6);
    img[MIB + 99..MIB + 99 + xs.len()].copy_from_slice(&xs);
    std::fs::write(&p, &img).unwrap();
    let cat = d.join("c.sqlite");
    let r = scan_with(&cat, &p, || {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(&ys).unwrap();
    });
    let s = &r.sources[0];
    assert!(s.changed_during_scan, "{s:#?}");
    assert!(
        s.notes.iter().any(|n| n.contains("changed while")),
        "{s:#?}"
    );
    assert_eq!((s.size, s.scanned_to), (3 * MIB as u64, 3 * MIB as u64));
    let row = &Catalog::open_existing(&cat).unwrap().sources().unwrap()[0];
    assert!(!row.complete && row.changed_during_scan, "{row:#?}");

    // The next scan starts over and sees the whole, now quiet, image.
    let r = scan_into(&cat, std::slice::from_ref(&p));
    let s = &r.sources[0];
    assert!(
        !s.resumed && !s.changed_during_scan && s.changed_since_last_scan,
        "{s:#?}"
    );
    assert_eq!(s.scanned_to, (3 * MIB + ys.len()) as u64);
    assert!(Catalog::open_existing(&cat).unwrap().sources().unwrap()[0].complete);
    let out = recover_all(&cat, &d.join("out"), None);
    assert!(recovered(&out, "x.bin") == x && recovered(&out, "y.bin") == y);

    // Bytes rewritten in place (same size) while the scan runs are noticed too.
    let q = d.join("rewritten.img");
    std::fs::write(&q, &img).unwrap();
    let r = scan_with(&d.join("c2.sqlite"), &q, || {
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new().write(true).open(&q).unwrap();
        f.write_all_at(&noise(4096, 77), 0).unwrap();
    });
    assert!(r.sources[0].changed_during_scan, "{:#?}", r.sources[0]);
}

#[cfg(unix)]
#[test]
fn an_image_whose_path_is_not_utf8_is_scanned_reopened_and_recovered() {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (x, xs) = noise_container(d, "x.bin", 30_000, Version::V1, "d1d1");
    let mut img = noise(100_000, 8);
    img.extend_from_slice(&xs);
    let folder = d.join(OsString::from_vec(b"disks-\xff\xfe".to_vec()));
    std::fs::create_dir(&folder).unwrap();
    let p = folder.join(OsString::from_vec(b"caf\xe9.img".to_vec()));
    std::fs::write(&p, &img).unwrap();

    let cat = d.join("c.sqlite");
    scan_into(&cat, std::slice::from_ref(&p));
    let c = Catalog::open_existing(&cat).unwrap();
    assert_eq!(
        c.sources().unwrap()[0].path,
        p,
        "the path is kept byte for byte"
    );
    let out = recover_all(&cat, &d.join("out"), None);
    assert!(recovered(&out, "x.bin") == x);
    // A second scan finds the same source by its path.
    assert!(scan_into(&cat, std::slice::from_ref(&p)).sources[0].resumed);

    // Through the binary, with --json (paths that are not UTF-8 are shown with escapes).
    let run = |args: Vec<OsString>| {
        std::process::Command::new(env!("CARGO_BIN_EXE_seqbox"))
            .args(args)
            .current_dir(d)
            .output()
            .unwrap()
    };
    let o = run(vec![
        "scan".into(),
        "--catalog".into(),
        "cli.sqlite".into(),
        "--json".into(),
        p.clone().into(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let shown = doc["report"]["sources"][0]["path"].as_str().unwrap();
    assert!(shown.ends_with("caf\\xe9.img"), "{shown}");
    let o = run(vec!["catalog".into(), "cli.sqlite".into(), "--json".into()]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    let o = run(vec![
        "recover".into(),
        "--catalog".into(),
        "cli.sqlite".into(),
        "--out".into(),
        "cli-out".into(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    assert!(std::fs::read(d.join("cli-out/x.bin")).unwrap() == x);
}

/// The schema of version 1 catalogues, as the program that wrote them created it.
const SCHEMA_V1: &str = "
CREATE TABLE source (
    id          INTEGER PRIMARY KEY,
    path        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    identity    TEXT NOT NULL UNIQUE,
    scan_from   INTEGER NOT NULL DEFAULT 0,
    scanned_to  INTEGER NOT NULL DEFAULT 0,
    scan_end    INTEGER NOT NULL DEFAULT 0,
    complete    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE block_run (
    source_id   INTEGER NOT NULL REFERENCES source(id),
    offset      INTEGER NOT NULL,
    end_offset  INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    uid         INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    seq_step    INTEGER NOT NULL,
    password    INTEGER NOT NULL,
    PRIMARY KEY (source_id, offset)
) WITHOUT ROWID;
CREATE INDEX block_run_by_container ON block_run (uid, version, seq);
CREATE TABLE metadata (
    source_id   INTEGER NOT NULL REFERENCES source(id),
    offset      INTEGER NOT NULL,
    uid         INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    payload     BLOB NOT NULL,
    file_name   TEXT,
    sbx_name    TEXT,
    file_size   INTEGER,
    file_time   INTEGER,
    sbx_time    INTEGER,
    rs_data     INTEGER,
    rs_parity   INTEGER,
    burst       INTEGER,
    PRIMARY KEY (source_id, offset)
) WITHOUT ROWID;
CREATE INDEX metadata_by_container ON metadata (uid, version);
CREATE TABLE layout_run (
    source_id    INTEGER NOT NULL REFERENCES source(id),
    start_sector INTEGER NOT NULL,
    sectors      INTEGER NOT NULL,
    class        INTEGER NOT NULL,
    uid          INTEGER,
    PRIMARY KEY (source_id, start_sector)
) WITHOUT ROWID;
PRAGMA user_version = 1;
";

#[test]
fn a_version_1_catalogue_is_upgraded_on_open_and_still_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A v1 container of 20 blocks at byte 4096 of an image; the catalogue a version-1 scan
    // wrote for it: the metadata block alone, then blocks 1..=20 as one run.
    let (x, xs) = noise_container(d, "x.bin", 20 * 496, Version::V1, "e1e1");
    assert_eq!(xs.len(), 21 * 512);
    let mut img = vec![0u8; 4096];
    img.extend_from_slice(&xs);
    img.extend_from_slice(&[0u8; 4096]);
    let p = d.join("old.img");
    std::fs::write(&p, &img).unwrap();
    let cat = d.join("v1.sqlite");
    {
        let c = rusqlite::Connection::open(&cat).unwrap();
        c.execute_batch(SCHEMA_V1).unwrap();
        let n = img.len() as i64;
        c.execute(
            "INSERT INTO source VALUES (1, ?1, ?2, ?3, 0, ?2, ?2, 1)",
            rusqlite::params![p.to_str().unwrap(), n, format!("{n}:00112233")],
        )
        .unwrap();
        let uid = 0xe1e1i64;
        c.execute(
            "INSERT INTO block_run VALUES (1, 4096, 4608, 1, 1, ?1, 0, 1, 0), (1, 4608, 14848, 20, 1, ?1, 1, 1, 0)",
            [uid],
        )
        .unwrap();
        c.execute(
            "INSERT INTO metadata (source_id, offset, uid, version, payload, file_name, file_size)
             VALUES (1, 4096, ?1, 1, ?2, 'x.bin', ?3)",
            rusqlite::params![uid, &xs[16..512], x.len() as i64],
        )
        .unwrap();
        c.execute(
            "INSERT INTO layout_run VALUES (1, 0, 8, 0, NULL), (1, 8, 1, 2, ?1), (1, 9, 20, 3, ?1), (1, 29, 8, 0, NULL)",
            [uid],
        )
        .unwrap();
    }

    let c = Catalog::open_existing(&cat).unwrap();
    let sources = c.sources().unwrap();
    assert_eq!(
        (sources[0].path.as_path(), sources[0].complete),
        (p.as_path(), true)
    );
    let rows = c.containers().unwrap();
    assert_eq!((rows.len(), rows[0].blocks_found), (1, 20));
    assert_eq!(
        merged(&c.runs(1, 0, u64::MAX).unwrap())[1],
        (8, 1, SectorClass::SbxMeta, Some(0xe1e1))
    );
    drop(c);
    let v: i64 = rusqlite::Connection::open(&cat)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, seqbox::engine::catalog::SCHEMA_VERSION);
    let out = recover_all(&cat, &d.join("out"), None);
    assert!(out.success() && recovered(&out, "x.bin") == x, "{out:#?}");

    // Scanning the image again: a version-1 row cannot tell whether its image changed, so
    // it is scanned afresh, and says so; the result is the same container, once.
    let r = scan_into(&cat, std::slice::from_ref(&p));
    let s = &r.sources[0];
    assert!(
        !s.resumed && s.blocks == 21 && !s.notes.is_empty(),
        "{s:#?}"
    );
    let c = Catalog::open_existing(&cat).unwrap();
    assert_eq!(
        (
            c.sources().unwrap().len(),
            c.containers().unwrap()[0].copies
        ),
        (1, 21)
    );
}
