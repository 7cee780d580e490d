//! The FAT reader and snapshots through the file-system trait on mutated images (seeded with
//! FAT12 images made by mkfs.fat + mtools, fuzz/seeds.sh): open (type detection, MBR/GPT),
//! walk, read every file's clusters, the map's owners and structures, snapshot create, and
//! snapshot recover of everything into a folder.
//!
//! An input of 64 KiB or more is the image itself. A shorter one is a patch list over one of
//! the seed images (built in): first byte = which image, then patches of (offset: 3 bytes,
//! length − 1: 1 byte, bytes) — so mutations land on the boot sector, FATs and directories.
//!
//! Invariants: never a panic, a hang or an unbounded allocation; the image is never written;
//! a file recovered as identical has its snapshot's SHA-256 and size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seqbox::engine::fs::recover::{self, RecoverOpts, Verdict};
use seqbox::engine::fs::snapshot::{self, CreateOpts};
use seqbox::engine::fs::{self, ExtentKind, Snapshots, owners};
use seqbox::format::HashKind;
use seqbox_fuzz::{
    assert_only_outputs, digest_hex, fresh_dir, never, put, quiet, remove_db, scratch,
};

/// Bytes of file data read per input at most.
const READ_LIMIT: u64 = 4 << 20;

/// The seed images (fuzz/seeds.sh), for patch-list inputs.
const BASES: [&[u8]; 2] = [
    include_bytes!("../seeds/fat/fat12_512.img"),
    include_bytes!("../seeds/fat/fat12_2k.img"),
];

fuzz_target!(init: seqbox_fuzz::seeds::write_if_asked("fat"), |data: &[u8]| {
    let data = &seqbox_fuzz::patched_image(data, &BASES)[..];
    let image = put("fat.img", data);
    seqbox_fuzz::save_if_asked(&image);
    if !read_everything(&image) {
        return;
    }
    let _ = owners::owner_runs(&image, &never());
    let snap = scratch().join("fat.snapshot.sqlite");
    remove_db(&snap);
    let created = snapshot::create(
        &CreateOpts {
            image: image.clone(),
            offset: None,
            out: snap.clone(),
            map_only: false,
        },
        &never(),
        &quiet,
    );
    if created.is_ok() {
        recover_everything(&image, &snap, data.last().is_some_and(|b| b & 1 == 1));
    }
    assert_eq!(std::fs::read(&image).expect("image"), data, "the image was written to");
});

/// Open, walk and read every file's clusters (extents inside the volume, cut at the size).
fn read_everything(image: &std::path::Path) -> bool {
    let Ok(vol) = fs::open(image, None) else {
        return false;
    };
    let Ok(tree) = vol.walk(&never()) else {
        return false;
    };
    let info = vol.info();
    let mut budget = READ_LIMIT;
    for f in &tree.files {
        let mut logical = 0;
        for e in &f.extents {
            assert_eq!(e.kind, ExtentKind::Data);
            assert_eq!(e.logical, logical, "extents in file order");
            assert!(
                e.physical + e.len <= info.blocks_count,
                "extent past the end"
            );
            logical += e.len;
            let bytes = (e.len * info.block_size).min(budget);
            budget -= bytes;
            let mut buf = vec![0u8; bytes as usize];
            let _ = vol.read_blocks(e.physical, &mut buf);
        }
        assert!(
            (logical - 1.min(logical)) * info.block_size < f.size.max(1),
            "more clusters than the size needs"
        );
    }
    let _ = vol.structures();
    true
}

/// Recover every file of the snapshot from the same image; check identical verdicts.
fn recover_everything(image: &std::path::Path, snap: &std::path::Path, search_moved: bool) {
    let out = fresh_dir("fat-out");
    let opts = RecoverOpts {
        snapshot: snap.to_path_buf(),
        image: image.to_path_buf(),
        out_dir: out.clone(),
        search_moved,
        ..RecoverOpts::default()
    };
    let Ok(report) = recover::run(&opts, &never(), &quiet) else {
        return;
    };
    let written: Vec<_> = report
        .files
        .iter()
        .filter_map(|f| f.out_path.clone())
        .collect();
    assert_only_outputs("snapshot recover", &out, &written);
    let db = Snapshots::open(snap).expect("the snapshot just made");
    for f in report
        .files
        .iter()
        .filter(|f| f.verdict == Verdict::Identical)
    {
        let p = f.out_path.as_ref().expect("an identical file was written");
        let bytes = std::fs::read(p).expect("recovered file");
        assert_eq!(bytes.len() as u64, f.size, "{}: size", p.display());
        let entry = db
            .files(report.snapshot_id, &f.path)
            .expect("snapshot files")
            .into_iter()
            .find(|e| e.path == f.path)
            .expect("the recovered path is in the snapshot");
        let row = db
            .inode(report.snapshot_id, entry.ino)
            .expect("row")
            .expect("its row");
        if let Some(sha) = row.sha256 {
            assert_eq!(
                digest_hex(HashKind::Sha256, &bytes),
                seqbox::format::hash::hex(&sha),
                "{}: identical but its SHA-256 differs",
                p.display()
            );
        }
    }
}
