//! Scan and recover end to end, on scenario images built here: containers of several
//! versions and ordinary data cut into pieces, shuffled, interleaved with random and zero
//! data at unaligned offsets, damaged, and spread over two images that each miss different
//! blocks; the SeqBox README's floppy demo; resuming a cancelled scan; conflicting copies.

mod common;

use common::*;
use seqbox::engine::catalog::{Catalog, SectorClass};
use seqbox::engine::encode::{EncodeOpts, RsParams, Target};
use seqbox::engine::recover::{RecoverOpts, RecoverStatus, Selection};
use seqbox::engine::scan::ScanOpts;
use seqbox::engine::{CancelFlag, Error, demo, encode, recover, scan};
use seqbox::format::Version;
use seqbox::format::block::{parse_uid, write_header};
use std::path::{Path, PathBuf};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Encode `data` as `name` and return the container's bytes.
fn container(
    dir: &Path,
    name: &str,
    data: &[u8],
    version: Version,
    rs: RsParams,
    uid: &str,
) -> Vec<u8> {
    let input = dir.join(name);
    std::fs::write(&input, data).unwrap();
    let out = dir.join(format!("{name}.sbx"));
    let opts = EncodeOpts {
        output: Target::File(out.clone()),
        version,
        rs,
        uid: Some(parse_uid(uid).unwrap()),
        sbx_time: Some(1_700_000_000),
        ..EncodeOpts::new(&input)
    };
    encode::run(&opts, &CancelFlag::new(), &|_| {}).unwrap();
    std::fs::read(out).unwrap()
}

fn scan_into(catalog: &Path, sources: &[PathBuf]) -> scan::ScanReport {
    let opts = ScanOpts {
        sources: sources.to_vec(),
        catalog: catalog.to_path_buf(),
        ..Default::default()
    };
    scan::run(&opts, &CancelFlag::new(), &|_| {}).unwrap()
}

fn recover_all(catalog: &Path, out: &Path, partial: bool) -> recover::RecoverReport {
    let opts = RecoverOpts {
        catalog: catalog.to_path_buf(),
        out_dir: out.to_path_buf(),
        select: Selection::All,
        partial,
        password: None,
    };
    recover::run(&opts, &CancelFlag::new(), &|_| {}).unwrap()
}

/// A piece of an image: bytes plus what they are, for the test's bookkeeping.
struct Piece(Vec<u8>);

#[test]
fn containers_scattered_over_two_damaged_images_come_back_as_far_as_the_maths_allows() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("alpha.doc", noise(30_000, 1)),
        ("beta.jpg", noise(20_000, 2)),
        ("gamma.raw", noise(60_000, 3)),
        ("delta.txt", noise(8_000, 4)),
        ("eps.bin", noise(40_000, 5)),
    ];
    let alpha = container(
        d,
        files[0].0,
        &files[0].1,
        Version::V1,
        RsParams::default(),
        "a1",
    );
    let beta = container(
        d,
        files[1].0,
        &files[1].1,
        Version::V3,
        RsParams::default(),
        "b3",
    );
    let gamma = container(
        d,
        files[2].0,
        &files[2].1,
        Version::V17,
        RsParams::default(),
        "c17",
    );
    let delta = container(
        d,
        files[3].0,
        &files[3].1,
        Version::V1,
        RsParams::default(),
        "d1",
    );
    let eps = container(
        d,
        files[4].0,
        &files[4].1,
        Version::V17,
        RsParams {
            data: 4,
            parity: 2,
            burst: 0,
        },
        "e17",
    );
    let blocks =
        |c: &[u8], bs: usize| -> Vec<Vec<u8>> { c.chunks(bs).map(<[u8]>::to_vec).collect() };

    let mut rng = Rng(99);
    let image = |skip: &dyn Fn(&str, usize) -> bool,
                 damage: &dyn Fn(&str, usize) -> bool,
                 rng: &mut Rng|
     -> Vec<u8> {
        let mut pieces: Vec<Piece> = Vec::new();
        for (name, c, bs) in [
            ("alpha", &alpha, 512),
            ("beta", &beta, 4096),
            ("delta", &delta, 512),
            ("eps", &eps, 512),
        ] {
            for (i, mut b) in blocks(c, bs).into_iter().enumerate() {
                if skip(name, i) {
                    continue;
                }
                if damage(name, i) {
                    b[bs / 2] ^= 0x55; // bad CRC: a damaged copy
                }
                pieces.push(Piece(b));
            }
        }
        for k in 0..60 {
            let len = 512 * (1 + rng.below(8) as usize);
            pieces.push(Piece(if k % 3 == 0 {
                vec![0; len]
            } else {
                noise(len, 1000 + k)
            }));
        }
        // Shuffle, and put odd-sized junk between pieces so most blocks sit unaligned.
        for i in (1..pieces.len()).rev() {
            pieces.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let mut out = Vec::new();
        for p in pieces {
            out.extend_from_slice(&noise(rng.below(700) as usize, rng.next()));
            out.extend_from_slice(&p.0);
        }
        out
    };
    // Image 1 lacks alpha's blocks 3-4 and eps's 5, has damaged copies of alpha 7 and beta 2.
    // Image 2 lacks alpha 10 and eps 9. Neither has delta's block 2 nor eps's block 5 (which
    // Reed–Solomon rebuilds).
    let img1 = image(
        &|n, i| {
            (n == "alpha" && (i == 3 || i == 4))
                || (n == "eps" && i == 5)
                || (n == "delta" && i == 2)
        },
        &|n, i| (n == "alpha" && i == 7) || (n == "beta" && i == 2),
        &mut rng,
    );
    let mut img2 = image(
        &|n, i| {
            (n == "alpha" && i == 10)
                || (n == "eps" && (i == 5 || i == 9))
                || (n == "delta" && i == 2)
        },
        &|_, _| false,
        &mut rng,
    );
    // Gamma (v17, burst 12) lies whole and contiguous in image 2 at an odd offset, with two
    // blocks of every block set zeroed: Reed–Solomon must rebuild it.
    let at = img2.len() + 333;
    img2.extend_from_slice(&noise(333, 7));
    let mut g = gamma.clone();
    let layout = seqbox::format::rs::Layout::rs(Version::V17, 10, 2, 12).unwrap();
    for set in 0..layout.sets_for(60_000) {
        for shard in [set as usize % 12, (set as usize + 5) % 12] {
            let k = layout.slot_of(layout.seq_of(set, shard).unwrap()) as usize;
            g[k * 512..(k + 1) * 512].fill(0);
        }
    }
    img2.extend_from_slice(&g);
    assert_ne!(at % 512, 0);

    let p1 = d.join("disk1.img");
    let p2 = d.join("disk2.img");
    std::fs::write(&p1, &img1).unwrap();
    std::fs::write(&p2, &img2).unwrap();
    let (h1, h2) = (sha256_file(&p1), sha256_file(&p2));

    let cat = d.join("scan.sqlite");
    let report = scan_into(&cat, &[p1.clone(), p2.clone()]);
    assert_eq!(report.containers, 5);
    assert!(
        report.sources[0].damaged_blocks >= 2,
        "{:?}",
        report.sources[0]
    );

    let out = d.join("recovered");
    let r = recover_all(&cat, &out, true);
    assert_eq!(
        (sha256_file(&p1), sha256_file(&p2)),
        (h1, h2),
        "sources are never written"
    );
    let by_name = |n: &str| {
        r.results
            .iter()
            .find(|c| c.file_name.as_deref() == Some(n))
            .unwrap()
    };
    for (name, data) in &files {
        let c = by_name(name);
        if *name == "delta.txt" {
            // Block 2 (file bytes 496..992) is in neither image.
            assert_eq!(c.status, RecoverStatus::Partial, "{c:?}");
            assert_eq!(c.missing.len(), 1);
            assert_eq!((c.missing[0].byte_start, c.missing[0].byte_end), (496, 992));
            assert_eq!(c.missing_bytes, 496);
            let out = c.output.as_ref().expect("--partial writes it");
            assert_eq!(
                out.file_name().unwrap(),
                "delta (incomplete).txt",
                "an incomplete file says so in its name"
            );
            let got = std::fs::read(out).unwrap();
            assert_eq!(got.len(), data.len());
            assert_eq!(&got[..496], &data[..496]);
            assert!(
                got[496..992].iter().all(|&b| b == 0),
                "holes are zero-filled"
            );
            assert_eq!(&got[992..], &data[992..]);
            continue;
        }
        assert!(c.verified, "{name}: {c:?}");
        let expected = if *name == "gamma.raw" || *name == "eps.bin" {
            RecoverStatus::Repaired
        } else {
            RecoverStatus::Complete
        };
        assert_eq!(c.status, expected, "{name}");
        assert!(
            std::fs::read(c.output.as_ref().unwrap()).unwrap() == *data,
            "{name}"
        );
    }
    assert!(!r.success(), "one container is partial");

    // The layout marks the SBX blocks per container, the zeros and the rest.
    let catalog = Catalog::open_existing(&cat).unwrap();
    let runs = catalog.runs(2, 0, u64::MAX).unwrap();
    let count = |class: SectorClass| {
        runs.iter()
            .filter(|r| r.class == class)
            .map(|r| r.sectors)
            .sum::<u64>()
    };
    assert!(
        count(SectorClass::SbxParity) >= 15,
        "gamma's parity is classed as parity: {}",
        count(SectorClass::SbxParity)
    );
    assert!(count(SectorClass::SbxData) > 100 && count(SectorClass::SbxMeta) >= 3);
    assert!(count(SectorClass::Empty) > 0 && count(SectorClass::Other) > 0);
    let sectors: u64 = runs.iter().map(|r| r.sectors).sum();
    assert_eq!(
        sectors,
        (img2.len() as u64).div_ceil(512),
        "runs tile the source"
    );
}

#[test]
fn the_seqbox_floppy_demo_two_files_come_back_from_a_wiped_scrambled_disk() {
    // The engine's demo does what the SeqBox README does by hand: files and their SBX copies
    // on a fragmented floppy, system area wiped, sectors scrambled, then scan and recover.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text: Vec<u8> = (0..300)
        .flat_map(|i| format!("line {i}: the quick brown fox\n").into_bytes())
        .collect();
    let picture = noise(70_000, 42);
    std::fs::write(d.join("README.TXT"), &text).unwrap();
    std::fs::write(d.join("PIC.JPG"), &picture).unwrap();
    let opts = demo::DemoOpts {
        out_dir: d.join("demo"),
        seed: 7,
        files: vec![d.join("README.TXT"), d.join("PIC.JPG")],
    };
    let r = demo::run(&opts, &CancelFlag::new(), &|_| {}).unwrap();
    assert!(r.success(), "{r:#?}");
    assert!(r.files[1].sbx_fragments > 1, "the SBX copy is fragmented");
    let scrambled = &r.stages[2];
    let before = sha256_file(&scrambled.image);
    let cat = d.join("again.sqlite");
    scan_into(&cat, std::slice::from_ref(&scrambled.image));
    let again = recover_all(&cat, &d.join("out"), false);
    assert_eq!(sha256_file(&scrambled.image), before);
    assert_eq!(again.results.len(), 2);
    assert!(again.success(), "{again:?}");
    for (name, data) in [("README.TXT", &text), ("PIC.JPG", &picture)] {
        let c = again
            .results
            .iter()
            .find(|c| c.file_name.as_deref() == Some(name))
            .unwrap();
        assert_eq!(c.status, RecoverStatus::Complete);
        assert!(
            std::fs::read(c.output.as_ref().unwrap()).unwrap() == *data,
            "{name}"
        );
    }
}

#[test]
fn a_cancelled_scan_resumes_where_it_stopped_and_finds_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = noise(5 << 20, 8);
    let sbx = container(
        d,
        "big.bin",
        &data,
        Version::V17,
        RsParams::default(),
        "bb17",
    );
    // The container starts unaligned, well past the first read, so many of its blocks
    // straddle two reads.
    let mut img = noise((9 << 20) + 333, 9);
    img.extend_from_slice(&sbx);
    img.extend_from_slice(&vec![0; 3 << 20]);
    let p = d.join("disk.img");
    std::fs::write(&p, &img).unwrap();

    let cat = d.join("resume.sqlite");
    let cancel = CancelFlag::new();
    let opts = ScanOpts {
        sources: vec![p.clone()],
        catalog: cat.clone(),
        ..Default::default()
    };
    // Stop after the first piece is committed, as a user pressing Cancel (or a kill) would.
    let r = scan::run(&opts, &cancel, &|pr| {
        if pr.bytes_done > 0 {
            cancel.cancel();
        }
    });
    assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
    let done = Catalog::open_existing(&cat).unwrap().sources().unwrap()[0].scanned_to;
    assert!(done > 0 && done < img.len() as u64, "{done}");

    let resumed = scan_into(&cat, std::slice::from_ref(&p));
    assert!(resumed.sources[0].resumed);
    assert_eq!(resumed.sources[0].started_at, done);
    let full = scan_into(&d.join("full.sqlite"), std::slice::from_ref(&p));
    let a = Catalog::open_existing(&cat).unwrap().containers().unwrap();
    let b = Catalog::open_existing(&d.join("full.sqlite"))
        .unwrap()
        .containers()
        .unwrap();
    assert_eq!(a.len(), 1);
    assert_eq!(
        (a[0].blocks_found, a[0].copies),
        (b[0].blocks_found, b[0].copies)
    );
    assert_eq!(a[0].blocks_found, a[0].blocks_expected.unwrap());
    assert_eq!(
        full.sources[0].blocks,
        resumed.sources[0].blocks + (a[0].copies - resumed.sources[0].blocks)
    );
    let r = recover_all(&cat, &d.join("out"), false);
    assert!(r.success());
    assert!(std::fs::read(r.results[0].output.as_ref().unwrap()).unwrap() == data);
}

#[test]
fn when_copies_disagree_the_majority_wins_and_the_conflict_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = noise(5000, 10);
    let sbx = container(d, "f.bin", &data, Version::V1, RsParams::default(), "cc01");
    // A stale copy of block 4 with other content but a valid CRC, in two of three images.
    let mut stale = sbx[4 * 512..5 * 512].to_vec();
    stale[100] ^= 0xFF;
    let uid: [u8; 6] = stale[6..12].try_into().unwrap();
    write_header(&mut stale, Version::V1, &uid, 4);
    let mut paths = Vec::new();
    for (i, block4) in [&sbx[4 * 512..5 * 512], &stale[..], &sbx[4 * 512..5 * 512]]
        .into_iter()
        .enumerate()
    {
        let mut img = sbx.clone();
        img[4 * 512..5 * 512].copy_from_slice(block4);
        img.extend_from_slice(&noise(1000, 20 + i as u64)); // three different images
        let p = d.join(format!("img{i}"));
        std::fs::write(&p, &img).unwrap();
        paths.push(p);
    }
    let cat = d.join("c.sqlite");
    scan_into(&cat, &paths);
    let r = recover_all(&cat, &d.join("out"), false);
    let c = &r.results[0];
    assert_eq!(c.status, RecoverStatus::Complete);
    assert!(std::fs::read(c.output.as_ref().unwrap()).unwrap() == data);
    assert_eq!(c.conflicts.len(), 1);
    assert_eq!(
        (
            c.conflicts[0].seq,
            c.conflicts[0].copies,
            c.conflicts[0].agreeing
        ),
        (4, 3, 2)
    );
}

#[test]
fn the_cli_lists_recovers_by_name_and_exits_2_on_anything_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = container(
        d,
        "good.txt",
        &noise(3000, 11),
        Version::V1,
        RsParams::default(),
        "1001",
    );
    let bad = container(
        d,
        "bad.txt",
        &noise(3000, 12),
        Version::V1,
        RsParams::default(),
        "1002",
    );
    let mut img = good.clone();
    img.extend_from_slice(&bad[..3 * 512]); // bad.txt loses its last blocks
    img.extend_from_slice(&[0u8; 4096]);
    std::fs::write(d.join("disk.img"), &img).unwrap();
    let out = seqbox(
        &["scan", "--catalog", "c.sqlite", "--json", "disk.img"],
        d,
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    let out = seqbox(&["catalog", "c.sqlite"], d, &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("good.txt") && text.contains("7/7") && text.contains("2/7"),
        "{text}"
    );

    let out = seqbox(
        &[
            "recover",
            "--catalog",
            "c.sqlite",
            "--out",
            "o1",
            "--name",
            "good*",
        ],
        d,
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    assert_eq!(std::fs::read_dir(d.join("o1")).unwrap().count(), 1);

    let out = seqbox(
        &["recover", "--catalog", "c.sqlite", "--out", "o2", "--json"],
        d,
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, d));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = doc["report"]["results"].as_array().unwrap();
    let bad = results
        .iter()
        .find(|r| r["file_name"] == "bad.txt")
        .unwrap();
    assert_eq!(bad["status"], "partial");
    assert_eq!(bad["missing"][0]["byte_start"], 2 * 496);
    assert_eq!(bad["missing"][0]["byte_end"], 3000);
    assert_eq!(
        bad["output"],
        serde_json::Value::Null,
        "partial files only on request"
    );
    assert_eq!(std::fs::read_dir(d.join("o2")).unwrap().count(), 1);
}

#[test]
fn password_containers_are_found_and_recovered_with_their_password() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut img = noise(5000, 30);
    img.extend_from_slice(&std::fs::read(data("seqbox/r100k.v1.pw-chbs.sbx")).unwrap());
    img.extend_from_slice(&noise(3000, 31));
    let p = d.join("disk.img");
    std::fs::write(&p, &img).unwrap();
    let cat = d.join("pw.sqlite");
    let opts = ScanOpts {
        sources: vec![p.clone()],
        catalog: cat.clone(),
        password: Some("correct-horse-battery-staple".into()),
        ..Default::default()
    };
    let r = scan::run(&opts, &CancelFlag::new(), &|_| {}).unwrap();
    assert_eq!((r.containers, r.sources[0].blocks), (1, 203));
    let mut ropts = RecoverOpts {
        catalog: cat.clone(),
        out_dir: d.join("out"),
        select: Selection::Uids(vec![parse_uid("5eb0c5000401").unwrap()]),
        partial: false,
        password: None,
    };
    let rep = recover::run(&ropts, &CancelFlag::new(), &|_| {}).unwrap();
    assert_eq!(rep.results[0].status, RecoverStatus::NeedsPassword);
    assert!(!rep.success());
    ropts.password = Some("correct-horse-battery-staple".into());
    let rep = recover::run(&ropts, &CancelFlag::new(), &|_| {}).unwrap();
    assert!(rep.success());
    assert_eq!(
        sha256_file(rep.results[0].output.as_ref().unwrap()),
        sha256_file(&data("seqbox/r100k.bin"))
    );
    // Without the password the same image shows no SBX block at all.
    let plain = scan_into(&d.join("plain.sqlite"), &[p]);
    assert_eq!(plain.containers, 0);
}

#[test]
fn the_blocks_at_a_byte_range_say_which_sequence_numbers_lie_there() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = noise(512 * 40, 77);
    let c = container(
        d,
        "seq.bin",
        &data,
        Version::V1,
        RsParams::default(),
        "0000000000aa",
    );
    // Blocks 0..=10 at 1000 (slots 0..=10: the metadata block and data 1..=10, one run), and
    // data 31..=40 at 20 000.
    let mut image = vec![0u8; 40_000];
    image[1000..1000 + 11 * 512].copy_from_slice(&c[..11 * 512]);
    image[20_000..20_000 + 10 * 512].copy_from_slice(&c[31 * 512..41 * 512]);
    std::fs::write(d.join("img"), &image).unwrap();
    let catalog = d.join("c.sqlite");
    scan_into(&catalog, &[d.join("img")]);
    let cat = Catalog::open_existing(&catalog).unwrap();
    let src = cat.sources().unwrap()[0].id;
    let seqs = |from: u64, to: u64| -> Vec<(i64, i64)> {
        cat.blocks_between(src, from, to, 8)
            .unwrap()
            .iter()
            .map(|r| (r.seq, r.last_seq()))
            .collect()
    };
    // A range inside the first run finds it, although the run starts before the range.
    assert_eq!(seqs(3000, 3100), vec![(0, 10)]);
    assert_eq!(seqs(0, 40_000), vec![(0, 10), (31, 40)]);
    assert_eq!(
        seqs(25_200, 40_000),
        vec![],
        "after the end of the last run"
    );
    assert_eq!(seqs(18_000, 20_001), vec![(31, 40)]);
    assert_eq!(
        cat.blocks_between(src, 0, 40_000, 1).unwrap().len(),
        1,
        "limit"
    );
}

#[test]
fn a_scan_of_a_missing_image_fails_without_leaving_a_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("c.sqlite");
    let opts = ScanOpts {
        sources: vec![dir.path().join("no-such.img")],
        catalog: catalog.clone(),
        ..Default::default()
    };
    let e = scan::run(&opts, &CancelFlag::new(), &|_| {}).unwrap_err();
    assert!(matches!(e, Error::Read { .. }), "{e}");
    assert!(
        !catalog.exists(),
        "no catalogue for a scan that never started"
    );
}
