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

/// container_decode: metadata blocks (valid CRCs) whose file size is 2^64 − 1 — more blocks
/// than 32-bit sequence numbers count — in a v18 container with 1 + 255 shards and a v2 one.
/// Assembling multiplied the sets by the shards and the chunks by the payload: an overflow
/// panic (and wrapped sizes in a release build). Now check and decode say the metadata is
/// damaged.
#[test]
fn a_stored_size_no_container_can_hold_is_damaged_metadata() {
    let dir = tempfile::tempdir().unwrap();
    for (name, what) in [
        (
            "fsz-too-big-v18-1-255.sbx",
            "a version 18 container with 1 + 255 shards",
        ),
        ("fsz-too-big-v2.sbx", "a version 2 container"),
    ] {
        let c = input(dir.path(), "container_decode", name);
        let expect = format!(
            "the metadata block says the file has 18446744073709551615 bytes, more than {what} can hold: the metadata is damaged"
        );
        let e = check::run(&CheckOpts::new(&c), &CancelFlag::new(), &quiet).unwrap_err();
        assert!(
            matches!(&e, Error::Invalid(m) if *m == expect),
            "check {name}: {e}"
        );
        let out = dir.path().join(format!("{name}.out"));
        std::fs::create_dir(&out).unwrap();
        let mut o = DecodeOpts::new(&c);
        o.output = Target::Folder(out.clone());
        let e = decode::run(&o, &CancelFlag::new(), &quiet).unwrap_err();
        assert!(
            matches!(&e, Error::Invalid(m) if *m == expect),
            "decode {name}: {e}"
        );
        assert_eq!(
            std::fs::read_dir(&out).unwrap().count(),
            0,
            "{name}: nothing written"
        );
    }
}

/// scan: the same two impossible metadata blocks (v2, and v18 under another UID) beside an
/// intact v1 container of the original SeqBox (b497.v1.sbx). Listing the containers (blocks
/// expected) and recovering them overflowed; now the two are unrecoverable with the reason,
/// and the third still comes back verified.
#[test]
fn an_impossible_size_costs_only_its_own_container_in_a_recovery() {
    use seqbox::engine::recover::RecoverStatus;
    use seqbox::engine::scan::{self, ScanOpts};
    let dir = tempfile::tempdir().unwrap();
    let img = input(dir.path(), "scan", "fsz-too-big-beside-a-good-v1.img");
    let catalog = dir.path().join("scan.sqlite");
    let opts = ScanOpts {
        sources: vec![img],
        catalog: catalog.clone(),
        ..ScanOpts::default()
    };
    scan::run(&opts, &CancelFlag::new(), &quiet).unwrap();
    let out = dir.path().join("out");
    let r = recover::run(
        &RecoverOpts {
            catalog,
            out_dir: out.clone(),
            select: Selection::All,
            partial: true,
            password: None,
        },
        &CancelFlag::new(),
        &quiet,
    )
    .unwrap();
    let by_uid = |u: &str| r.results.iter().find(|c| c.uid == u).expect(u);
    for uid in ["090909090909", "080808080808"] {
        let bad = by_uid(uid);
        assert_eq!(
            (bad.status, &bad.output),
            (RecoverStatus::Unrecoverable, &None)
        );
        let why = "file size no container of its version and settings can hold";
        assert!(
            bad.reason.as_deref().is_some_and(|m| m.contains(why)),
            "{uid}: {:?}",
            bad.reason
        );
    }
    let good = by_uid("5eb0c5000105");
    assert_eq!(
        (good.status, good.verified),
        (RecoverStatus::Complete, true)
    );
    let bytes = std::fs::read(good.output.as_ref().unwrap()).unwrap();
    assert_eq!(
        common::sha256_hex(&bytes),
        "d801a34d4d748dce1dd36f057c15058e5420b3e46cdf0ffa79738c5a8fdd8330"
    );
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
}

/// scan: a 5 KB image whose one valid block of container bedd35100b29 (no metadata, a chance
/// or stray block) carries sequence number 138 875 179. Recovery walked all 138 875 179
/// block sets before it, one by one: 23 s in a test build (minutes under the fuzzer), and
/// with a sequence number near 2^32 half an hour. Now the stretch without blocks is counted
/// in one step, and the report is the same: one missing range before the block.
#[test]
fn a_stray_high_sequence_number_is_not_walked_to() {
    use seqbox::engine::recover::RecoverStatus;
    use seqbox::engine::scan::{self, ScanOpts};
    let dir = tempfile::tempdir().unwrap();
    let img = input(dir.path(), "scan", "lone-block-seq-138875179.img");
    let catalog = dir.path().join("scan.sqlite");
    let opts = ScanOpts {
        sources: vec![img],
        catalog: catalog.clone(),
        ..ScanOpts::default()
    };
    scan::run(&opts, &CancelFlag::new(), &quiet).unwrap();
    let out = dir.path().join("out");
    let r = within(Duration::from_secs(5), "recover", move || {
        let opts = RecoverOpts {
            catalog,
            out_dir: out,
            select: Selection::All,
            partial: false,
            password: None,
        };
        recover::run(&opts, &CancelFlag::new(), &quiet)
    })
    .unwrap();
    let lone = r.results.iter().find(|c| c.uid == "bedd35100b29").unwrap();
    assert_eq!(
        (lone.status, lone.output.as_ref()),
        (RecoverStatus::Partial, None)
    );
    let gap = 138_875_178u64;
    assert_eq!(lone.missing_bytes, gap * 496);
    assert_eq!(lone.assembly.missing_blocks, gap);
    assert_eq!(lone.assembly.failed_sets, gap);
    assert_eq!(lone.assembly.valid_data_blocks, 1);
    let m = &lone.missing;
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(
        (
            m[0].first_seq,
            m[0].last_seq,
            m[0].blocks,
            m[0].byte_start,
            m[0].byte_end
        ),
        (1, 138_875_178, gap, 0, gap * 496)
    );
}

/// catalog_open: a metadata copy whose offset reads back as −67. Deciding which block copies
/// sit in their own slot relative to that metadata ("anchored") added the slot offset to a
/// start near 2^64 — an overflow panic that stopped the whole recovery. Now such a start
/// anchors nothing, and the recovery goes on with the copies it has.
#[test]
fn a_metadata_copy_at_a_negative_offset_does_not_stop_a_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = input(d, "catalog_open", "metadata-offset-minus-67.sqlite");
    // The catalogue's sources, where this test keeps them.
    let conn = rusqlite::Connection::open(&db).unwrap();
    std::fs::create_dir(d.join("sources")).unwrap();
    for (id, name) in [(1, "a.img"), (2, "b.img"), (3, "c.img")] {
        let to = input(d, "catalog_open", &format!("sources/{name}"));
        conn.execute(
            "UPDATE source SET path = ?1 WHERE id = ?2",
            rusqlite::params![to.as_os_str().as_encoded_bytes(), id],
        )
        .unwrap();
    }
    drop(conn);
    let out = d.join("out");
    let opts = RecoverOpts {
        catalog: db,
        out_dir: out.clone(),
        select: Selection::All,
        partial: false,
        password: None,
    };
    let r = within(Duration::from_secs(20), "recover", move || {
        recover::run(&opts, &CancelFlag::new(), &quiet)
    })
    .expect("the recovery ends with a report");
    let by_uid = |u: &str| r.results.iter().find(|c| c.uid == u).unwrap();
    // The v17 container whose metadata has that copy (and a good one) comes back verified,
    // like the v1 one beside it; the password one waits for its password.
    for uid in ["5eed00000028", "5eed00000029"] {
        let c = by_uid(uid);
        assert_eq!(c.status, recover::RecoverStatus::Complete, "{c:?}");
        assert!(c.verified, "{c:?}");
        assert!(c.output.as_ref().unwrap().is_file());
    }
    assert_eq!(
        by_uid("5eed0000002a").status,
        recover::RecoverStatus::NeedsPassword
    );
    assert_eq!(r.results.len(), 4);
}

/// rs_repair (input rs_repair/empty-v18-burst22-first-meta-erased.input): an empty file in a
/// version 18 container with 11 + 1 shards and burst level 22 — 24 blocks, metadata copies
/// at blocks 0 and 23, the burst level not stored (no room beside a BLAKE2b digest) — whose
/// first metadata copy is erased. The lone copy left fits every burst level, and the
/// smallest was taken: the container was read as starting at block 22, repair wrote a
/// metadata copy at block 22, and the "repaired" copy still failed its check. A container
/// file begins at byte 0: now the copy at block 23 says burst 22, and repair restores the
/// original bytes exactly.
#[test]
fn an_empty_rs_container_missing_its_first_metadata_copy_is_repaired_exactly() {
    use seqbox::engine::encode::{self, EncodeOpts, RsParams};
    use seqbox::engine::repair::{self, RepairOpts};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("empty.bin"), b"").unwrap();
    let mut opts = EncodeOpts::new(d.join("empty.bin"));
    opts.version = seqbox::format::Version::V18;
    opts.rs = RsParams {
        data: 11,
        parity: 1,
        burst: 22,
    };
    opts.hash = seqbox::format::HashKind::Blake2b256;
    let sbx = encode::run(&opts, &CancelFlag::new(), &quiet)
        .unwrap()
        .output;
    let original = std::fs::read(&sbx).unwrap();
    assert_eq!(original.len(), 24 * 128);
    let mut damaged = original.clone();
    damaged[..128].fill(0);
    std::fs::write(&sbx, &damaged).unwrap();

    let mut r = RepairOpts::new(&sbx);
    r.output = Some(d.join("repaired.sbx"));
    let report = repair::run(&r, &CancelFlag::new(), &quiet).unwrap();
    assert!(report.success(), "{report:?}");
    let repaired = std::fs::read(d.join("repaired.sbx")).unwrap();
    let differ: Vec<usize> = (0..original.len().max(repaired.len()))
        .filter(|&i| repaired.get(i) != original.get(i))
        .collect();
    assert!(
        differ.is_empty(),
        "repaired copy differs at {} byte(s), first {:?}",
        differ.len(),
        differ.first()
    );
    let c = check::run(
        &CheckOpts::new(d.join("repaired.sbx")),
        &CancelFlag::new(),
        &quiet,
    )
    .unwrap();
    assert!(c.ok, "{:?}", c.assembly);
    // The damaged one decodes to the empty file, its hash verified.
    let mut o = DecodeOpts::new(&sbx);
    o.output = Target::Folder(d.join("out"));
    std::fs::create_dir(d.join("out")).unwrap();
    let back = decode::run(&o, &CancelFlag::new(), &quiet).unwrap();
    assert_eq!(back.status, decode::DecodeStatus::Verified, "{back:?}");
    assert_eq!(std::fs::read(back.output.unwrap()).unwrap(), b"");
}

/// fat: a mutated FAT12 seed whose directory entries claim sizes far beyond their cluster
/// chains. The snapshot hashed the missing gigabytes as zeros (a hole on ext4, unknown on
/// FAT): a timeout under the fuzzer. Now the file is recorded without a SHA-256 and a problem
/// says why; snapshot and recovery finish at once. (The same image has two entries of one
/// folder with the same name, which failed the whole snapshot; both are kept, apart.)
#[test]
fn a_fat_size_far_beyond_its_chain_is_a_problem_not_hours_of_zeros() {
    use seqbox::engine::fs::{recover as fs_recover, snapshot};
    let dir = tempfile::tempdir().unwrap();
    let img = input(dir.path(), "fat", "size-far-beyond-its-chain.img");
    let db = dir.path().join("s.sqlite");
    let out = dir.path().join("out");
    let (rep, rec) = within(
        Duration::from_secs(20),
        "fat snapshot + recover",
        move || {
            let rep = snapshot::create(
                &snapshot::CreateOpts {
                    image: img.clone(),
                    offset: None,
                    out: db.clone(),
                    map_only: false,
                },
                &CancelFlag::new(),
                &quiet,
            )
            .expect("snapshot");
            let opts = fs_recover::RecoverOpts {
                snapshot: db,
                image: img,
                out_dir: out,
                ..Default::default()
            };
            (
                rep,
                fs_recover::run(&opts, &CancelFlag::new(), &quiet).expect("recover"),
            )
        },
    );
    assert!(
        rep.problems
            .iter()
            .any(|p| p.what.contains("bytes have clusters: the rest is unknown")),
        "{:?}",
        rep.problems
    );
    assert!(
        !rec.success(),
        "a file with an unknown end cannot be identical"
    );
}
