//! ext4 snapshots and verified recovery on images built at test time: fingerprinted, map-only
//! and incremental snapshots, recovery after kernel-like deletion and later damage, moved
//! blocks, a different disk, whole-disk images, hostile and truncated images, and the CLI.

mod common;

use common::ext4img::{
    self, Built, UUID, VARIANTS, build, debugfs, delete_like_kernel, payload, scribble,
};
use common::{seqbox, sha256_file, show};
use seqbox::engine::CancelFlag;
use seqbox::engine::ext4::recover::{self, RecoverOpts, Verdict};
use seqbox::engine::ext4::snapshot::{self, CreateOpts, CreateReport};
use seqbox::engine::ext4::{Fs, Image, Kind, Snapshots, display_path, mapping, walk};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn open(img: &Path) -> Fs {
    Fs::open(Image::open(img, None).unwrap()).unwrap()
}

fn snap(img: &Path, db: &Path, map_only: bool) -> CreateReport {
    let before = sha256_file(img);
    let r = snapshot::create(
        &CreateOpts {
            image: img.to_path_buf(),
            offset: None,
            out: db.to_path_buf(),
            map_only,
        },
        &CancelFlag::new(),
        &|_| {},
    )
    .unwrap();
    assert_eq!(sha256_file(img), before, "snapshot wrote to the image");
    r
}

fn recover_opts(db: &Path, img: &Path, out: &Path, paths: &[&[u8]]) -> RecoverOpts {
    RecoverOpts {
        snapshot: db.to_path_buf(),
        image: img.to_path_buf(),
        paths: paths.iter().map(|p| p.to_vec()).collect(),
        out_dir: out.to_path_buf(),
        ..Default::default()
    }
}

fn recover(opts: &RecoverOpts) -> recover::RecoverReport {
    let before = sha256_file(&opts.image);
    let r = recover::run(opts, &CancelFlag::new(), &|_| {}).unwrap();
    assert_eq!(
        sha256_file(&opts.image),
        before,
        "recovery wrote to the image"
    );
    r
}

fn out_file(out: &Path, p: &[u8]) -> PathBuf {
    recover::target_for(out, p).unwrap()
}

#[test]
fn snapshot_and_recover_everything_identical_on_every_variant() {
    let dir = tempfile::tempdir().unwrap();
    for &v in VARIANTS {
        let b = build(dir.path(), v);
        let db = dir.path().join(format!("{}.sqlite", v.name));
        let r = snap(&b.img, &db, false);
        assert!(r.problems.is_empty(), "{}: {:?}", v.name, r.problems);
        assert_eq!(r.paths as usize, b.files.len(), "{}", v.name);
        let out = dir.path().join(format!("{}-out", v.name));
        let rep = recover(&recover_opts(&db, &b.img, &out, &[]));
        assert!(
            rep.success(),
            "{}: {:#?}",
            v.name,
            rep.files
                .iter()
                .filter(|f| f.verdict != Verdict::Identical)
                .collect::<Vec<_>>()
        );
        for (p, want) in &b.files {
            let got = std::fs::read(out_file(&out, p)).unwrap();
            assert!(got == *want, "{}: {} differs", v.name, display_path(p));
        }
        let sparse = rep.files.iter().find(|f| f.path == b"/sparse.bin").unwrap();
        assert!(
            sparse
                .reasons
                .iter()
                .any(|r| r.contains("Empty areas restored as zeros")),
            "{:?}",
            sparse.reasons
        );
    }
}

#[test]
fn a_second_snapshot_rereads_only_changed_files() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path(), ext4img::variant("e4_4k"));
    let db = dir.path().join("s.sqlite");
    let first = snap(&b.img, &db, false);
    assert_eq!(first.files_reused, 0);
    let new = payload(50_000, 99);
    let f = dir.path().join("new.bin");
    std::fs::write(&f, &new).unwrap();
    debugfs(
        &b.img,
        format!("rm /docs/small.txt\nwrite {} /docs/new.bin\n", f.display()).as_bytes(),
    );
    let second = snap(&b.img, &db, false);
    assert_eq!(second.files, first.files);
    // Only the new file is read: 50,000 bytes in 13 blocks of 4 KiB.
    assert_eq!(second.files_hashed, 1, "{second:?}");
    assert_eq!(second.files_reused, first.files - 1);
    assert_eq!(second.bytes_hashed, 13 * 4096);
    let s = Snapshots::open(&db).unwrap();
    assert_eq!(s.list().unwrap().len(), 2);
    // The reused digests verify: recover everything from the second snapshot.
    let out = dir.path().join("out");
    let rep = recover(&recover_opts(&db, &b.img, &out, &[]));
    assert!(rep.success());
    assert_eq!(std::fs::read(out.join("docs/new.bin")).unwrap(), new);
}

fn victim_extents(db: &Path, victim: &[u8]) -> (u64, Vec<seqbox::engine::ext4::store::ExtentRow>) {
    let s = Snapshots::open(db).unwrap();
    let id = s.info(None).unwrap().id;
    let f = s.files(id, victim).unwrap();
    (f[0].size, s.extents(id, f[0].ino).unwrap())
}

/// Physical block of logical block `l`.
fn physical(ext: &[seqbox::engine::ext4::store::ExtentRow], l: u64) -> u64 {
    let e = ext
        .iter()
        .find(|e| l >= e.logical && l < e.logical + e.length)
        .unwrap();
    e.physical + l - e.logical
}

#[test]
fn kernel_like_deletion_is_recovered_bit_exact() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["e4_4k", "e4_1k", "e3_1k", "e4_noextent"] {
        let b = build(dir.path(), ext4img::variant(name));
        let db = dir.path().join(format!("{name}.sqlite"));
        snap(&b.img, &db, false);
        delete_like_kernel(&b.img, &b.victim);
        let stat = ext4img::debugfs_ro(&b.img, &format!("stat {}", display_path(&b.victim)));
        assert!(
            stat.contains("not found") || stat.contains("File not found"),
            "{stat}"
        );
        let out = dir.path().join(format!("{name}-out"));
        let rep = recover(&recover_opts(&db, &b.img, &out, &[b"/test"]));
        assert_eq!(rep.files.len(), 1);
        assert_eq!(
            rep.files[0].verdict,
            Verdict::Identical,
            "{name}: {:?}",
            rep.files[0]
        );
        assert_eq!(
            std::fs::read(out_file(&out, &b.victim)).unwrap(),
            b.files[&b.victim]
        );
    }
}

#[test]
fn overwritten_erased_and_reused_blocks_are_reported_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path(), ext4img::variant("e4_4k"));
    let bs = 4096;
    let db = dir.path().join("s.sqlite");
    snap(&b.img, &db, false);
    let (size, ext) = victim_extents(&db, &b.victim);
    delete_like_kernel(&b.img, &b.victim);
    // Later writes: logical blocks 0–1 and 10 overwritten, 20 zeroed (TRIM), 30 reallocated.
    for l in [0, 1, 10] {
        scribble(&b.img, physical(&ext, l) * bs, &payload(4096, 500 + l));
    }
    scribble(&b.img, physical(&ext, 20) * bs, &[0u8; 4096]);
    debugfs(&b.img, format!("setb {}\n", physical(&ext, 30)).as_bytes());
    let out = dir.path().join("out");
    let rep = recover(&recover_opts(&db, &b.img, &out, &[&b.victim]));
    let f = &rep.files[0];
    assert_eq!(
        f.damaged,
        vec![(0, 2 * bs), (10 * bs, 11 * bs), (20 * bs, 21 * bs)],
        "{f:?}"
    );
    let Verdict::Partial { percent_intact } = f.verdict else {
        panic!("{f:?}")
    };
    let expect = (size - 4 * bs) as f64 * 100.0 / size as f64;
    assert!(
        (percent_intact - expect).abs() < 0.01,
        "{percent_intact} vs {expect}"
    );
    let said = f.reasons.join("\n");
    assert!(
        said.contains("overwritten (bytes 0–8191, 40960–45055, 81920–86015)"),
        "{said}"
    );
    assert!(said.contains("The drive erased this area"), "{said}");
    assert!(
        said.contains("the disk is reusing this space — recover it now"),
        "{said}"
    );
    // Damaged ranges are zero-filled; everything else is the original.
    let got = std::fs::read(f.out_path.as_ref().unwrap()).unwrap();
    let mut want = b.files[&b.victim].clone();
    for (s, e) in &f.damaged {
        want[*s as usize..*e as usize].fill(0);
    }
    assert!(got == want);
    assert!(!rep.success());
}

#[test]
fn moved_blocks_are_found_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path(), ext4img::variant("e4_4k"));
    let bs = 4096;
    let db = dir.path().join("s.sqlite");
    snap(&b.img, &db, false);
    let (_, ext) = victim_extents(&db, &b.victim);
    delete_like_kernel(&b.img, &b.victim);
    let fs = open(&b.img);
    let free = (3000..4000u64)
        .find(|&p| fs.block_in_use(p, &mut Default::default()) == Some(false))
        .unwrap();
    drop(fs);
    let original = &b.files[&b.victim][5 * 4096..6 * 4096];
    scribble(&b.img, free * bs, original);
    scribble(&b.img, physical(&ext, 5) * bs, &payload(4096, 77));
    let out = dir.path().join("out");
    let mut opts = recover_opts(&db, &b.img, &out, &[&b.victim]);
    let rep = recover(&opts);
    assert_eq!(rep.files[0].damaged, vec![(5 * bs, 6 * bs)]);
    opts.search_moved = true;
    let rep = recover(&opts);
    let f = &rep.files[0];
    assert_eq!(f.verdict, Verdict::Identical, "{f:?}");
    assert_eq!(f.moved_bytes, bs);
    assert!(f.reasons.iter().any(|r| r.contains("found at a new place")));
    // The first recovery's incomplete file says so in its name; the whole one is big.bin.
    assert!(out.join("test/dir/big (incomplete).bin").is_file());
    assert_eq!(
        f.out_path.as_deref(),
        Some(out.join("test/dir/big.bin").as_path())
    );
}

#[test]
fn a_snapshot_of_another_disk_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path(), ext4img::variant("e4_4k"));
    let db = dir.path().join("s.sqlite");
    snap(&b.img, &db, false);
    let other_dir = dir.path().join("other");
    std::fs::create_dir(&other_dir).unwrap();
    let other = ext4img::build_with(
        &other_dir,
        ext4img::variant("e4_4k"),
        ext4img::OTHER_UUID,
        "16M",
    );
    let e = recover::run(
        &recover_opts(&db, &other.img, &dir.path().join("out"), &[]),
        &CancelFlag::new(),
        &|_| {},
    )
    .unwrap_err();
    assert_eq!(e.to_string(), recover::DIFFERENT_DISK);
    assert!(
        !dir.path().join("out").exists()
            || std::fs::read_dir(dir.path().join("out")).unwrap().count() == 0
    );
}

#[test]
fn whole_disk_image_uses_its_linux_partition_and_owner_lookups_include_the_offset() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path(), ext4img::variant("e4_4k"));
    let fs_bytes = std::fs::read(&b.img).unwrap();
    let mut disk = vec![0u8; 1 << 20];
    let e = &mut disk[446..462];
    e[4] = 0x83;
    e[8..12].copy_from_slice(&2048u32.to_le_bytes());
    e[12..16].copy_from_slice(&((fs_bytes.len() / 512) as u32).to_le_bytes());
    disk[510] = 0x55;
    disk[511] = 0xAA;
    disk.extend_from_slice(&fs_bytes);
    let img = dir.path().join("disk.img");
    std::fs::write(&img, &disk).unwrap();
    let db = dir.path().join("s.sqlite");
    let r = snap(&img, &db, false);
    assert_eq!(r.partition_offset, 1 << 20);
    let s = Snapshots::open(&db).unwrap();
    let id = r.snapshot_id;
    let runs = s.owner_runs(id).unwrap();
    assert!(runs.windows(2).all(|w| w[0].byte_start <= w[1].byte_start));
    let (_, ext) = victim_extents(&db, &b.victim);
    let at = (1 << 20) + physical(&ext, 7) * 4096 + 100;
    assert_eq!(
        s.owner_at(id, at).unwrap(),
        Some((b.victim.clone(), 7 * 4096 + 100))
    );
    assert!(
        runs.iter()
            .any(|r| r.byte_start <= at && at < r.byte_start + r.byte_len && r.path == b.victim)
    );
    assert_eq!(s.owner_at(id, 5).unwrap(), None);
    let listed: Vec<_> = s
        .files(id, b"/docs")
        .unwrap()
        .into_iter()
        .map(|f| f.path)
        .collect();
    assert_eq!(
        listed,
        vec![
            b"/docs/a-link.bin".to_vec(),
            b"/docs/a.bin".to_vec(),
            b"/docs/caf\xe9.bin".to_vec(),
            b"/docs/empty.txt".to_vec(),
            b"/docs/small.txt".to_vec()
        ]
    );
    assert!(
        s.files(id, b"/doc").unwrap().is_empty(),
        "a prefix is a folder, not a string prefix"
    );
    assert!(s.files(id, b"/docs/a.bin").unwrap()[0].kind == Kind::File);
    // Recovery finds the partition again.
    let rep = recover(&recover_opts(
        &db,
        &img,
        &dir.path().join("out"),
        &[b"/docs"],
    ));
    assert!(rep.success(), "{rep:?}");
}

#[test]
fn map_only_snapshots_are_quick_and_cannot_vouch_for_data() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path(), ext4img::variant("e4_4k"));
    let db = dir.path().join("s.sqlite");
    let r = snap(&b.img, &db, true);
    assert_eq!(r.bytes_hashed, 0);
    let s = Snapshots::open(&db).unwrap();
    assert!(!s.list().unwrap()[0].fingerprinted);
    let e = recover::run(
        &recover_opts(&db, &b.img, &dir.path().join("out"), &[]),
        &CancelFlag::new(),
        &|_| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("without fingerprints"), "{e}");
}

#[test]
fn a_cancelled_snapshot_leaves_no_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path(), ext4img::variant("e4_1k"));
    let db = dir.path().join("s.sqlite");
    let cancel = CancelFlag::new();
    cancel.cancel();
    let opts = CreateOpts {
        image: b.img.clone(),
        offset: None,
        out: db.clone(),
        map_only: false,
    };
    assert!(snapshot::create(&opts, &cancel, &|_| {}).is_err());
    if db.exists() {
        assert!(Snapshots::open(&db).unwrap().list().unwrap().is_empty());
    }
}

/// Run `f` on another thread; fail if it panics or takes longer than a minute.
fn no_hang<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{what}: panicked or hung"))
}

#[test]
fn hostile_images_give_problems_never_a_panic_or_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let clean = build(dir.path(), ext4img::variant("e4_4k"));
    let fs = open(&clean.img);
    let tree = walk::walk(&fs, &CancelFlag::new()).unwrap();
    let big = tree
        .files
        .values()
        .find(|f| f.paths[0] == clean.victim)
        .unwrap()
        .clone();
    let m = mapping::map(&fs, &big.inode, &mut Vec::new());
    let index_block = m.meta[0];
    let dir_ino = fs.inode(2).unwrap();
    let root_block = mapping::map(&fs, &dir_ino, &mut Vec::new()).runs[0].physical;
    let itable = fs.group(0).unwrap().inode_table;
    drop(fs);
    let bs = 4096u64;
    let mut index_loop = vec![0u8; 24];
    index_loop[0..2].copy_from_slice(&0xF30Au16.to_le_bytes());
    index_loop[2..4].copy_from_slice(&1u16.to_le_bytes());
    index_loop[4..6].copy_from_slice(&340u16.to_le_bytes());
    index_loop[6..8].copy_from_slice(&1u16.to_le_bytes());
    index_loop[16..20].copy_from_slice(&(index_block as u32).to_le_bytes());
    let cases: Vec<(&str, u64, Vec<u8>)> = vec![
        (
            "random inode table",
            itable * bs + 11 * 256,
            payload(40 * 256, 1),
        ),
        ("random extent block", index_block * bs, payload(4096, 2)),
        ("looping extent tree", index_block * bs, index_loop),
        ("random root directory", root_block * bs, payload(4096, 3)),
        ("random group descriptors", bs, payload(64, 4)),
    ];
    for (what, at, bytes) in cases {
        let img = dir.path().join(format!("{}.img", what.replace(' ', "_")));
        std::fs::copy(&clean.img, &img).unwrap();
        scribble(&img, at, &bytes);
        let db = dir
            .path()
            .join(format!("{}.sqlite", what.replace(' ', "_")));
        let (img2, db2) = (img.clone(), db.clone());
        let r = no_hang(what, move || {
            snapshot::create(
                &CreateOpts {
                    image: img2,
                    offset: None,
                    out: db2,
                    map_only: false,
                },
                &CancelFlag::new(),
                &|_| {},
            )
        });
        let r = r.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(!r.problems.is_empty(), "{what}: no problem reported");
        let (img3, out) = (
            img.clone(),
            dir.path().join(format!("{}-out", what.replace(' ', "_"))),
        );
        no_hang(what, move || {
            recover::run(
                &recover_opts(&db, &img3, &out, &[]),
                &CancelFlag::new(),
                &|_| {},
            )
            .map(|_| ())
        })
        .unwrap_or_else(|e| panic!("{what}: recover: {e}"));
    }
    // A superblock of garbage is an error, not a panic.
    let img = dir.path().join("garbage.img");
    std::fs::copy(&clean.img, &img).unwrap();
    scribble(&img, 1024, &payload(1024, 5));
    assert!(Image::open(&img, Some(0)).and_then(Fs::open).is_err());
}

#[test]
fn a_truncated_image_reports_unreadable_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path(), ext4img::variant("e4_4k"));
    let db = dir.path().join("s.sqlite");
    snap(&b.img, &db, false);
    let (_, ext) = victim_extents(&db, &b.victim);
    let cut = physical(&ext, 50) * 4096;
    let img = dir.path().join("cut.img");
    std::fs::write(&img, &std::fs::read(&b.img).unwrap()[..cut as usize]).unwrap();
    let rep = recover::run(
        &recover_opts(&db, &img, &dir.path().join("out"), &[&b.victim]),
        &CancelFlag::new(),
        &|_| {},
    )
    .unwrap();
    let f = &rep.files[0];
    assert!(f.unreadable_bytes > 0, "{f:?}");
    assert!(
        f.reasons
            .iter()
            .any(|r| r.contains("could not be read (disk errors)")),
        "{f:?}"
    );
}

#[test]
fn overwritten_and_unreadable_bytes_get_their_own_words() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path(), ext4img::variant("e4_4k"));
    let bs = 4096u64;
    let db = dir.path().join("s.sqlite");
    snap(&b.img, &db, false);
    let (size, ext) = victim_extents(&db, &b.victim);
    // Logical block 0 overwritten, and the image cut short at logical block 50: every block
    // of the file past the cut reads with an error.
    scribble(&b.img, physical(&ext, 0) * bs, &payload(4096, 77));
    let cut = physical(&ext, 50) * bs;
    let img = dir.path().join("cut.img");
    std::fs::write(&img, &std::fs::read(&b.img).unwrap()[..cut as usize]).unwrap();
    let rep = recover(&recover_opts(
        &db,
        &img,
        &dir.path().join("out"),
        &[&b.victim],
    ));
    let f = &rep.files[0];
    let mut lost: Vec<(u64, u64)> = Vec::new();
    for l in 0..size.div_ceil(bs) {
        if physical(&ext, l) * bs >= cut {
            let (s, e) = (l * bs, ((l + 1) * bs).min(size));
            match lost.last_mut() {
                Some(last) if last.1 == s => last.1 = e,
                _ => lost.push((s, e)),
            }
        }
    }
    assert!(!lost.is_empty());
    assert_eq!(f.unreadable, lost, "{f:?}");
    let lost_bytes: u64 = lost.iter().map(|(s, e)| e - s).sum();
    assert_eq!(f.unreadable_bytes, lost_bytes);
    let shown: Vec<String> = lost.iter().map(|(s, e)| format!("{s}–{}", e - 1)).collect();
    assert!(
        lost.len() <= 5,
        "more ranges than a sentence shows: {lost:?}"
    );
    let want = format!(
        "Partly recovered: {:.0} % of this file was overwritten (bytes 0–4095); {} KB could not be read (disk errors) (bytes {}); the rest is intact.",
        4096.0 * 100.0 / size as f64,
        lost_bytes.div_ceil(1024),
        shown.join(", ")
    );
    assert_eq!(f.reasons[0], want, "{:#?}", f.reasons);
    // Said once, in the headline.
    let mentions = f
        .reasons
        .iter()
        .filter(|r| r.contains("could not be read"))
        .count();
    assert_eq!(mentions, 1, "{:#?}", f.reasons);
}

// ---- the CLI ------------------------------------------------------------------------------

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn cli_create_list_recover_with_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let b: Built = build(d, ext4img::variant("e4_4k"));
    let img = b.img.to_str().unwrap();
    let out = seqbox(
        &["snapshot", "create", img, "-o", "s.sqlite", "--json"],
        d,
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    let doc = json(&out);
    assert_eq!(
        doc["report"]["files"],
        b.files.len() as u64 - 1,
        "the hard link is one file"
    );
    let out = seqbox(&["snapshot", "list", "s.sqlite", "/docs"], d, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("/docs/a.bin") && text.contains("/docs/caf\\xe9.bin"),
        "{text}"
    );
    assert!(text.contains(UUID), "{text}");
    let out = seqbox(&["snapshot", "list", "s.sqlite", "--json"], d, &[]);
    assert_eq!(
        json(&out)["report"]["snapshots"].as_array().unwrap().len(),
        1
    );
    // All identical → 0.
    let out = seqbox(
        &[
            "snapshot", "recover", "s.sqlite", img, "--path", "/docs", "--out", "r1", "--json",
        ],
        d,
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    assert_eq!(json(&out)["report"]["identical"], 5);
    // Damaged → 2, with the damaged ranges in the JSON.
    let db = d.join("s.sqlite");
    let (_, ext) = victim_extents(&db, &b.victim);
    delete_like_kernel(&b.img, &b.victim);
    scribble(&b.img, physical(&ext, 3) * 4096, &payload(4096, 1));
    let out = seqbox(
        &[
            "snapshot",
            "recover",
            "s.sqlite",
            img,
            "--path",
            "/test/dir/big.bin",
            "--out",
            "r2",
            "--json",
        ],
        d,
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, d));
    let doc = json(&out);
    let f = &doc["report"]["files"][0];
    assert_eq!(f["verdict"], "partial");
    assert_eq!(f["damaged"], serde_json::json!([[12288, 16384]]));
    // Text mode says it in words.
    let out = seqbox(
        &[
            "snapshot",
            "recover",
            "s.sqlite",
            img,
            "--path",
            "/test/dir/big.bin",
            "--out",
            "r3",
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
    // Another disk → 1 and the plain message.
    let other_dir = d.join("other");
    std::fs::create_dir(&other_dir).unwrap();
    let other = ext4img::build_with(
        &other_dir,
        ext4img::variant("e4_1k"),
        ext4img::OTHER_UUID,
        "16M",
    );
    let out = seqbox(
        &[
            "snapshot",
            "recover",
            "s.sqlite",
            other.img.to_str().unwrap(),
            "--out",
            "r4",
        ],
        d,
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, d));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("This snapshot belongs to a different disk.")
    );
    // Usage errors → 1.
    let out = seqbox(&["snapshot", "create", img], d, &[]);
    assert_eq!(out.status.code(), Some(1));
}
