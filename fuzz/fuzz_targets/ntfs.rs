//! The NTFS reader and snapshots on mutated volumes (seeded with a small volume made by
//! mkntfs + ntfscp, fuzz/seeds.sh): open, walk every MFT record, read every file's runs, the
//! map's owners and structures, snapshot create, and snapshot recover of everything.
//!
//! An input of 64 KiB or more is the image itself. A shorter one is a patch list over the
//! seed volume (built in): first byte = which image, then patches of (offset: 3 bytes,
//! length − 1: 1 byte, bytes) — so mutations land on the boot sector, the MFT and the data
//! runs instead of being spent on file data.
//!
//! Invariants: never a panic, a hang or an unbounded allocation; the image is never written;
//! every run lies inside the volume; a file recovered as identical has its snapshot's size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seqbox::engine::fs::ntfs::{Data, Volume, open_image, walk};
use seqbox::engine::fs::owners;
use seqbox::engine::fs::recover::{self, RecoverOpts, Verdict};
use seqbox::engine::fs::snapshot::{self, CreateOpts};
use seqbox_fuzz::{assert_only_outputs, fresh_dir, never, put, quiet, remove_db, scratch};

/// Bytes of a file read at most, to check the runs against the volume.
const READ_LIMIT: u64 = 1 << 20;

/// Snapshot and recovery are skipped when a file claims more bytes than this.
const HASH_LIMIT: u64 = 64 << 20;

const BASES: [&[u8]; 1] = [include_bytes!("../seeds/ntfs/n_512.img")];

fuzz_target!(init: seqbox_fuzz::seeds::write_if_asked("ntfs"), |data: &[u8]| {
    let data = &seqbox_fuzz::patched_image(data, &BASES)[..];
    let image = put("ntfs.img", data);
    seqbox_fuzz::save_if_asked(&image);
    let largest = read_everything(&image);
    let _ = owners::live_map(&image, &never());
    if largest <= HASH_LIMIT {
        snapshot_and_recover(&image);
    }
    assert_eq!(std::fs::read(&image).expect("image"), data, "the image was written to");
});

/// Open and walk; every run inside the volume; read each file; the largest size claimed.
fn read_everything(image: &std::path::Path) -> u64 {
    let Ok(img) = open_image(image, None) else {
        return 0;
    };
    let Ok(vol) = Volume::open(img) else {
        return 0;
    };
    let Ok(tree) = walk(&vol, &never()) else {
        return 0;
    };
    let mut largest = 0;
    for f in tree.files.values().chain(tree.deleted.values()) {
        assert!(f.paths.iter().all(|p| p.starts_with(b"/")));
        largest = largest.max(f.size);
        if let Data::NonResident { runs, size, .. } = &f.data {
            for r in runs {
                assert!(r.physical.saturating_add(r.len) <= vol.geo.clusters || r.physical == 0);
            }
            let want = (*size).min(READ_LIMIT);
            assert!(vol.read_runs(runs, want).len() as u64 <= want);
        }
    }
    for c in [
        0,
        1,
        vol.geo.clusters.saturating_sub(1),
        vol.geo.clusters,
        u64::MAX,
    ] {
        let _ = vol.cluster_in_use(c);
    }
    largest
}

fn snapshot_and_recover(image: &std::path::Path) {
    let snap = scratch().join("ntfs.snapshot.sqlite");
    remove_db(&snap);
    let created = snapshot::create(
        &CreateOpts {
            image: image.to_path_buf(),
            offset: None,
            out: snap.clone(),
            map_only: false,
        },
        &never(),
        &quiet,
    );
    if created.is_err() {
        return;
    }
    let out = fresh_dir("ntfs-out");
    let opts = RecoverOpts {
        snapshot: snap,
        snapshot_id: None,
        image: image.to_path_buf(),
        offset: None,
        paths: Vec::new(),
        out_dir: out.clone(),
        search_moved: false,
        overwrite: false,
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
    for f in &report.files {
        if f.verdict == Verdict::Identical {
            let p = f.out_path.as_ref().expect("an identical file was written");
            let len = std::fs::metadata(p).expect("recovered file").len();
            assert_eq!(len, f.size, "{}: size", p.display());
        }
    }
}
