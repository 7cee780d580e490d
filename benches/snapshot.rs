//! ext4 snapshot throughput (issue 6): a 1 GiB ext4 image holding ~900 MiB of random files of
//! mixed sizes (built once with `mke2fs -d`, or taken from SEQBOX_BENCH_EXT4_IMAGE), then a
//! fingerprinted snapshot (every data block read, BLAKE3 per block + SHA-256 per file) against
//! `dd if=IMAGE of=/dev/null bs=1M` on the same image in the same run; also a map-only
//! snapshot and a second snapshot of the unchanged file system (nothing re-read). Warm page
//! cache, best of 3.
//!
//! Run: `cargo bench --bench snapshot`.

use seqbox::engine::CancelFlag;
use seqbox::engine::ext4::snapshot::{self, CreateOpts};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::{best_of, dd, noise};

const RUNS: usize = 3;

fn sbin(name: &str) -> PathBuf {
    for d in ["/usr/sbin", "/sbin", "/usr/bin"] {
        let p = Path::new(d).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("{name} not found: install e2fsprogs");
}

/// ~900 MiB of random files: 4 × 100 MiB, 20 × 10 MiB, 200 × 1 MiB, 2000 × 4–100 KiB.
fn build_image(dir: &Path) -> PathBuf {
    let src = dir.join("src");
    let mut seed = 1;
    let mut put = |sub: &str, n: usize, size: &dyn Fn(usize) -> usize| {
        let d = src.join(sub);
        std::fs::create_dir_all(&d).unwrap();
        for i in 0..n {
            seed += 1;
            let mut f = std::fs::File::create(d.join(format!("f{i:05}.bin"))).unwrap();
            f.write_all(&noise(size(i), seed)).unwrap();
        }
    };
    put("huge", 4, &|_| 100 << 20);
    put("big", 20, &|_| 10 << 20);
    put("mid", 200, &|_| 1 << 20);
    put("small", 2000, &|i| 4096 + (i * 48_611) % (96 << 10));
    let img = dir.join("ext4.img");
    let status = Command::new(sbin("mke2fs"))
        .args(["-q", "-F", "-t", "ext4", "-b", "4096", "-d"])
        .arg(&src)
        .arg(&img)
        .arg("1G")
        .env("E2FSPROGS_FAKE_TIME", "1700000000")
        .status()
        .unwrap();
    assert!(status.success(), "mke2fs -d failed");
    std::fs::remove_dir_all(&src).unwrap();
    img
}

fn main() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .or_else(|_| tempfile::tempdir())
        .unwrap();
    let img = match std::env::var_os("SEQBOX_BENCH_EXT4_IMAGE") {
        Some(p) if Path::new(&p).is_file() => PathBuf::from(p),
        _ => {
            let t = Instant::now();
            let img = build_image(dir.path());
            eprintln!(
                "built {} in {:.1} s",
                img.display(),
                t.elapsed().as_secs_f64()
            );
            img
        }
    };
    let size = std::fs::metadata(&img).unwrap().len();
    assert!(dd(&img), "dd failed"); // warms the page cache
    let (t_dd, _) = best_of(RUNS, || assert!(dd(&img)));
    // For scale: one SHA-256 stream over the whole image (what a fingerprinted snapshot must
    // at least do for the file data, plus a BLAKE3 digest per block).
    let sha = || {
        Command::new("openssl")
            .args(["dgst", "-sha256"])
            .arg(&img)
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let t_sha = sha().then(|| best_of(RUNS, || assert!(sha())).0);
    let db = dir.path().join("snap.sqlite");
    let fresh = |map_only: bool| {
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", db.display()));
        }
        let opts = CreateOpts {
            image: img.clone(),
            offset: None,
            out: db.clone(),
            map_only,
        };
        snapshot::create(&opts, &CancelFlag::new(), &|_| {}).unwrap()
    };
    let (t_snap, r) = best_of(RUNS, || fresh(false));
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    let (t_map, _) = best_of(RUNS, || fresh(true));
    // The database now holds a map-only snapshot; add a fingerprinted one, then time a second
    // fingerprinted snapshot of the unchanged file system.
    fresh(false);
    let opts = CreateOpts {
        image: img.clone(),
        offset: None,
        out: db.clone(),
        map_only: false,
    };
    let (t_again, again) = best_of(1, || {
        snapshot::create(&opts, &CancelFlag::new(), &|_| {}).unwrap()
    });
    assert_eq!(again.files_hashed, 0);
    let mbs = |bytes: u64, t: Duration| bytes as f64 / 1e6 / t.as_secs_f64();
    println!(
        "image: {} MiB ext4 (4 KiB blocks), {} files, {} MiB of file data; warm page cache, best of {RUNS}",
        size >> 20,
        r.files,
        r.bytes_hashed >> 20
    );
    println!(
        "dd bs=1M                  : {:7.3} s  {:7.0} MB/s of image  (the limit)",
        t_dd.as_secs_f64(),
        mbs(size, t_dd)
    );
    if let Some(t) = t_sha {
        println!(
            "openssl dgst -sha256      : {:7.3} s  {:7.0} MB/s of image  (one hash stream, for scale)",
            t.as_secs_f64(),
            mbs(size, t)
        );
    }
    println!(
        "snapshot (fingerprinted)  : {:7.3} s  {:7.0} MB/s of file data, {:7.0} MB/s of image  {:.2}x the dd time",
        t_snap.as_secs_f64(),
        mbs(r.bytes_hashed, t_snap),
        mbs(size, t_snap),
        t_snap.as_secs_f64() / t_dd.as_secs_f64()
    );
    println!(
        "snapshot (map only)       : {:7.3} s  {:.2}x the dd time",
        t_map.as_secs_f64(),
        t_map.as_secs_f64() / t_dd.as_secs_f64()
    );
    println!(
        "second snapshot, unchanged: {:7.3} s  {} files reused, {} bytes re-read",
        t_again.as_secs_f64(),
        again.files_reused,
        again.bytes_hashed
    );
}
