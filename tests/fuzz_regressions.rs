//! Inputs the fuzz targets (fuzz/, see fuzz/README.md) found, each run through the same code
//! path as its target and held to the clean outcome it must have now: a typed error or a
//! report that says what happened — never a panic, a hang or unbounded memory.
//!
//! The inputs live in tests/data/fuzz/TARGET/ (tests/data/fuzz/README.md says where each
//! came from). Jobs that once hung run on a watchdog thread, so a regression fails the test
//! instead of stalling the suite.

mod common;

use seqbox::engine::catalog::Catalog;
use seqbox::engine::check::{self, CheckOpts};
use seqbox::engine::decode::{self, DecodeOpts};
use seqbox::engine::encode::Target;
use seqbox::engine::recover::{self, RecoverOpts, Selection};
use seqbox::engine::{CancelFlag, Error, info};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A copy of input `name` of `target` in `dir` (jobs may write beside their input).
fn input(dir: &Path, target: &str, name: &str) -> PathBuf {
    let to = dir.join(name);
    std::fs::copy(common::data(&format!("fuzz/{target}/{name}")), &to)
        .unwrap_or_else(|e| panic!("fuzz input {target}/{name}: {e}"));
    to
}

/// Run `job` on another thread and give its result, or fail when it takes longer than
/// `limit` (the thread is left to finish on its own: the test has failed by then).
fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    job: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    std::thread::spawn(move || {
        let _ = tx.send(job());
    });
    rx.recv_timeout(limit).unwrap_or_else(|_| {
        panic!(
            "{what}: still running after {:.1} s (a hang the fuzzer found)",
            started.elapsed().as_secs_f64()
        )
    })
}

fn quiet(_: seqbox::engine::Progress) {}

/// container_decode: 299 valid version-18 blocks with random payloads and no metadata.
/// Working out M and P from the parity tried every M from 2 to 255 by building a
/// Reed–Solomon codec (an M×M matrix inversion) each time: minutes per open under the fuzzer,
/// seconds in a release build, for a 38 KB file. Now each M costs O(M²) and the answer —
/// no M fits — comes at once, as the typed error that says so.
#[test]
fn rs_settings_of_a_container_without_metadata_are_worked_out_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let c = input(
        dir.path(),
        "container_decode",
        "v18-no-metadata-299-blocks.sbx",
    );
    let limit = Duration::from_secs(3);
    let expect = "version 18 container without metadata, and its first block set is too damaged to work out its Reed–Solomon settings";

    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let (p, o) = (c.clone(), out.clone());
    // Before the fix each of the three took seconds even in an optimised build.
    let (info, check, decode) = within(limit, "info + check + decode", move || {
        let mut d = DecodeOpts::new(&p);
        d.output = Target::Folder(o);
        (
            info::run(&p, None).map(|_| ()),
            check::run(&CheckOpts::new(&p), &CancelFlag::new(), &quiet).map(|_| ()),
            decode::run(&d, &CancelFlag::new(), &quiet).map(|_| ()),
        )
    });
    for (what, r) in [("info", info), ("check", check), ("decode", decode)] {
        let e = r.expect_err(what);
        assert!(
            matches!(&e, Error::Invalid(m) if m.contains(expect)),
            "{what}: {e}"
        );
    }
    assert_eq!(
        std::fs::read_dir(dir.path().join("out")).unwrap().count(),
        0
    );
}

/// catalog_open: a real catalogue whose first block run claims 2^40 blocks (the fuzz input
/// was the edit list block-run-count-2e40.edits; the .sqlite is the catalogue it made).
/// Listing the containers expanded the run block by block — a hang, and then all memory.
/// Now the catalogue is reported damaged, by every query that expands block runs and by
/// recovery, before anything is read.
#[test]
fn a_block_run_no_scan_writes_makes_the_catalogue_damaged_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let db = input(dir.path(), "catalog_open", "block-run-count-2e40.sqlite");
    let limit = Duration::from_secs(10);
    let damaged = |e: &Error| {
        matches!(e, Error::Invalid(m) if m.contains("is damaged: it lists 1099511627776 block(s) of version 1")
            && m.contains("scan the sources again"))
    };

    let p = db.clone();
    let (containers, copies, hover) = within(limit, "catalogue queries", move || {
        let cat = Catalog::open_existing(&p).unwrap();
        let uid = seqbox::format::block::parse_uid("5eed00000028").unwrap();
        (
            cat.containers().map(|c| c.len()),
            cat.copies_of(uid, seqbox::format::Version::V1)
                .map(|c| c.len()),
            cat.blocks_between(1, 0, 1 << 20, 64).map(|r| r.len()),
        )
    });
    for (what, r) in [
        ("containers", containers),
        ("copies_of", copies),
        ("blocks_between", hover),
    ] {
        let e = r.expect_err(what);
        assert!(damaged(&e), "{what}: {e}");
    }

    let (p, out) = (db.clone(), dir.path().join("out"));
    let e = within(limit, "recover", move || {
        let opts = RecoverOpts {
            catalog: p,
            out_dir: out,
            select: Selection::All,
            partial: true,
            password: None,
        };
        recover::run(&opts, &CancelFlag::new(), &quiet)
    })
    .unwrap_err();
    assert!(damaged(&e), "recover: {e}");
    assert_eq!(
        std::fs::read_dir(dir.path().join("out")).unwrap().count(),
        0
    );
}

/// catalog_open: a layout run whose length reads back as −1 sectors (u64::MAX). The block
/// map's aggregation added it to its start and overflowed — a panic on the map's worker.
/// Now the run counts up to the end of the range drawn, no further.
#[test]
fn a_layout_run_that_never_ends_is_drawn_to_the_end_of_the_map() {
    use seqbox::engine::catalog::{Run, SectorClass};
    let dir = tempfile::tempdir().unwrap();
    let db = input(
        dir.path(),
        "catalog_open",
        "layout-run-sectors-minus-1.sqlite",
    );
    let cat = Catalog::open_existing(&db).unwrap();
    let source = cat.sources().unwrap().remove(0);
    let end = source.size.div_ceil(512);
    let runs = cat.runs(source.id, 0, end).unwrap();
    let endless = Run {
        start_sector: 15,
        sectors: u64::MAX,
        class: SectorClass::SbxData,
        uid: Some(104_372_000_260_137),
    };
    assert!(runs.contains(&endless), "{runs:?}");
    let cells = seqbox::engine::layout::cells(&runs, 0, end, 64);
    assert_eq!(cells.len() as u64, end, "one sector per cell");
    for c in &cells[15..] {
        assert!(c.counts[SectorClass::SbxData as usize] >= 1, "{c:?}");
    }
}
