//! Throughput of encode, decode and check on a 256 MiB random file, against the time
//! `openssl dgst -sha256` takes on the same file in the same run (the physical limit named in
//! issue #2: the hash alone).
//!
//! Run: `cargo bench --bench throughput` (optionally `-- SIZE_MIB`). Prints MB/s and ratios.

use seqbox::engine::check::CheckOpts;
use seqbox::engine::decode::{DecodeOpts, DecodeStatus};
use seqbox::engine::encode::{EncodeOpts, Target};
use seqbox::engine::{CancelFlag, check, decode, encode};
use seqbox::format::Version;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 5;

fn best<T>(mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..RUNS {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed());
        last = Some(r);
    }
    (best, last.expect("ran"))
}

fn openssl(path: &Path) -> Option<Duration> {
    let (d, ok) = best(|| {
        Command::new("openssl")
            .args(["dgst", "-sha256"])
            .arg(path)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    });
    ok.then_some(d)
}

fn main() {
    let mib: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(256);
    let size = mib << 20;
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .or_else(|_| tempfile::tempdir())
        .expect("temp dir");
    let input = dir.path().join("input.bin");
    {
        // xorshift noise: incompressible, cheap to make.
        let mut f = std::fs::File::create(&input).unwrap();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut buf = vec![0u8; 1 << 20];
        for _ in 0..mib {
            for chunk in buf.chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                chunk.copy_from_slice(&x.to_le_bytes());
            }
            f.write_all(&buf).unwrap();
        }
    }
    let sbx = dir.path().join("input.sbx");
    let out = dir.path().join("decoded.bin");
    let cancel = CancelFlag::new();
    let quiet = |_: seqbox::engine::Progress| {};

    // Warm the page cache so every contender reads from memory.
    let _ = std::fs::read(&input).unwrap();
    let limit = openssl(&input);

    let (enc, _) = best(|| {
        let _ = std::fs::remove_file(&sbx);
        let opts = EncodeOpts {
            output: Target::File(sbx.clone()),
            version: Version::V1,
            uid: Some([1, 2, 3, 4, 5, 6]),
            sbx_time: Some(0),
            ..EncodeOpts::new(&input)
        };
        encode::run(&opts, &cancel, &quiet).expect("encode")
    });
    let (dec, status) = best(|| {
        let _ = std::fs::remove_file(&out);
        let mut opts = DecodeOpts::new(&sbx);
        opts.output = Target::File(out.clone());
        decode::run(&opts, &cancel, &quiet).expect("decode").status
    });
    assert_eq!(status, DecodeStatus::Verified);
    let (chk, ok) = best(|| {
        let opts = CheckOpts::new(sbx.clone());
        check::run(&opts, &cancel, &quiet).expect("check").ok
    });
    assert!(ok);

    let mbs = |d: Duration| size as f64 / 1e6 / d.as_secs_f64();
    println!("input: {mib} MiB random, SBX v1, best of {RUNS} runs, warm page cache");
    match limit {
        Some(l) => println!(
            "openssl dgst -sha256 : {:7.3} s  {:7.0} MB/s  (the limit)",
            l.as_secs_f64(),
            mbs(l)
        ),
        None => println!("openssl dgst -sha256 : not available"),
    }
    for (name, d) in [("encode v1", enc), ("decode v1", dec), ("check v1", chk)] {
        let ratio = limit
            .map(|l| {
                format!(
                    "  {:.2}x the openssl time",
                    d.as_secs_f64() / l.as_secs_f64()
                )
            })
            .unwrap_or_default();
        println!(
            "{name:<21}: {:7.3} s  {:7.0} MB/s{ratio}",
            d.as_secs_f64(),
            mbs(d)
        );
    }
}
