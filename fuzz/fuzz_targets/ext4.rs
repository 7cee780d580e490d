//! The ext4 reader and snapshots on mutated images (seeded with small images made by
//! mke2fs + debugfs, fuzz/seeds.sh): open, walk, map and read every file, the block map's
//! owner runs, snapshot create, and snapshot recover of everything into a folder.
//!
//! An input of 64 KiB or more is the image itself. A shorter one is a patch list over one of
//! the seed images (built in): first byte = which image, then patches of (offset: 3 bytes,
//! length − 1: 1 byte, bytes) — so mutations land on the file system's structures instead of
//! being spent on file data.
//!
//! Invariants: never a panic, a hang or an unbounded allocation; the image is never written;
//! a file recovered as identical has its snapshot's SHA-256 and size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seqbox::engine::ext4::recover::{self, RecoverOpts, Verdict};
use seqbox::engine::ext4::snapshot::{self, CreateOpts};
use seqbox::engine::ext4::{Fs, Image, Snapshots, mapping, owners, walk};
use seqbox::format::HashKind;
use seqbox_fuzz::{
    assert_no_temp_files, assert_only_outputs, digest_hex, fresh_dir, never, put, quiet, remove_db,
    scratch,
};

/// Files read whole at most (bytes), to check the reader against the mapping.
const READ_LIMIT: u64 = 1 << 20;

/// Snapshot and recovery are skipped when a file claims more bytes than this: both hash a
/// file's holes as zeros (by design, up to 64 GiB per file), which is seconds of work per
/// claimed gigabyte — time the fuzzer should spend on other inputs.
const HASH_LIMIT: u64 = 64 << 20;

/// The seed images (fuzz/seeds.sh), for patch-list inputs.
const BASES: [&[u8]; 5] = [
    include_bytes!("../seeds/ext4/e4_1k.img"),
    include_bytes!("../seeds/ext4/e4_4k.img"),
    include_bytes!("../seeds/ext4/e4_inline.img"),
    include_bytes!("../seeds/ext4/e4_noextent.img"),
    include_bytes!("../seeds/ext4/e2_1k.img"),
];

fuzz_target!(init: seqbox_fuzz::seeds::write_if_asked("ext4"), |data: &[u8]| {
    let data = &seqbox_fuzz::patched_image(data, &BASES)[..];
    let image = put("fs.img", data);
    seqbox_fuzz::save_if_asked(&image);
    let largest = read_everything(&image);
    let _ = owners::live_owner_runs(&image, &never());
    if largest > HASH_LIMIT {
        return;
    }

    let snap = scratch().join("fs.snapshot.sqlite");
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

/// Open, walk, map and read every regular file; the largest size a file claims.
fn read_everything(image: &std::path::Path) -> u64 {
    let Ok(img) = Image::open(image, None) else {
        return 0;
    };
    let Ok(fs) = Fs::open(img) else {
        return 0;
    };
    let Ok(tree) = walk::walk(&fs, &never()) else {
        return 0;
    };
    let mut problems = Vec::new();
    for rec in tree.files.values() {
        let _ = mapping::map(&fs, &rec.inode, &mut problems);
        if let Ok(bytes) = mapping::read_file(&fs, &rec.inode, READ_LIMIT, &mut problems) {
            assert_eq!(bytes.len() as u64, rec.inode.size);
        }
    }
    tree.files.values().map(|f| f.inode.size).max().unwrap_or(0)
}

/// Recover every file of the snapshot from the same image; check identical verdicts.
fn recover_everything(image: &std::path::Path, snap: &std::path::Path, search_moved: bool) {
    let out = fresh_dir("ext4-out");
    let opts = RecoverOpts {
        snapshot: snap.to_path_buf(),
        snapshot_id: None,
        image: image.to_path_buf(),
        offset: None,
        paths: Vec::new(),
        out_dir: out.clone(),
        search_moved,
        overwrite: false,
    };
    let Ok(report) = recover::run(&opts, &never(), &quiet) else {
        assert_no_temp_files("snapshot recover (failed)", &out);
        return;
    };
    let written: Vec<_> = report
        .files
        .iter()
        .filter_map(|f| f.out_path.clone())
        .collect();
    assert_only_outputs("snapshot recover", &out, &written);
    let db = Snapshots::open(snap).expect("the snapshot just made");
    for f in &report.files {
        if f.verdict != Verdict::Identical {
            continue;
        }
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
            .expect("inode row")
            .expect("the inode of a recovered file");
        if let Some(sha) = row.sha256 {
            assert_eq!(
                digest_hex(HashKind::Sha256, &bytes),
                seqbox::format::hash::hex(&sha),
                "{}: identical but its SHA-256 differs from the snapshot's",
                p.display()
            );
        }
    }
}
