//! NTFS snapshots and verified recovery through the real binary, on volumes built with
//! ntfs-3g: a photo in six fragments snapshotted, its MFT record marked free (deleted), then
//! recovered bit-exact (exit 0); overwritten in part, recovered with exactly the overwritten
//! byte ranges (exit 2, verdict words); a resident file recovered from its record's bytes;
//! another volume refused; and the map's owners and structures on the live volume.

mod common;

use common::ext4img::payload;
use common::ntfsimg::{Built, CLUSTER, PHOTO, build, build_labelled, delete, scribble};
use common::{seqbox, show};
use seqbox::engine::CancelFlag;
use seqbox::engine::fs::owners;
use seqbox::engine::fs::recover::target_for;
use std::path::Path;

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn recover(d: &Path, img: &str, path: &str, out: &str) -> std::process::Output {
    let mut args = vec![
        "snapshot", "recover", "s.sqlite", img, "--out", out, "--json",
    ];
    if !path.is_empty() {
        args.extend(["--path", path]);
    }
    seqbox(&args, d, &[])
}

fn snapshot(d: &Path, b: &Built) {
    let out = seqbox(
        &[
            "snapshot",
            "create",
            b.img.to_str().unwrap(),
            "-o",
            "s.sqlite",
            "--json",
        ],
        d,
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    let doc = json(&out);
    assert_eq!(doc["report"]["files"], b.files.len() as u64, "{doc}");
}

#[test]
fn a_deleted_fragmented_photo_comes_back_bit_exact_then_with_its_overwritten_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let b = build(d);
    let img = b.img.to_str().unwrap();
    snapshot(d, &b);
    let out = seqbox(&["snapshot", "list", "s.sqlite", "/"], d, &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(PHOTO) && text.contains("/héllo wörld.txt"),
        "{text}"
    );

    // Everything, from the untouched volume: identical, exit 0, the same bytes.
    let out = recover(d, img, "", "r0");
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    assert_eq!(json(&out)["report"]["identical"], b.files.len() as u64);
    for (p, content) in &b.files {
        let f = target_for(&d.join("r0"), p.as_bytes()).unwrap();
        assert_eq!(&std::fs::read(&f).unwrap(), content, "{p}");
    }

    // Deleted (record free, clusters free) but not yet overwritten: bit-exact, exit 0.
    delete(&b.img, PHOTO);
    delete(&b.img, "/small.txt");
    for (path, out_dir) in [(PHOTO, "r1"), ("/small.txt", "r2")] {
        let out = recover(d, img, path, out_dir);
        assert_eq!(out.status.code(), Some(0), "{path}: {}", show(&out, d));
        let doc = json(&out);
        assert_eq!(doc["report"]["files"][0]["verdict"], "identical", "{doc}");
        let f = target_for(&d.join(out_dir), path.as_bytes()).unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b.files[path], "{path}");
    }

    // Another file written over part of it: clusters 8–9 (inside the third fragment) and a
    // few bytes of cluster 18 (the first of the fifth).
    let (vcn, lcn, _) = b.plan[2];
    assert_eq!(vcn, 7);
    scribble(
        &b.img,
        (lcn as u64 + 1) * CLUSTER,
        &payload(2 * CLUSTER as usize, 9),
    );
    let (vcn, lcn, _) = b.plan[4];
    scribble(&b.img, lcn as u64 * CLUSTER + 100, &[0x55; 10]);
    let out = recover(d, img, PHOTO, "r3");
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, d));
    let doc = json(&out);
    let f = &doc["report"]["files"][0];
    assert_eq!(f["verdict"], "partial", "{doc}");
    let c = CLUSTER;
    assert_eq!(
        f["damaged"],
        serde_json::json!([[8 * c, 10 * c], [vcn * c, (vcn + 1) * c]])
    );
    let written = d.join(
        f["out_path"]
            .as_str()
            .expect("the partial file was written"),
    );
    let got = std::fs::read(&written).unwrap();
    let want = &b.files[PHOTO];
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let damaged =
            (8 * c..10 * c).contains(&(i as u64)) || (vcn * c..(vcn + 1) * c).contains(&(i as u64));
        if !damaged {
            assert_eq!(g, w, "byte {i} outside the damaged ranges");
        }
    }
    // In words too.
    let out = seqbox(
        &[
            "snapshot", "recover", "s.sqlite", img, "--path", PHOTO, "--out", "r4",
        ],
        d,
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Partly recovered"),
        "{}",
        show(&out, d)
    );

    // Another NTFS volume of the same layout and content, with another serial: refused.
    // (mkntfs seeds its serial from the clock: two volumes made in one second share one.)
    let other = build_labelled(d, "other.img", "OTHER");
    scribble(&other.img, 72, &0x0123_4567_89AB_CDEFu64.to_le_bytes());
    let out = seqbox(
        &[
            "snapshot",
            "recover",
            "s.sqlite",
            other.img.to_str().unwrap(),
            "--out",
            "r5",
        ],
        d,
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, d));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("This snapshot belongs to a different disk."),
        "{}",
        show(&out, d)
    );
}

#[test]
fn the_map_names_each_fragment_and_the_file_system_structures() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path());
    let (runs, structures) = owners::live_map(&b.img, &CancelFlag::new()).unwrap();
    let photo: Vec<(u64, u64)> = runs
        .iter()
        .filter(|r| r.path == PHOTO.as_bytes())
        .map(|r| (r.byte_start, r.byte_len))
        .collect();
    let mut want: Vec<(u64, u64)> = b
        .plan
        .iter()
        .map(|&(_, lcn, len)| (lcn as u64 * CLUSTER, len * CLUSTER))
        .collect();
    want.sort();
    assert_eq!(photo, want);
    assert!(
        !runs.iter().any(|r| r.path == b"/small.txt"),
        "a resident file owns no clusters"
    );
    let mft = structures.iter().find(|s| s.what == "$MFT").unwrap();
    assert_eq!(mft.byte_start % CLUSTER, 0);
    assert!(
        structures
            .iter()
            .any(|s| s.what == "$Boot" && s.byte_start == 0)
    );
    for s in &structures {
        for r in &runs {
            let overlap = s.byte_start < r.byte_start + r.byte_len
                && r.byte_start < s.byte_start + s.byte_len;
            assert!(!overlap, "{} overlaps {:?}", s.what, r.path);
        }
    }
}

/// A scan of an NTFS image draws the boot sector, `$MFT` and `$Bitmap` as file-system
/// structures and the photo's clusters as other data.
#[test]
fn a_scan_classes_ntfs_structures_apart() {
    use seqbox::engine::catalog::{Catalog, SectorClass};
    use seqbox::engine::scan::{self, ScanOpts};
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path());
    let cat = dir.path().join("c.sqlite");
    let opts = ScanOpts {
        sources: vec![b.img.clone()],
        catalog: cat.clone(),
        password: None,
        from: None,
        to: None,
        uids: Vec::new(),
    };
    scan::run(&opts, &CancelFlag::default(), &|_| {}).expect("scan");
    let c = Catalog::open_existing(&cat).unwrap();
    let runs = c.runs(1, 0, 24 << 11).unwrap();
    let class_at = |s: u64| {
        runs.iter()
            .find(|r| r.start_sector <= s && s < r.start_sector + r.sectors)
            .map(|r| r.class)
    };
    let v = seqbox::engine::fs::open(&b.img, None).unwrap();
    let structures = v.structures();
    for what in ["$Boot", "$MFT", "$Bitmap"] {
        let s = structures.iter().find(|s| s.what == what).unwrap();
        assert_eq!(
            class_at(s.byte_start / 512),
            Some(SectorClass::FsStructure),
            "{what} at byte {}",
            s.byte_start
        );
    }
    let (_, lcn, _) = b.plan[0];
    assert_eq!(
        class_at(lcn as u64 * CLUSTER / 512),
        Some(SectorClass::Other)
    );
}

/// A compressed file is recorded, but recovery says it cannot be verified: never "identical".
#[test]
fn a_compressed_file_is_never_called_identical() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let b = build(d);
    let n = common::ntfsimg::record_of(&b.img, "/b.bin");
    let mut rec = common::ntfsimg::Record::read(&b.img, n);
    let a = rec.attr(0x80);
    rec.b[a + 0x0C] |= 0x01; // attribute flags: compressed
    rec.b[a + 0x22] = 4;
    rec.write(&b.img);
    let out = seqbox(
        &[
            "snapshot",
            "create",
            b.img.to_str().unwrap(),
            "-o",
            "s.sqlite",
        ],
        d,
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    let out = seqbox(
        &[
            "snapshot",
            "recover",
            "s.sqlite",
            b.img.to_str().unwrap(),
            "--path",
            "/b.bin",
            "--out",
            "r",
        ],
        d,
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, d));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("/b.bin: lost — it cannot be verified against the snapshot")
            && text.contains("compressed by NTFS")
            && !text.contains("has changed"),
        "{text}"
    );
}
