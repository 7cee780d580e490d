//! Scale (issue 13, part 4): what a whole backup disk costs, through the release binary.
//!
//! 1. A 1 TB sparse image holding 100 containers (v1, v17, v19; 1–8 MiB each) at random
//!    offsets: the scan's time against `dd if=IMAGE of=/dev/null bs=1M`, the scan's peak
//!    memory, the catalogue's size, the time the app takes to show the whole-disk map from it,
//!    and the time to recover everything (every file compared with its original).
//! 2. A 4 GiB dense image, containers back to back: scan time against dd, catalogue size and
//!    peak memory, projected to a 4 TB disk full of containers (time and catalogue grow with
//!    the disk's length and with the number of pieces; memory does not).
//!
//! Run: `cargo bench --bench scale` (about 10 minutes, ~5 GiB of free disk in the target
//! folder). `-- --quick` uses a 100 GB sparse image and a 1 GiB dense one.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::noise;

const SEQBOX: &str = env!("CARGO_BIN_EXE_seqbox");

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temp path")
}

/// Run the binary under `/usr/bin/time -f %M`: (wall time, peak resident KiB, exit code).
fn timed(args: &[&str]) -> (Duration, Option<u64>, Option<i32>) {
    let t = Instant::now();
    let o = if Path::new("/usr/bin/time").exists() {
        Command::new("/usr/bin/time")
            .args(["-f", "%M", SEQBOX])
            .args(args)
            .output()
            .expect("run seqbox")
    } else {
        Command::new(SEQBOX)
            .args(args)
            .output()
            .expect("run seqbox")
    };
    let took = t.elapsed();
    let err = String::from_utf8_lossy(&o.stderr);
    let peak = err.lines().last().and_then(|l| l.trim().parse().ok());
    if !o.status.success() {
        eprintln!("seqbox {args:?}: {}\n{err}", o.status);
    }
    (took, peak, o.status.code())
}

fn dd(path: &Path) -> Duration {
    let t = Instant::now();
    let ok = Command::new("dd")
        .arg(format!("if={}", path.display()))
        .args(["of=/dev/null", "bs=1M", "status=none"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "dd failed");
    t.elapsed()
}

fn catalog_bytes(c: &Path) -> u64 {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|e| std::fs::metadata(format!("{}{e}", c.display())).ok())
        .map(|m| m.len())
        .sum()
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Encode `len` bytes of noise named `name` as `version`; returns (original, container).
fn container(dir: &Path, name: &str, len: usize, version: u8, seed: u64) -> (Vec<u8>, Vec<u8>) {
    let input = dir.join(name);
    let data = noise(len, seed);
    std::fs::write(&input, &data).unwrap();
    let out = dir.join(format!("{name}.sbx"));
    let ok = Command::new(SEQBOX)
        .args([
            "encode",
            "--sbx-version",
            &version.to_string(),
            "-o",
            s(&out),
            s(&input),
        ])
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "encode {name}");
    let c = std::fs::read(&out).unwrap();
    std::fs::remove_file(&input).unwrap();
    std::fs::remove_file(&out).unwrap();
    (data, c)
}

/// The time the app takes, from opening a catalogue, to show the whole-disk map.
fn map_time(catalog: &Path) -> Duration {
    common::app_showing_map(catalog).1
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (sparse_len, dense_len): (u64, u64) = if quick {
        (100_000_000_000, 1 << 30)
    } else {
        (1_000_000_000_000, 4 << 30)
    };
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
    let d = dir.path();

    // 1. The sparse disk.
    let img = d.join("tb.img");
    let mut originals = Vec::new();
    {
        let f = std::fs::File::create(&img).unwrap();
        f.set_len(sparse_len).unwrap();
        let mut rng = Rng(0x05EE_D0F5_CA1E);
        let mut taken: Vec<(u64, u64)> = Vec::new();
        use std::os::unix::fs::FileExt;
        for i in 0..100u64 {
            let version = [1u8, 17, 19][i as usize % 3];
            let len = (1 << 20) + (rng.next() % (7 << 20)) as usize;
            let name = format!("file-{i:03}.bin");
            let (data, c) = container(d, &name, len, version, i + 1);
            // A random 4 KiB-aligned place that overlaps no other container.
            let at = loop {
                let at = rng.next() % (sparse_len - c.len() as u64 - 4096) / 4096 * 4096;
                let end = at + c.len() as u64;
                if taken.iter().all(|&(a, b)| end <= a || at >= b) {
                    break at;
                }
            };
            taken.push((at, at + c.len() as u64));
            f.write_all_at(&c, at).unwrap();
            originals.push((name, data));
        }
        f.sync_all().unwrap();
    }
    let cat = d.join("tb.sqlite");
    let (scan_t, scan_peak, code) = timed(&["scan", "--catalog", s(&cat), s(&img)]);
    assert_eq!(code, Some(0), "scan of the sparse image");
    let dd_t = dd(&img);
    let cat_size = catalog_bytes(&cat);
    let map_t = map_time(&cat);
    let out = d.join("out");
    let (rec_t, rec_peak, code) = timed(&["recover", "--catalog", s(&cat), "--out", s(&out)]);
    assert_eq!(code, Some(0), "recovery of all 100 files");
    for (name, data) in &originals {
        let got = std::fs::read(out.join(name)).unwrap_or_default();
        assert!(got == *data, "{name} came back different");
    }
    let total: usize = originals.iter().map(|(_, d)| d.len()).sum();
    std::fs::remove_dir_all(&out).unwrap();
    std::fs::remove_file(&img).unwrap();

    // 2. The dense disk: v17 containers of 64 MiB back to back.
    let dense = d.join("dense.img");
    let piece = 64usize << 20;
    let containers = (dense_len as usize / (piece + piece / 4)).max(1);
    {
        let (_, c) = container(d, "dense.bin", piece, 17, 99);
        let mut f = std::io::BufWriter::new(std::fs::File::create(&dense).unwrap());
        for i in 0..containers {
            // The same data, a different UID each time: patch the 6-byte UID of every block.
            let mut c = c.clone();
            let uid = (i as u64 + 1).to_be_bytes();
            for b in c.chunks_mut(512) {
                b[6..12].copy_from_slice(&uid[2..8]);
                let crc = seqbox::format::crc16::crc16(17, &b[6..]);
                b[4..6].copy_from_slice(&crc.to_be_bytes());
            }
            f.write_all(&c).unwrap();
        }
        // Written out before measuring: the scan's drop-behind advice would otherwise make
        // the kernel write the image back while it is timed (a real disk has nothing dirty).
        f.into_inner().unwrap().sync_all().unwrap();
    }
    let dense_size = std::fs::metadata(&dense).unwrap().len();
    let dcat = d.join("dense.sqlite");
    // Warm the cache once, then measure dd and the scan.
    dd(&dense);
    let dd_dense = dd(&dense);
    let (dscan_t, dscan_peak, code) = timed(&["scan", "--catalog", s(&dcat), s(&dense)]);
    assert_eq!(code, Some(0), "scan of the dense image");
    let dcat_size = catalog_bytes(&dcat);
    let dmap_t = map_time(&dcat);

    let gb = |b: u64| b as f64 / 1e9;
    let mib = |k: Option<u64>| k.map_or("?".into(), |k| format!("{:.0} MiB", k as f64 / 1024.0));
    println!(
        "1. sparse image of {:.0} GB, 100 containers (v1/v17/v19, {:.0} MB of files) at random offsets",
        gb(sparse_len),
        total as f64 / 1e6
    );
    println!(
        "   dd bs=1M            : {:8.1} s ({:.1} GB/s)",
        dd_t.as_secs_f64(),
        gb(sparse_len) / dd_t.as_secs_f64()
    );
    println!(
        "   scan                : {:8.1} s  {:.2}x the dd time, peak memory {}",
        scan_t.as_secs_f64(),
        scan_t.as_secs_f64() / dd_t.as_secs_f64(),
        mib(scan_peak)
    );
    println!("   catalogue           : {} bytes", cat_size);
    println!(
        "   whole-disk map shown: {:8.3} s after opening the catalogue in the app",
        map_t.as_secs_f64()
    );
    println!(
        "   recover all 100     : {:8.1} s, peak memory {}, every file bit-exact",
        rec_t.as_secs_f64(),
        mib(rec_peak)
    );
    println!(
        "2. dense image of {:.2} GB: {containers} v17 containers of 64 MiB back to back",
        gb(dense_size)
    );
    println!(
        "   dd bs=1M            : {:8.2} s ({:.2} GB/s)",
        dd_dense.as_secs_f64(),
        gb(dense_size) / dd_dense.as_secs_f64()
    );
    println!(
        "   scan                : {:8.2} s  {:.2}x the dd time, peak memory {}",
        dscan_t.as_secs_f64(),
        dscan_t.as_secs_f64() / dd_dense.as_secs_f64(),
        mib(dscan_peak)
    );
    println!(
        "   catalogue           : {} bytes ({:.0} bytes per container)",
        dcat_size,
        dcat_size as f64 / containers as f64
    );
    println!("   whole-disk map shown: {:8.3} s", dmap_t.as_secs_f64());
    let k = 4e12 / dense_size as f64;
    println!(
        "projection to a 4 TB disk full of containers (x{k:.0}): scan {:.1} h at this machine's read speed from memory ({:.2} h for dd); catalogue {:.0} MB; memory as above",
        dscan_t.as_secs_f64() * k / 3600.0,
        dd_dense.as_secs_f64() * k / 3600.0,
        dcat_size as f64 * k / 1e6
    );
    println!(
        "   (a real disk reads at its own speed, ~0.15–0.25 GB/s for a USB 3 hard disk: {:.1}–{:.1} h, and the scan keeps up with it)",
        4e12 / 0.25e9 / 3600.0,
        4e12 / 0.15e9 / 3600.0
    );
}
