//! FAT12/16/32 snapshots and verified recovery (issue 14) on images built at test time with
//! mkfs.fat + mtools: every file's extents against `mshowfat`, a FAT32 photo in ≥ 5
//! fragments deleted and partly overwritten (exact damaged ranges, exit 2) or not (bit-exact,
//! exit 0), FAT12 and FAT16 round trips, hostile FATs (loops, clusters past the end, a damaged
//! first FAT), and the map's owners and file-system structures.

mod common;

use common::fatimg::{clusters, del, mkdir, mkfs, put, reset_hint, scribble};
use common::{noise, seqbox, show};
use seqbox::engine::CancelFlag;
use seqbox::engine::fs::recover::{self, RecoverOpts, RecoverReport, Verdict};
use seqbox::engine::fs::snapshot::{self, CreateOpts, CreateReport};
use seqbox::engine::fs::{self, FsType, Snapshots};
use std::path::{Path, PathBuf};

fn snap(img: &Path, db: &Path) -> CreateReport {
    let opts = CreateOpts {
        image: img.to_path_buf(),
        offset: None,
        out: db.to_path_buf(),
        map_only: false,
    };
    snapshot::create(&opts, &CancelFlag::default(), &|_| {}).expect("snapshot")
}

fn recover(db: &Path, img: &Path, out: &Path, paths: &[&str]) -> RecoverReport {
    let opts = RecoverOpts {
        snapshot: db.to_path_buf(),
        image: img.to_path_buf(),
        paths: paths.iter().map(|p| p.as_bytes().to_vec()).collect(),
        out_dir: out.to_path_buf(),
        ..RecoverOpts::default()
    };
    recover::run(&opts, &CancelFlag::default(), &|_| {}).expect("recover")
}

/// Every file's extents, as (first cluster, count) runs, against mtools' own view.
fn cross_check(img: &Path, files: &[&str]) {
    let vol = fs::open(img, None).unwrap();
    let tree = vol.walk(&CancelFlag::default()).unwrap();
    for name in files {
        let rec = tree
            .files
            .iter()
            .find(|f| f.paths[0].eq_ignore_ascii_case(name.as_bytes()))
            .unwrap_or_else(|| panic!("{name} not walked: {:?}", tree.files));
        let ours: Vec<(u64, u64)> = rec
            .extents
            .iter()
            .map(|e| (e.physical + 2, e.len))
            .collect();
        assert_eq!(ours, clusters(img, name), "{name}");
    }
}

/// A FAT32 volume with 512-byte clusters holding a photo in 5 fragments: ten 4-cluster files,
/// every other one deleted, the photo written into the gaps.
fn fragmented_fat32(dir: &Path) -> (PathBuf, Vec<u8>) {
    let img = dir.join("card.img");
    mkfs(&img, 32, 1, 40_000);
    for i in 1..=10 {
        put(&img, &format!("/g{i}.dat"), &noise(2048, i));
    }
    for i in [2, 4, 6, 8] {
        del(&img, &format!("/g{i}.dat"));
    }
    let photo = noise(4 * 4 * 512 + 3000, 99);
    mkdir(&img, "/DCIM");
    reset_hint(&img);
    put(&img, "/DCIM/Holiday photo.jpg", &photo);
    (img, photo)
}

#[test]
fn fat32_photo_in_five_fragments_partly_overwritten_gives_exact_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (img, photo) = fragmented_fat32(d);
    let name = "/DCIM/Holiday photo.jpg";
    let runs = clusters(&img, name);
    assert!(runs.len() >= 5, "photo not fragmented: {runs:?}");
    cross_check(&img, &[name, "/g1.dat", "/g9.dat"]);
    let db = d.join("card.snapshot.sqlite");
    let rep = snap(&img, &db);
    assert_eq!(rep.fs_type, FsType::Fat32);
    assert_eq!(rep.fs_uuid, "1234-ABCD");
    assert_eq!(rep.files, 7, "{rep:?}");
    assert!(rep.problems.is_empty(), "{:?}", rep.problems);

    del(&img, name);
    let other = noise(3000, 7);
    put(&img, "/other.bin", &other);
    let taken: Vec<u64> = clusters(&img, "/other.bin")
        .iter()
        .flat_map(|&(s, n)| s..s + n)
        .collect();
    // The photo's logical clusters that the new file took, as byte ranges.
    let mut want: Vec<(u64, u64)> = Vec::new();
    let mut logical = 0;
    for &(s, n) in &runs {
        for c in s..s + n {
            if taken.contains(&c) {
                let (a, b) = (logical * 512, ((logical + 1) * 512).min(photo.len() as u64));
                match want.last_mut() {
                    Some(l) if l.1 == a => l.1 = b,
                    _ => want.push((a, b)),
                }
            }
            logical += 1;
        }
    }
    assert!(
        !want.is_empty(),
        "the new file missed the photo: {taken:?} {runs:?}"
    );

    let out = d.join("out");
    let r = recover(&db, &img, &out, &[name]);
    let f = &r.files[0];
    assert_eq!(f.damaged, want, "{f:?}");
    assert!(matches!(f.verdict, Verdict::Partial { .. }), "{f:?}");
    assert_eq!(f.now, fs::Now::Deleted);
    let got = std::fs::read(f.out_path.as_ref().unwrap()).unwrap();
    assert_eq!(got.len(), photo.len());
    let mut expect = photo.clone();
    for &(a, b) in &want {
        expect[a as usize..b as usize].fill(0);
    }
    assert!(
        got == expect,
        "intact clusters not bit-exact or damage not zero-filled"
    );

    // The CLI says the same, with exit code 2 and the exact byte ranges.
    let o = seqbox(
        &[
            "snapshot",
            "recover",
            "card.snapshot.sqlite",
            "card.img",
            "--out",
            "cli",
            "--path",
            name,
        ],
        d,
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", show(&o, d));
    let text = String::from_utf8_lossy(&o.stdout);
    let first = format!("overwritten (bytes {}–{}", want[0].0, want[0].1 - 1);
    assert!(
        text.contains("Partly recovered") && text.contains(&first),
        "{text}"
    );
}

#[test]
fn fat32_deleted_photo_not_overwritten_comes_back_bit_exact_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (img, photo) = fragmented_fat32(d);
    let o = seqbox(
        &["snapshot", "create", "card.img", "--output", "s.sqlite"],
        d,
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    assert!(String::from_utf8_lossy(&o.stdout).contains("FAT32 file system 1234-ABCD"));
    del(&img, "/DCIM/Holiday photo.jpg");
    let o = seqbox(
        &[
            "snapshot", "recover", "s.sqlite", "card.img", "--out", "out",
        ],
        d,
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("deleted since the snapshot"), "{text}");
    let got = std::fs::read(d.join("out/DCIM/Holiday photo.jpg")).unwrap();
    assert!(got == photo);
    for i in [1, 3, 5, 7, 9] {
        assert_eq!(
            std::fs::read(d.join(format!("out/g{i}.dat"))).unwrap(),
            noise(2048, i)
        );
    }
    // Another volume is refused.
    let other = d.join("other.img");
    mkfs(&other, 12, 1, 1440);
    let o = seqbox(
        &[
            "snapshot",
            "recover",
            "s.sqlite",
            "other.img",
            "--out",
            "o2",
        ],
        d,
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("This snapshot belongs to a different disk."),
        "{}",
        show(&o, d)
    );
}

/// FAT12 (floppy) and FAT16: folders, long names, fragmented files; extents like mtools';
/// a deleted fragmented file back bit-exact.
#[test]
fn fat12_and_fat16_round_trip() {
    for (bits, kib, t) in [(12u8, 1440u64, FsType::Fat12), (16, 8192, FsType::Fat16)] {
        let dir = tempfile::tempdir().unwrap();
        let img = dir.path().join("v.img");
        mkfs(&img, bits, 1, kib);
        for i in 1..=6 {
            put(&img, &format!("/p{i}"), &noise(1500, i));
        }
        del(&img, "/p2");
        del(&img, "/p4");
        mkdir(&img, "/Some folder");
        let big = noise(4000, 50);
        put(&img, "/Some folder/A rather long name.bin", &big);
        let names = ["/p1", "/p3", "/Some folder/A rather long name.bin"];
        cross_check(&img, &names);
        assert!(clusters(&img, names[2]).len() >= 2);
        let db = dir.path().join("s.sqlite");
        let rep = snap(&img, &db);
        assert_eq!(rep.fs_type, t);
        assert_eq!((rep.files, rep.dirs), (5, 2), "{rep:?}");
        let info = Snapshots::open(&db).unwrap().info(None).unwrap();
        assert_eq!(info.fs_type, t);
        del(&img, names[2]);
        let r = recover(&db, &img, &dir.path().join("out"), &["/Some folder"]);
        assert_eq!(r.identical, 1, "{r:?}");
        let got = std::fs::read(dir.path().join("out/Some folder/A rather long name.bin"));
        assert!(got.unwrap() == big, "{t}");
    }
}

/// Set FAT16 entry `cluster` in FAT copy `fat` (one reserved sector, `fat_sectors` each).
fn fat16_entry_at(img: &Path, fat_sectors: u64, fat: u64, cluster: u64, value: u16) {
    scribble(
        img,
        512 + fat * fat_sectors * 512 + cluster * 2,
        &value.to_le_bytes(),
    );
}

#[test]
fn hostile_fats_are_problems_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("h.img");
    mkfs(&img, 16, 1, 8192);
    put(&img, "/loop.bin", &noise(3000, 1));
    put(&img, "/far.bin", &noise(3000, 2));
    let l = clusters(&img, "/loop.bin")[0].0;
    let f = clusters(&img, "/far.bin")[0].0;
    let b = std::fs::read(&img).unwrap();
    let fat_sectors = u64::from(u16::from_le_bytes([b[22], b[23]]));
    assert_eq!(
        u16::from_le_bytes([b[14], b[15]]),
        1,
        "one reserved sector assumed"
    );
    for fat in 0..2 {
        fat16_entry_at(&img, fat_sectors, fat, l + 2, l as u16); // loops back to the start
        fat16_entry_at(&img, fat_sectors, fat, f + 1, 0xFFF0); // past the last cluster
    }
    let db = dir.path().join("s.sqlite");
    let rep = snap(&img, &db);
    let said: Vec<String> = rep.problems.iter().map(|p| p.to_string()).collect();
    assert!(
        said.iter()
            .any(|p| p.contains(&format!("loops back to cluster {l}")) && p.contains("/loop.bin")),
        "{said:?}"
    );
    assert!(
        said.iter().any(|p| p.contains("cluster 65520 is outside")),
        "{said:?}"
    );
    assert!(
        said.iter()
            .any(|p| p.contains("only 1024 of its 3000 bytes have clusters")),
        "{said:?}"
    );
    // Its end is unknown: never called identical, and said.
    let r = recover(&db, &img, &dir.path().join("cut"), &["/far.bin"]);
    let f = &r.files[0];
    assert_ne!(f.verdict, Verdict::Identical, "{f:?}");
    assert!(
        f.reasons.iter().any(|r| r.contains("cannot be verified")),
        "{f:?}"
    );

    // The first FAT damaged: the second is used, and said.
    let img2 = dir.path().join("d.img");
    mkfs(&img2, 16, 1, 8192);
    let data = noise(5000, 3);
    put(&img2, "/keep.bin", &data);
    scribble(&img2, 512, &[0u8; 512]);
    let rep = snap(&img2, &dir.path().join("s2.sqlite"));
    let said: Vec<String> = rep.problems.iter().map(|p| p.to_string()).collect();
    assert!(
        said.iter()
            .any(|p| p.contains("FAT copy 1 is unreadable or damaged")),
        "{said:?}"
    );
    assert!(
        said.iter().any(|p| p.contains("FAT copy 2 used instead")),
        "{said:?}"
    );
    let r = recover(
        &dir.path().join("s2.sqlite"),
        &img2,
        &dir.path().join("o"),
        &[],
    );
    assert_eq!(r.identical, 1, "{r:?}");

    // A boot sector with nonsense geometry, and an image cut short: errors, not panics.
    let img3 = dir.path().join("g.img");
    std::fs::copy(&img2, &img3).unwrap();
    scribble(&img3, 22, &[0, 0]);
    let e = fs::open(&img3, None).err().expect("refused").to_string();
    assert!(e.contains("FAT"), "{e}");
    let img4 = dir.path().join("t.img");
    std::fs::write(&img4, &std::fs::read(&img2).unwrap()[..4096]).unwrap();
    let e = fs::open(&img4, None).err().expect("refused").to_string();
    assert!(
        e.contains("past the end") || e.contains("no FAT copy"),
        "{e}"
    );
}

#[test]
fn the_map_names_fat_files_and_structures() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("f.img");
    mkfs(&img, 12, 1, 1440);
    put(&img, "/one.txt", &noise(1200, 1));
    put(&img, "/two.txt", &noise(700, 2));
    let (runs, structures) = fs::owners::live_map(&img, &CancelFlag::default()).unwrap();
    // 1.44 MB floppy: 1 reserved sector, 2 FATs of 9 sectors, 14 root sectors; data at 33.
    let data = 33 * 512;
    let c = clusters(&img, "/one.txt")[0].0;
    let r = fs::owners::owners_between(&runs, data + (c - 2) * 512, data + (c - 2) * 512 + 1, 1);
    assert_eq!(r[0].path, b"/one.txt");
    assert_eq!(
        (r[0].byte_start, r[0].byte_len),
        (data + (c - 2) * 512, 3 * 512)
    );
    let what: Vec<(u64, u64, &str)> = structures
        .iter()
        .map(|s| (s.byte_start, s.byte_len, s.what.as_str()))
        .collect();
    assert_eq!(
        what,
        vec![
            (0, 512, "boot sector and reserved sectors"),
            (512, 9 * 512, "FAT copy 1"),
            (10 * 512, 9 * 512, "FAT copy 2"),
            (19 * 512, 14 * 512, "root directory"),
        ]
    );
}

#[test]
fn the_hover_list_holds_files_and_structures_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("f.img");
    mkfs(&img, 12, 1, 1440);
    put(&img, "/one.txt", &noise(1200, 1));
    let runs = fs::owners::owner_runs(&img, &CancelFlag::default()).unwrap();
    let at = |b: u64| {
        let r = fs::owners::owners_between(&runs, b, b + 1, 1);
        (r[0].kind, String::from_utf8_lossy(&r[0].path).into_owned())
    };
    assert_eq!(at(600), (fs::RunKind::Structure, "FAT copy 1".into()));
    assert_eq!(
        at(19 * 512),
        (fs::RunKind::Structure, "root directory".into())
    );
    assert_eq!(at(33 * 512), (fs::RunKind::Data, "/one.txt".into()));
    assert!(
        runs.windows(2)
            .all(|w| w[0].byte_start + w[0].byte_len <= w[1].byte_start)
    );
}

/// A scan of a FAT image draws the boot sector, FATs and root directory as file-system
/// structures, and the files' clusters as other data.
#[test]
fn a_scan_classes_fat_structures_apart() {
    use seqbox::engine::catalog::{Catalog, SectorClass};
    use seqbox::engine::scan::{self, ScanOpts};
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("f.img");
    mkfs(&img, 12, 1, 1440);
    put(&img, "/one.txt", &noise(1200, 1));
    let cat = dir.path().join("c.sqlite");
    let opts = ScanOpts {
        sources: vec![img.clone()],
        catalog: cat.clone(),
        password: None,
        from: None,
        to: None,
        uids: Vec::new(),
    };
    scan::run(&opts, &CancelFlag::default(), &|_| {}).expect("scan");
    let c = Catalog::open_existing(&cat).unwrap();
    let runs = c.runs(1, 0, 2880).unwrap();
    let class_at = |s: u64| {
        runs.iter()
            .find(|r| r.start_sector <= s && s < r.start_sector + r.sectors)
            .map(|r| r.class)
    };
    // Boot sector, the first sectors of both FATs and of the root directory hold data.
    for s in [0, 1, 10, 19] {
        assert_eq!(
            class_at(s),
            Some(SectorClass::FsStructure),
            "sector {s}: {runs:?}"
        );
    }
    // The file's clusters stay other data; the free data area is empty.
    let c1 = clusters(&img, "/one.txt")[0].0;
    assert_eq!(class_at(33 + c1 - 2), Some(SectorClass::Other));
    assert_eq!(class_at(2000), Some(SectorClass::Empty));
}

/// A FAT volume inside an MBR disk is found at its partition; two are listed, not guessed.
#[test]
fn fat_in_mbr_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let vol = dir.path().join("v.img");
    mkfs(&vol, 16, 1, 8192);
    let data = noise(7000, 5);
    put(&vol, "/in a partition.bin", &data);
    let v = std::fs::read(&vol).unwrap();
    let disk = |parts: &[u32]| {
        let mut d = vec![0u8; (1 << 20) * (1 + 9 * parts.len())];
        for (i, &start) in parts.iter().enumerate() {
            let e = &mut d[446 + 16 * i..462 + 16 * i];
            e[4] = 0x06;
            e[8..12].copy_from_slice(&start.to_le_bytes());
            e[12..16].copy_from_slice(&((v.len() / 512) as u32).to_le_bytes());
            let at = start as usize * 512;
            d[at..at + v.len()].copy_from_slice(&v);
        }
        d[510] = 0x55;
        d[511] = 0xAA;
        d
    };
    let one = dir.path().join("one.img");
    std::fs::write(&one, disk(&[2048])).unwrap();
    let db = dir.path().join("s.sqlite");
    let rep = snap(&one, &db);
    assert_eq!(
        (rep.fs_type, rep.partition_offset),
        (FsType::Fat16, 1 << 20)
    );
    let r = recover(&db, &one, &dir.path().join("out"), &[]);
    assert_eq!(r.identical, 1, "{r:?}");
    assert!(std::fs::read(dir.path().join("out/in a partition.bin")).unwrap() == data);
    let two = dir.path().join("two.img");
    std::fs::write(&two, disk(&[2048, 2048 + 18432])).unwrap();
    let e = fs::open(&two, None).err().expect("several").to_string();
    assert!(
        e.contains("partition 1 at byte 1048576 (8 MiB, FAT)")
            && e.contains("partition 2 at byte 10485760 (8 MiB, FAT)"),
        "{e}"
    );
}
