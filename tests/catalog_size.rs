//! The catalogue grows with pieces, not blocks (issue 13, part 2): a container lying in one
//! piece is one block run and one layout run whatever its version, size or burst level; a
//! container cut into N pieces takes rows in proportion to N; recovery from such a
//! catalogue is bit-exact, and the map still tells metadata, data and parity apart.

mod common;

use common::scenario::*;
use common::*;
use seqbox::engine::catalog::{Catalog, SectorClass};
use seqbox::engine::encode::RsParams;
use seqbox::format::Version;
use std::path::Path;

/// (block runs, layout runs, bytes) of a catalogue.
fn size_of(catalog: &Path) -> (u64, u64, u64) {
    let c = rusqlite::Connection::open(catalog).unwrap();
    let count = |t: &str| -> u64 {
        c.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap() as u64
    };
    c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    let bytes: i64 = c
        .query_row(
            "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size",
            [],
            |r| r.get(0),
        )
        .unwrap();
    (count("block_run"), count("layout_run"), bytes as u64)
}

/// `sbx` between two stretches of junk, scanned; (block runs, layout runs, bytes).
fn scan_between_junk(dir: &Path, sbx: &[u8]) -> (u64, u64, u64) {
    let mut image = noise(300_000, 7);
    image.extend_from_slice(sbx);
    image.extend(noise(200_003, 8));
    let img = dir.join("img");
    std::fs::write(&img, &image).unwrap();
    let catalog = dir.join("c.sqlite");
    scan_into(&catalog, &[img]);
    size_of(&catalog)
}

fn rs(data: usize, parity: usize, burst: u32) -> RsParams {
    RsParams {
        data,
        parity,
        burst,
    }
}

/// One container of `len` bytes in one piece: its rows, and a bit-exact recovery.
fn one_piece(version: Version, params: RsParams, len: usize) -> (u64, u64, u64) {
    let d = fast_tempdir();
    let data = noise(len, len as u64 + u64::from(params.burst));
    let sbx = container(d.path(), "f.bin", &data, version, params, "0000000000c1");
    let rows = scan_between_junk(d.path(), &sbx);
    let r = recover_all(&d.path().join("c.sqlite"), &d.path().join("out"), None);
    assert_eq!(recovered(&r, "f.bin"), data, "{version} {params:?}");
    rows
}

#[test]
fn a_container_in_one_piece_takes_a_handful_of_rows_of_any_version_and_burst_level() {
    let cases = [
        (Version::V1, RsParams::default()),
        (Version::V2, RsParams::default()),
        (Version::V17, rs(10, 2, 0)),
        (Version::V17, rs(10, 2, 1)),
        (Version::V17, RsParams::default()),
        (Version::V18, rs(3, 5, 40)),
        (Version::V19, rs(100, 28, 7)),
    ];
    for (version, params) in cases {
        let (blocks, layout, _) = one_piece(version, params, 1 << 20);
        // The encoder leaves the slots of the missing sets of a last, partial super block
        // set (B ≥ 2) as zero-filled holes: they split the tail into at most one run per
        // column (M + P). Not yet folded into one run: the rows would need the container's
        // last sequence number (see docs/CATALOG.md). Constant whatever the size.
        let tail = if params.burst >= 2 && version.uses_rs() {
            (params.data + params.parity) as u64
        } else {
            0
        };
        assert!(
            blocks <= 1 + tail,
            "{blocks} block runs of {version} {params:?}"
        );
        // Junk, the container, junk (a sector shared by junk and the first block is the
        // block's, so at most one more), and the holes of the tail.
        assert!(
            layout <= 4 + 2 * tail,
            "{layout} layout runs of {version} {params:?}"
        );
    }
}

#[test]
fn rows_do_not_grow_with_the_size_of_a_container() {
    let small = one_piece(Version::V17, RsParams::default(), 4 << 20);
    let big = one_piece(Version::V17, RsParams::default(), 40 << 20);
    assert_eq!((small.0, small.1), (big.0, big.1), "rows of 4 MB and 40 MB");
    // Rows do not depend on the size, so a 400 MB container's catalogue is this size too.
    assert!(big.2 < 1 << 20, "a catalogue of {} bytes", big.2);
}

/// The issue's own case, for the record (a minute or more in a debug build).
#[test]
#[ignore]
fn a_400_mb_container_takes_a_catalogue_under_one_mib() {
    let (blocks, layout, bytes) = one_piece(Version::V17, RsParams::default(), 400 << 20);
    assert!(blocks <= 13, "{blocks}");
    assert!(layout <= 28, "{layout}");
    assert!(bytes < 1 << 20, "{bytes} bytes");
}

/// A v17 container (B = 12) cut into `n` pieces at uneven block boundaries, scattered in
/// reverse order between junk: (block runs, layout runs), after a bit-exact recovery.
fn in_pieces(n: usize) -> (u64, u64) {
    let d = fast_tempdir();
    let data = noise(2 << 20, 99);
    let sbx = container(
        d.path(),
        "f.bin",
        &data,
        Version::V17,
        RsParams::default(),
        "0000000000c2",
    );
    let blocks = sbx.len() / 512;
    let mut cuts: Vec<usize> = (1..n)
        .map(|i| (i * blocks / n + i * 7 % 13) * 512)
        .collect();
    cuts.insert(0, 0);
    cuts.push(sbx.len());
    let mut image = Vec::new();
    for (i, w) in cuts.windows(2).rev().enumerate() {
        image.extend(noise(4096 + 1000 * i, i as u64));
        image.extend_from_slice(&sbx[w[0]..w[1]]);
    }
    image.extend(noise(5000, 1234));
    let img = d.path().join("img");
    std::fs::write(&img, &image).unwrap();
    let catalog = d.path().join("c.sqlite");
    scan_into(&catalog, &[img]);
    let r = recover_all(&catalog, &d.path().join("out"), None);
    assert_eq!(recovered(&r, "f.bin"), data, "{n} pieces");
    let (b, l, _) = size_of(&catalog);
    (b, l)
}

#[test]
fn rows_grow_with_the_pieces_of_a_container_not_its_blocks() {
    for n in [1, 3, 12] {
        let (blocks, layout) = in_pieces(n);
        let n = n as u64;
        // A piece without the metadata in front of it infers the burst level from its own
        // sequence numbers; its first column may stand alone. The tail's holes (one per
        // column of the last super block set, 12 here) come on top.
        assert!(blocks <= 2 * n + 12, "{blocks} block runs for {n} pieces");
        assert!(
            layout <= 2 * n + 1 + 24,
            "{layout} layout runs for {n} pieces"
        );
    }
}

#[test]
fn the_map_draws_metadata_data_and_parity_from_one_run() {
    let d = fast_tempdir();
    let data = noise(300_000, 5);
    let p = rs(4, 2, 3);
    let sbx = container(d.path(), "f.bin", &data, Version::V17, p, "0000000000c3");
    let mut image = vec![0u8; 4096];
    image.extend_from_slice(&sbx);
    std::fs::write(d.path().join("img"), &image).unwrap();
    let catalog = d.path().join("c.sqlite");
    scan_into(&catalog, &[d.path().join("img")]);
    let c = Catalog::open_existing(&catalog).unwrap();
    let runs = c.runs(1, 0, u64::MAX).unwrap();
    // Block k of the container is at sector 8 + k: its class must be its slot's.
    let layout = seqbox::format::rs::Layout::rs(Version::V17, 4, 2, 3).unwrap();
    // Sequence numbers past the last set are holes the encoder leaves as zeros.
    let seqs = layout.sets_for(data.len() as u64) * 6;
    for k in 0..(sbx.len() / 512) as u64 {
        let want = match layout.slot(k) {
            seqbox::format::rs::Slot::Meta => SectorClass::SbxMeta,
            seqbox::format::rs::Slot::Seq(n) if u64::from(n) > seqs => SectorClass::Empty,
            seqbox::format::rs::Slot::Seq(n) if (n - 1) % 6 >= 4 => SectorClass::SbxParity,
            _ => SectorClass::SbxData,
        };
        let s = 8 + k;
        let got = runs
            .iter()
            .find(|r| r.start_sector <= s && s < r.start_sector + r.sectors)
            .map(|r| r.class);
        assert_eq!(got, Some(want), "slot {k}");
    }
    // A range in the middle draws the same as the whole.
    let part = c.runs(1, 100, 140).unwrap();
    assert_eq!(part.first().unwrap().start_sector, 100);
    let whole: Vec<_> = sectors_of(&runs, SectorClass::SbxParity)
        .into_iter()
        .filter(|s| (100..140).contains(s))
        .collect();
    assert_eq!(sectors_of(&part, SectorClass::SbxParity), whole);
}

/// A version-2 catalogue (runs of sequence numbers moving by a fixed step, as version 2 wrote
/// them) is upgraded when opened: every block keeps its sequence number, recovery is
/// bit-exact and the map still draws the container.
#[test]
fn a_version_2_catalogue_is_upgraded_and_recovers() {
    let d = fast_tempdir();
    let data = noise(200_000, 11);
    let sbx = container(
        d.path(),
        "f.bin",
        &data,
        Version::V17,
        rs(5, 3, 4),
        "0000000000c4",
    );
    let mut image = noise(3000, 1);
    image.extend_from_slice(&sbx);
    std::fs::write(d.path().join("img"), &image).unwrap();
    let catalog = d.path().join("c.sqlite");
    scan_into(&catalog, &[d.path().join("img")]);
    let copies = |c: &Catalog| -> Vec<(u32, u64)> {
        let uid = seqbox::format::block::parse_uid("0000000000c4").unwrap();
        c.copies_of(uid, Version::V17)
            .unwrap()
            .iter()
            .map(|k| (k.seq, k.offset))
            .collect()
    };
    let before = copies(&Catalog::open_existing(&catalog).unwrap());

    // Rewrite the block runs as version 2 stored them: (offset, seq, step, count).
    {
        let c = rusqlite::Connection::open(&catalog).unwrap();
        let mut blocks: Vec<(u64, i64)> = before.iter().map(|&(s, o)| (o, i64::from(s))).collect();
        let metas: Vec<u64> = c
            .prepare("SELECT offset FROM metadata")
            .unwrap()
            .query_map([], |r| r.get::<_, i64>(0))
            .unwrap()
            .map(|o| o.unwrap() as u64)
            .collect();
        blocks.extend(metas.iter().map(|&o| (o, 0)));
        blocks.sort();
        let mut runs: Vec<(u64, i64, i64, i64)> = Vec::new();
        for (o, s) in blocks {
            if let Some(r) = runs.last_mut() {
                let last = r.1 + (r.3 - 1) * r.2;
                let step = s - last;
                if o == r.0 + r.3 as u64 * 512
                    && r.1 != 0
                    && s != 0
                    && step != 0
                    && (r.3 == 1 || step == r.2)
                {
                    r.2 = step;
                    r.3 += 1;
                    continue;
                }
            }
            runs.push((o, s, 1, 1));
        }
        assert!(
            runs.iter().any(|r| r.2 != 1 && r.3 > 1),
            "an interleaved run: {runs:?}"
        );
        c.execute_batch(
            "DROP TABLE block_run;
             CREATE TABLE block_run (source_id INTEGER NOT NULL REFERENCES source(id),
                offset INTEGER NOT NULL, end_offset INTEGER NOT NULL, count INTEGER NOT NULL,
                version INTEGER NOT NULL, uid INTEGER NOT NULL, seq INTEGER NOT NULL,
                seq_step INTEGER NOT NULL, password INTEGER NOT NULL,
                PRIMARY KEY (source_id, offset)) WITHOUT ROWID;
             CREATE INDEX block_run_by_container ON block_run (uid, version, seq);
             PRAGMA user_version = 2;",
        )
        .unwrap();
        for (o, s, step, n) in runs {
            c.execute(
                "INSERT INTO block_run VALUES (1, ?1, ?2, ?3, 17, 196, ?4, ?5, 0)",
                rusqlite::params![o as i64, (o + n as u64 * 512) as i64, n, s, step],
            )
            .unwrap();
        }
    }

    let c = Catalog::open_existing(&catalog).unwrap();
    assert_eq!(copies(&c), before);
    let runs = c.runs(1, 0, u64::MAX).unwrap();
    assert!(
        !sectors_of(&runs, SectorClass::SbxParity).is_empty(),
        "{runs:?}"
    );
    drop(c);
    let r = recover_all(&catalog, &d.path().join("out"), None);
    assert_eq!(recovered(&r, "f.bin"), data);
}
