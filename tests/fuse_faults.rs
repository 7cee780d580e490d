//! End to end through a real failing disk: a FUSE file system (tests/common/fuse.rs) serves
//! an image and answers EIO for chosen byte ranges; the real binary scans, recovers, decodes,
//! checks and repairs through it. Skipped, with the reason printed, without root or
//! /dev/fuse.
#![cfg(target_os = "linux")]

mod common;

use common::fuse::FailingDisk;
use common::*;
use std::os::unix::fs::FileExt;

#[test]
fn the_failing_disk_fails_where_asked_and_nowhere_else() {
    let dir = tempfile::tempdir().unwrap();
    let data = noise(1 << 20, 9);
    let img = dir.path().join("img");
    std::fs::write(&img, &data).unwrap();
    let mnt = dir.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let Some(disk) = FailingDisk::mount(&img, "disk.img", &mnt, vec![(5000, 6000)]) else {
        return;
    };
    let f = std::fs::File::open(&disk.path).unwrap();
    assert_eq!(f.metadata().unwrap().len(), 1 << 20);
    let mut buf = vec![0u8; 4096];
    f.read_exact_at(&mut buf, 0).unwrap();
    assert_eq!(buf, data[..4096]);
    let e = f.read_exact_at(&mut buf, 4096).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(5), "{e}");
    f.read_exact_at(&mut buf, 8192).unwrap();
    assert_eq!(buf, data[8192..12288]);
    assert_eq!(disk.errors.load(std::sync::atomic::Ordering::SeqCst), 1);
}

use seqbox::engine::encode::{EncodeOpts, RsParams, Target};
use seqbox::engine::{CancelFlag, encode};
use seqbox::format::Version;
use seqbox::format::block::parse_uid;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Encode `data` with a fixed UID and time; returns the container's bytes.
fn container(dir: &Path, data: &[u8], version: Version, rs: RsParams, uid: &str) -> Vec<u8> {
    let input = dir.join(format!("{uid}.bin"));
    std::fs::write(&input, data).unwrap();
    let out = dir.join(format!("{uid}.sbx"));
    let opts = EncodeOpts {
        output: Target::File(out.clone()),
        version,
        rs,
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

/// Whole sectors covering `start..end`, as the reports give them.
fn sectors(start: u64, end: u64) -> (u64, u64) {
    (start / 512 * 512, end.div_ceil(512) * 512)
}

/// Run the binary with `--json`; returns (exit code, document, what to print on failure).
fn run_json(args: &[&str], cwd: &Path) -> (i32, Value, String) {
    let out = seqbox(args, cwd, &[]);
    let said = format!("seqbox {}\n{}", args.join(" "), show(&out, cwd));
    let doc =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{said}"));
    (out.status.code().unwrap_or(-1), doc, said)
}

fn mountpoint(dir: &Path) -> PathBuf {
    let m = dir.join("mnt");
    std::fs::create_dir(&m).unwrap();
    m
}

const V17_UID: &str = "0000000f0017";

/// A v17 container (10 + 2, burst 12) on a failing disk whose 4 KiB `bad` range lies inside.
struct OnFailingDisk {
    dir: tempfile::TempDir,
    data: Vec<u8>,
    bad: (u64, u64),
    disk: FailingDisk,
}

fn v17_on_failing_disk() -> Option<OnFailingDisk> {
    let dir = tempfile::tempdir().unwrap();
    let data = noise(400_000, 17);
    let c = container(
        dir.path(),
        &data,
        Version::V17,
        RsParams::default(),
        V17_UID,
    );
    let img = dir.path().join("c.img");
    std::fs::write(&img, &c).unwrap();
    // Unaligned: 9 sectors, 9 blocks, each in another block set.
    let bad = (150_001, 154_097);
    let disk = FailingDisk::mount(&img, "c.sbx", &mountpoint(dir.path()), vec![bad])?;
    Some(OnFailingDisk {
        dir,
        data,
        bad,
        disk,
    })
}

#[test]
fn decode_and_check_of_a_v17_container_with_an_unreadable_range_are_bit_exact_and_say_where() {
    let Some(t) = v17_on_failing_disk() else {
        return;
    };
    let src = t.disk.path.to_str().unwrap();
    let (s0, s1) = sectors(t.bad.0, t.bad.1);
    let out = t.dir.path().join("out");
    std::fs::create_dir(&out).unwrap();

    let (code, doc, said) = run_json(
        &["decode", "--json", "-o", out.to_str().unwrap(), src],
        t.dir.path(),
    );
    assert_eq!(code, 0, "{said}");
    let r = &doc["results"][0]["report"];
    let written = r["output"].as_str().expect("an output");
    assert_eq!(std::fs::read(written).unwrap(), t.data, "bit-exact");
    let a = &r["assembly"];
    assert_eq!(a["unreadable"], json!([{"start": s0, "end": s1}]), "{said}");
    assert_eq!(a["unreadable_bytes"], s1 - s0);
    assert_eq!(a["unreadable_blocks"], 9);
    assert_eq!(a["damaged_blocks"], 0, "unreadable is not damaged");
    assert_eq!(a["missing_blocks"], 0);
    assert_eq!(a["hash"]["result"], "match");
    assert!(t.disk.errors.load(std::sync::atomic::Ordering::SeqCst) > 0);

    let (_, doc, said) = run_json(&["check", "--json", src], t.dir.path());
    let a = &doc["results"][0]["report"]["assembly"];
    assert_eq!(a["unreadable"], json!([{"start": s0, "end": s1}]), "{said}");
    assert_eq!(a["unreadable_blocks"], 9, "{said}");
    assert_eq!(a["damaged_blocks"], 0);
    assert_eq!(a["missing_blocks"], 0);
    assert_eq!(a["repaired_sets"], 9);
    assert_eq!(a["hash"]["result"], "match", "{said}");
}

#[test]
fn repair_of_a_container_on_a_failing_disk_writes_a_copy_that_decodes_clean() {
    let Some(t) = v17_on_failing_disk() else {
        return;
    };
    let src = t.disk.path.to_str().unwrap();
    let (s0, s1) = sectors(t.bad.0, t.bad.1);
    let copy = t.dir.path().join("repaired.sbx");
    let (code, doc, said) = run_json(
        &["repair", "--json", "-o", copy.to_str().unwrap(), src],
        t.dir.path(),
    );
    assert_eq!(code, 0, "{said}");
    let r = &doc["results"][0]["report"];
    assert_eq!(r["unreadable"], json!([{"start": s0, "end": s1}]), "{said}");
    assert_eq!(r["unreadable_bytes"], s1 - s0);
    assert_eq!(r["blocks_repaired"], 9, "{said}");
    assert_eq!(r["blocks_failed"], 0);

    // The copy is whole again: every block valid, nothing absent, the data bit-exact.
    let (code, doc, said) = run_json(&["check", "--json", copy.to_str().unwrap()], t.dir.path());
    assert_eq!(code, 0, "{said}");
    let a = &doc["results"][0]["report"]["assembly"];
    assert_eq!(
        (
            &a["absent_blocks"],
            &a["damaged_blocks"],
            &a["unreadable_bytes"]
        ),
        (&json!(0), &json!(0), &json!(0)),
        "{said}"
    );
    let out = t.dir.path().join("decoded.bin");
    let (code, _, said) = run_json(
        &[
            "decode",
            "--json",
            "-o",
            out.to_str().unwrap(),
            copy.to_str().unwrap(),
        ],
        t.dir.path(),
    );
    assert_eq!(code, 0, "{said}");
    assert_eq!(std::fs::read(out).unwrap(), t.data);
}

/// One container of the scan image: where it lies and what it holds.
struct Placed {
    uid: &'static str,
    at: u64,
    data: Vec<u8>,
}

#[test]
fn scan_and_recover_through_two_unreadable_ranges_recover_all_the_parity_allows() {
    let dir = tempfile::tempdir().unwrap();
    // Other data first and last (the scan reads a source's first and last MiB to know it
    // again), containers at unaligned offsets in between.
    let mut img = noise(1_200_003, 1);
    let mut placed = Vec::new();
    let specs: [(&str, Version, RsParams, usize); 4] = [
        ("0000000e0017", Version::V17, RsParams::default(), 300_000),
        ("0000000e0001", Version::V1, RsParams::default(), 100_000),
        (
            "0000000e0019",
            Version::V19,
            RsParams {
                data: 4,
                parity: 2,
                burst: 0,
            },
            150_000,
        ),
        ("0000000e0003", Version::V3, RsParams::default(), 50_000),
    ];
    for (i, (uid, v, rs, len)) in specs.into_iter().enumerate() {
        let data = noise(len, 100 + i as u64);
        let c = container(dir.path(), &data, v, rs, uid);
        placed.push(Placed {
            uid,
            at: img.len() as u64,
            data,
        });
        img.extend_from_slice(&c);
        img.extend_from_slice(&noise(7001 + i * 13, 200 + i as u64));
    }
    img.extend_from_slice(&noise(1_100_000, 2));
    let img_path = dir.path().join("disk.img");
    std::fs::write(&img_path, &img).unwrap();
    // 4 KiB inside the v17 container (its parity fills it), 4 KiB inside the v1 one.
    let bad = [
        (placed[0].at + 100_003, placed[0].at + 104_099),
        (placed[1].at + 30_005, placed[1].at + 34_101),
    ];
    let Some(disk) =
        FailingDisk::mount(&img_path, "disk.img", &mountpoint(dir.path()), bad.to_vec())
    else {
        return;
    };
    let src = disk.path.to_str().unwrap();
    let catalog = dir.path().join("disk.sqlite");
    let cat = catalog.to_str().unwrap();

    // The scan goes on past both ranges and says what it could not read: 9 sectors each.
    let (code, doc, said) = run_json(&["scan", "--json", "--catalog", cat, src], dir.path());
    assert_eq!(code, 0, "{said}");
    assert_eq!(
        doc["report"]["sources"][0]["unreadable_sectors"], 18,
        "{said}"
    );
    assert_eq!(doc["report"]["containers"], 4, "{said}");

    // Recover everything: the v1 container loses the blocks on the unreadable sectors
    // (exit 2), the others come back bit-exact.
    let out = dir.path().join("out");
    let (code, doc, said) = run_json(
        &[
            "recover",
            "--json",
            "--catalog",
            cat,
            "--out",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(code, 2, "{said}");
    let results = doc["report"]["results"].as_array().expect("results");
    let result = |uid: &str| {
        results
            .iter()
            .find(|r| r["uid"] == uid)
            .unwrap_or_else(|| panic!("{uid} not reported:\n{said}"))
    };
    for p in [&placed[0], &placed[2], &placed[3]] {
        let r = result(p.uid);
        let written = r["output"]
            .as_str()
            .unwrap_or_else(|| panic!("{}:\n{said}", p.uid));
        assert_eq!(
            std::fs::read(written).unwrap(),
            p.data,
            "{} bit-exact",
            p.uid
        );
        assert_eq!(r["verified"], true);
    }
    let on_disk = |(s, e): (u64, u64)| json!([{"source": src, "start": s, "end": e}]);
    // v17: Reed–Solomon rebuilt what could not be read; the report says where it was.
    let (s0, s1) = sectors(bad[0].0, bad[0].1);
    let a = result(placed[0].uid);
    assert_eq!(a["status"], "repaired", "{said}");
    assert_eq!(a["unreadable"], on_disk((s0, s1)), "{said}");
    assert_eq!(a["unreadable_bytes"], s1 - s0);
    for p in [&placed[2], &placed[3]] {
        assert_eq!(result(p.uid)["status"], "complete");
        assert_eq!(result(p.uid)["unreadable"], json!([]));
    }
    // v1: exactly the data of the blocks on the unreadable sectors is missing.
    let (s0, s1) = sectors(bad[1].0, bad[1].1);
    let b = result(placed[1].uid);
    let (first, last) = ((s0 - placed[1].at) / 512, (s1 - 1 - placed[1].at) / 512);
    assert_eq!(b["status"], "partial", "{said}");
    assert_eq!(
        b["missing"],
        json!([{
            "first_seq": first, "last_seq": last, "blocks": last - first + 1,
            "byte_start": (first - 1) * 496, "byte_end": last * 496,
        }]),
        "{said}"
    );
    assert_eq!(b["missing_bytes"], (last - first + 1) * 496);
    assert_eq!(b["unreadable"], on_disk((s0, s1)), "{said}");
    assert_eq!(
        b["output"],
        Value::Null,
        "an incomplete file is not written unasked"
    );

    // Only what parity repaired: exit 0.
    let out2 = dir.path().join("out2");
    let (code, doc, said) = run_json(
        &[
            "recover",
            "--json",
            "--catalog",
            cat,
            "--out",
            out2.to_str().unwrap(),
            "--uid",
            placed[0].uid,
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{said}");
    let r = &doc["report"]["results"][0];
    assert_eq!(
        std::fs::read(r["output"].as_str().unwrap()).unwrap(),
        placed[0].data
    );
}
