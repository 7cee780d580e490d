//! A sparse image's holes are not read (issue 13: a mostly-empty image scans near the speed
//! of reading it): the scan asks the file where its data is (SEEK_DATA) and takes a piece
//! wholly inside a hole as zeros. What it finds must be exactly what reading every byte finds:
//! the same layout runs, the same containers, the same blocks, bit-exact recovery — also for
//! containers that end or start right at a hole's edge and for blocks across piece ends.

mod common;

use common::scenario::*;
use common::*;
use seqbox::engine::catalog::{Catalog, SECTOR};
use seqbox::format::Version;
use std::os::unix::fs::FileExt;
use std::path::Path;

const MIB: u64 = 1 << 20;

/// Write `parts` (offset, bytes) into a file of `len` bytes: sparse (holes between the parts)
/// or dense (every byte written).
fn image(path: &Path, len: u64, parts: &[(u64, Vec<u8>)], sparse: bool) {
    let f = std::fs::File::create(path).unwrap();
    if sparse {
        f.set_len(len).unwrap();
    } else {
        let zeros = vec![0u8; MIB as usize];
        let mut at = 0;
        while at < len {
            let n = (len - at).min(MIB);
            f.write_all_at(&zeros[..n as usize], at).unwrap();
            at += n;
        }
    }
    for (at, bytes) in parts {
        f.write_all_at(bytes, *at).unwrap();
    }
}

/// A container as the catalogue counts it: uid, blocks found, blocks expected.
type Counted = (String, u64, Option<u64>);

/// Layout runs and containers of a scanned catalogue.
fn findings(catalog: &Path, len: u64) -> (Vec<String>, Vec<Counted>) {
    let c = Catalog::open_existing(catalog).unwrap();
    let src = c.sources().unwrap()[0].id;
    let runs = c
        .runs(src, 0, len / SECTOR)
        .unwrap()
        .iter()
        .map(|r| format!("{r:?}"))
        .collect();
    let conts = c
        .containers()
        .unwrap()
        .into_iter()
        .map(|r| (r.uid, r.blocks_found, r.blocks_expected))
        .collect();
    (runs, conts)
}

#[test]
fn holes_are_skipped_and_the_findings_equal_reading_every_byte() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (a, sa) = noise_container(d, "a.bin", 300_000, Version::V17, "a1a1");
    let (b, sb) = noise_container(d, "b.bin", 200_000, Version::V1, "b2b2");
    let (c, sc) = noise_container(d, "c.bin", 150_000, Version::V19, "c3c3");
    let len = 48 * MIB;
    let parts = vec![
        // Right after several MiB of hole, at an odd offset.
        (5 * MIB + 4096 + 333, sa),
        // Ending exactly on a piece boundary, then a long hole.
        (17 * MIB - sb.len() as u64, sb),
        // Starting 100 bytes before a piece boundary: its first block is across two pieces.
        (30 * MIB - 100, sc),
        // Some non-SBX data alone in the middle of a hole.
        (40 * MIB + 512, noise(70_000, 5)),
    ];
    let sparse = d.join("sparse.img");
    let dense = d.join("dense.img");
    image(&sparse, len, &parts, true);
    image(&dense, len, &parts, false);
    let (cs, cd) = (d.join("s.sqlite"), d.join("d.sqlite"));
    let rs = scan_into(&cs, std::slice::from_ref(&sparse));
    let rd = scan_into(&cd, std::slice::from_ref(&dense));
    assert_eq!(rs.containers, 3, "{rs:#?}");
    assert_eq!(rs.sources[0].blocks, rd.sources[0].blocks);
    let (runs_s, conts_s) = findings(&cs, len);
    let (runs_d, conts_d) = findings(&cd, len);
    assert_eq!(
        runs_s, runs_d,
        "layout runs differ between sparse and dense"
    );
    assert_eq!(conts_s, conts_d);
    let out = recover_all(&cs, &d.join("out"), None);
    assert!(out.success(), "{out:#?}");
    assert!(recovered(&out, "a.bin") == a);
    assert!(recovered(&out, "b.bin") == b);
    assert!(recovered(&out, "c.bin") == c);
}

#[test]
fn a_sparse_file_says_where_its_data_is_and_never_past_it() {
    use seqbox::engine::source::ReadAt;
    let dir = tempfile::tempdir().unwrap();
    let f = std::fs::File::create(dir.path().join("x")).unwrap();
    f.set_len(8 * MIB).unwrap();
    f.write_all_at(b"data", 3 * MIB).unwrap();
    // A sparse file says where its data starts (or, on a file system without holes, says
    // the offset itself): never past data.
    let at = f.data_from(0).unwrap();
    assert!(at <= 3 * MIB, "{at}");
    assert!(f.data_from(3 * MIB + 4).unwrap() >= 3 * MIB + 4);
}
