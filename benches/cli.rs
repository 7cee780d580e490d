//! The speed table of issue 13, measured at the command line: the release `seqbox` binary
//! against its named limit in the same run (`openssl dgst -sha256` of the input for encode,
//! decode and repair; `dd if=IMAGE of=/dev/null bs=1M` for scans), median of 5, files in
//! memory (in /dev/shm when it has room, so writing costs no disk and fsync is free for
//! every contender alike).
//!
//! Run: `cargo bench --bench cli` (optionally `-- SIZE_MIB`, default 256). Prints one line per
//! job: times, the ratio and the goal, and whether the goal is met.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::noise;
use seqbox::format::Version;
use seqbox::format::rs::Layout;

const RUNS: usize = 5;
const SEQBOX: &str = env!("CARGO_BIN_EXE_seqbox");

/// The median time of `RUNS` runs of `f`; every run must succeed.
fn median(what: &str, mut f: impl FnMut() -> bool) -> Duration {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            assert!(f(), "{what} failed");
            t.elapsed()
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}

/// Run a command quietly; true when it exits 0.
fn run(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temp path")
}

fn remove(paths: &[&Path]) {
    for p in paths {
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", p.display()));
        }
    }
}

fn openssl(path: &Path) -> Duration {
    median("openssl", || run("openssl", &["dgst", "-sha256", s(path)]))
}

fn dd(path: &Path) -> Duration {
    let input = format!("if={}", path.display());
    median("dd", || {
        run("dd", &[&input, "of=/dev/null", "bs=1M", "status=none"])
    })
}

/// A folder for the files: /dev/shm when it has room for `need` bytes, else the target dir.
fn workdir(need: u64) -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let room = Command::new("df")
        .args(["--output=avail", "-B1", "/dev/shm"])
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .nth(1)?
                .trim()
                .parse::<u64>()
                .ok()
        });
    if shm.is_dir() && room.is_some_and(|r| r > need + (1 << 30)) {
        return tempfile::tempdir_in(shm).expect("temp dir in /dev/shm");
    }
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir")
}

struct Row {
    job: &'static str,
    ours: Duration,
    limit: Duration,
    limit_name: &'static str,
    goal: f64,
}

fn main() {
    let mib: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(256);
    let dir = workdir((mib as u64) << 23);
    let d = dir.path();
    let input = d.join("input.bin");
    std::fs::write(&input, noise(mib << 20, 1)).unwrap();
    let v1 = d.join("input.sbx");
    let v17 = d.join("input.ecsbx");
    let out = d.join("decoded.bin");
    let mut rows = Vec::new();

    let sha = openssl(&input);
    let enc1 = median("encode v1", || {
        remove(&[&v1]);
        run(
            SEQBOX,
            &["encode", "--sbx-version", "1", "-o", s(&v1), s(&input)],
        )
    });
    rows.push(Row {
        job: "encode v1",
        ours: enc1,
        limit: sha,
        limit_name: "openssl",
        goal: 1.1,
    });
    let dec1 = median("decode v1", || {
        remove(&[&out]);
        run(SEQBOX, &["decode", "-o", s(&out), s(&v1)])
    });
    assert!(std::fs::read(&out).unwrap() == std::fs::read(&input).unwrap());
    rows.push(Row {
        job: "decode v1 (hash verified)",
        ours: dec1,
        limit: sha,
        limit_name: "openssl",
        goal: 1.1,
    });
    let enc17 = median("encode v17", || {
        remove(&[&v17]);
        run(
            SEQBOX,
            &[
                "encode",
                "--sbx-version",
                "17",
                "--rs-data",
                "10",
                "--rs-parity",
                "2",
                "--burst",
                "12",
                "-o",
                s(&v17),
                s(&input),
            ],
        )
    });
    rows.push(Row {
        job: "encode v17 10+2 B12",
        ours: enc17,
        limit: sha,
        limit_name: "openssl",
        goal: 1.15,
    });

    // Destroy 5 % of the blocks: one shard in three of every five block sets, a different
    // shard each time, so every set stays repairable (the throughput bench's pattern).
    let damaged = d.join("damaged.ecsbx");
    let mut bytes = std::fs::read(&v17).unwrap();
    let blocks = bytes.len() / 512;
    let layout = Layout::rs(Version::V17, 10, 2, 12).unwrap();
    let mut destroyed = 0;
    for set in 0..layout.sets_for((mib as u64) << 20) {
        if set % 5 < 3 {
            let seq = layout.seq_of(set, (set % 12) as usize).unwrap();
            let k = layout.slot_of(seq) as usize;
            bytes[k * 512..(k + 1) * 512].fill(0);
            destroyed += 1;
        }
    }
    std::fs::write(&damaged, &bytes).unwrap();
    drop(bytes);
    let repaired = d.join("repaired.ecsbx");
    let rep = median("repair v17", || {
        remove(&[&repaired]);
        run(SEQBOX, &["repair", "-o", s(&repaired), s(&damaged)])
    });
    assert!(std::fs::read(&repaired).unwrap() == std::fs::read(&v17).unwrap());
    rows.push(Row {
        job: "repair v17, 5 % destroyed",
        ours: rep,
        limit: sha,
        limit_name: "openssl",
        goal: 1.5,
    });
    remove(&[&damaged, &repaired, &out, &v1]);

    // A dense image: a ~400 MB v17 container between 64 MiB of junk on each side.
    let dense = d.join("dense.img");
    let big_in = d.join("big.bin");
    std::fs::write(&big_in, noise(320 << 20, 2)).unwrap();
    let big = d.join("big.ecsbx");
    assert!(run(SEQBOX, &["encode", "-o", s(&big), s(&big_in)]));
    std::fs::remove_file(&big_in).unwrap();
    {
        let mut f = std::fs::File::create(&dense).unwrap();
        f.write_all(&noise(64 << 20, 3)).unwrap();
        f.write_all(&[9u8; 1234]).unwrap();
        f.write_all(&std::fs::read(&big).unwrap()).unwrap();
        f.write_all(&noise(64 << 20, 4)).unwrap();
    }
    std::fs::remove_file(&big).unwrap();
    let catalog = d.join("dense.sqlite");
    let scan_dense = median("scan dense", || {
        remove(&[&catalog]);
        run(SEQBOX, &["scan", "--catalog", s(&catalog), s(&dense)])
    });
    let dd_dense = dd(&dense);
    let dense_mib = std::fs::metadata(&dense).unwrap().len() >> 20;
    let catalog_bytes = std::fs::metadata(&catalog).map(|m| m.len()).unwrap_or(0);
    rows.push(Row {
        job: "scan, dense image",
        ours: scan_dense,
        limit: dd_dense,
        limit_name: "dd",
        goal: 2.0,
    });
    remove(&[&dense, &catalog]);

    // A 40 GiB image, nearly all of it never written (sparse), one small container inside.
    let sparse = d.join("sparse.img");
    {
        let small_in = d.join("small.bin");
        std::fs::write(&small_in, noise(4 << 20, 5)).unwrap();
        let small = d.join("small.ecsbx");
        assert!(run(SEQBOX, &["encode", "-o", s(&small), s(&small_in)]));
        let f = std::fs::File::create(&sparse).unwrap();
        f.set_len(40 << 30).unwrap();
        use std::os::unix::fs::FileExt;
        f.write_all_at(&std::fs::read(&small).unwrap(), 17 << 30)
            .unwrap();
    }
    let sparse_catalog = d.join("sparse.sqlite");
    let scan_sparse = median("scan sparse", || {
        remove(&[&sparse_catalog]);
        run(
            SEQBOX,
            &["scan", "--catalog", s(&sparse_catalog), s(&sparse)],
        )
    });
    let dd_sparse = dd(&sparse);
    rows.push(Row {
        job: "scan, 40 GiB sparse image",
        ours: scan_sparse,
        limit: dd_sparse,
        limit_name: "dd",
        goal: 1.3,
    });

    println!(
        "seqbox CLI vs its limit, median of {RUNS}, files in {} ({mib} MiB input; dense image \
         {} MiB; {destroyed} of {blocks} blocks destroyed for repair)",
        d.parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        dense_mib,
    );
    println!(
        "{:<28} {:>9} {:>9} {:>7} {:>6}  met",
        "job", "seqbox", "limit", "ratio", "goal"
    );
    let mut all = true;
    for r in &rows {
        let ratio = r.ours.as_secs_f64() / r.limit.as_secs_f64();
        let met = ratio <= r.goal;
        all &= met;
        println!(
            "{:<28} {:>8.3}s {:>8.3}s {:>6.2}x {:>5.2}x  {} ({})",
            r.job,
            r.ours.as_secs_f64(),
            r.limit.as_secs_f64(),
            ratio,
            r.goal,
            if met { "yes" } else { "NO" },
            r.limit_name
        );
    }
    println!("catalogue of the dense image: {catalog_bytes} bytes");
    println!("every goal met: {}", if all { "yes" } else { "no" });
}
