//! Throughput of encode, decode and check (SBX v1, and v17 with 10 + 2 shards, burst 12) and
//! of repair (v17 with 5 % of its blocks destroyed) on a 256 MiB random file, against the
//! time `openssl dgst -sha256` takes on the same file in the same run (the limit named in
//! issues #2 and #3: the hash alone).
//!
//! Also the Reed–Solomon kernels alone (10 + 2 parity of v17 payloads, in memory), each one
//! this processor runs, so a slow kernel shows apart from the I/O around it.
//!
//! Run: `cargo bench --bench throughput` (optionally `-- SIZE_MIB`). Prints MB/s and ratios.

use seqbox::engine::check::CheckOpts;
use seqbox::engine::decode::{DecodeOpts, DecodeStatus};
use seqbox::engine::encode::{EncodeOpts, Target};
use seqbox::engine::repair::RepairOpts;
use seqbox::engine::{CancelFlag, check, decode, encode, repair};
use seqbox::format::Version;
use seqbox::format::gf256::{self, Kernel};
use seqbox::format::rs::{Codec, Layout};
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

mod common;
use common::{RUNS, best};

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
    let _ = &sbx;
    let cancel = CancelFlag::new();
    let quiet = |_: seqbox::engine::Progress| {};

    // Warm the page cache so every contender reads from memory.
    let _ = std::fs::read(&input).unwrap();
    let limit = openssl(&input);

    let encode_as = |version: Version, sbx: &Path| {
        let _ = std::fs::remove_file(sbx);
        let opts = EncodeOpts {
            output: Target::File(sbx.to_path_buf()),
            version,
            uid: Some([1, 2, 3, 4, 5, 6]),
            sbx_time: Some(0),
            ..EncodeOpts::new(&input)
        };
        encode::run(&opts, &cancel, &quiet).expect("encode")
    };
    let decode_from = |sbx: &Path| {
        let _ = std::fs::remove_file(&out);
        let mut opts = DecodeOpts::new(sbx);
        opts.output = Target::File(out.clone());
        let r = decode::run(&opts, &cancel, &quiet).expect("decode");
        assert_eq!(r.status, DecodeStatus::Verified);
        r
    };
    let check_of = |sbx: &Path| {
        let r = check::run(&CheckOpts::new(sbx), &cancel, &quiet).expect("check");
        assert!(r.ok);
    };

    let (enc1, _) = best(|| encode_as(Version::V1, &sbx));
    let (dec1, _) = best(|| decode_from(&sbx));
    let (chk1, _) = best(|| check_of(&sbx));
    let ecsbx = dir.path().join("input.ecsbx");
    let (enc17, _) = best(|| encode_as(Version::V17, &ecsbx));
    let (dec17, _) = best(|| decode_from(&ecsbx));

    // Destroy 5 % of the blocks: one block in three of every five block sets (3/5 · 1/12),
    // a different shard each time, so everything stays repairable.
    let damaged = dir.path().join("damaged.ecsbx");
    let mut bytes = std::fs::read(&ecsbx).unwrap();
    let layout = Layout::rs(Version::V17, 10, 2, 12).unwrap();
    let mut destroyed = 0;
    for set in 0..layout.sets_for(size as u64) {
        if set % 5 < 3 {
            let seq = layout.seq_of(set, (set % 12) as usize).unwrap();
            let k = layout.slot_of(seq) as usize;
            bytes[k * 512..(k + 1) * 512].fill(0);
            destroyed += 1;
        }
    }
    std::fs::write(&damaged, &bytes).unwrap();
    let container_bytes = bytes.len();
    drop(bytes);
    let repaired = dir.path().join("repaired.ecsbx");
    let (rep, report) = best(|| {
        let _ = std::fs::remove_file(&repaired);
        let opts = RepairOpts {
            output: Some(repaired.clone()),
            ..RepairOpts::new(&damaged)
        };
        repair::run(&opts, &cancel, &quiet).expect("repair")
    });
    assert!(report.success());
    assert!(std::fs::read(&repaired).unwrap() == std::fs::read(&ecsbx).unwrap());
    let (dec17d, _) = best(|| decode_from(&damaged));

    let mbs = |d: Duration| size as f64 / 1e6 / d.as_secs_f64();
    println!("input: {mib} MiB random, best of {RUNS} runs, warm page cache");
    match limit {
        Some(l) => println!(
            "openssl dgst -sha256          : {:7.3} s  {:7.0} MB/s  (the limit)",
            l.as_secs_f64(),
            mbs(l)
        ),
        None => println!("openssl dgst -sha256          : not available"),
    }
    for (name, d) in [
        ("encode v1", enc1),
        ("decode v1 (hash verified)", dec1),
        ("check v1", chk1),
        ("encode v17 10+2 B12", enc17),
        ("decode v17 10+2 B12", dec17),
        ("decode v17, 5 % destroyed", dec17d),
        ("repair v17, 5 % destroyed", rep),
    ] {
        let ratio = limit
            .map(|l| {
                format!(
                    "  {:.2}x the openssl time",
                    d.as_secs_f64() / l.as_secs_f64()
                )
            })
            .unwrap_or_default();
        println!(
            "{name:<30}: {:7.3} s  {:7.0} MB/s{ratio}",
            d.as_secs_f64(),
            mbs(d)
        );
    }
    println!(
        "repair: {destroyed} of {} blocks destroyed, {} rebuilt in {} block sets; {:.0} MB/s of container",
        container_bytes / 512,
        report.blocks_repaired,
        report.repaired.len(),
        container_bytes as f64 / 1e6 / rep.as_secs_f64()
    );
    rs_kernels(&input);
}

/// Parity of the first 64 MiB of `input` as v17 10 + 2 block sets, on every kernel.
fn rs_kernels(input: &Path) {
    let data = std::fs::read(input).unwrap();
    let data = &data[..data.len().min(64 << 20)];
    let (m, payload) = (10, Version::V17.payload_size());
    let mut parity = vec![vec![0u8; payload]; 2];
    println!(
        "RS 10+2 parity of {} MiB (in use: {:?}):",
        data.len() >> 20,
        gf256::kernel()
    );
    for k in Kernel::available() {
        let codec = Codec::with_kernel(m, 2, k).unwrap();
        let (d, _) = best(|| {
            for set in data.chunks_exact(m * payload) {
                let refs: Vec<&[u8]> = set.chunks_exact(payload).collect();
                let mut outs: Vec<&mut [u8]> = parity.iter_mut().map(|p| &mut p[..]).collect();
                codec.encode(&refs, &mut outs);
            }
        });
        println!(
            "  {:<28}: {:7.3} s  {:7.0} MB/s",
            k.name(),
            d.as_secs_f64(),
            data.len() as f64 / 1e6 / d.as_secs_f64()
        );
    }
}
