//! The GF(2⁸) kernels and our Reed–Solomon codec against references: every kernel this
//! processor runs against the scalar one, and the codec's parity and reconstruction against
//! reed-solomon-erasure's `galois_8::ReedSolomon` (blkar's code, without its C kernels).

mod common;

use common::noise;
use reed_solomon_erasure::galois_8::ReedSolomon;
use seqbox::format::gf256::{self, Coef, Kernel};
use seqbox::format::rs::Codec;
use std::process::Command;

const LENGTHS: [usize; 14] = [0, 1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 4095, 4096 + 7];

fn scalar_dot(coefs: &[Coef], srcs: &[&[u8]], len: usize) -> Vec<u8> {
    let mut out = vec![0xA5; len];
    gf256::dot(Kernel::Scalar, coefs, srcs, &mut out);
    out
}

#[test]
fn the_scalar_kernel_is_the_field_multiplication() {
    let src = noise(300, 1);
    for c in 0..=255u8 {
        let out = scalar_dot(&[Coef::new(c)], &[&src], src.len());
        for (i, (&o, &x)) in out.iter().zip(&src).enumerate() {
            assert_eq!(o, gf256::mul(c, x), "c {c:#04x}, byte {i}");
        }
    }
}

#[test]
fn every_kernel_equals_scalar_for_all_coefficients_and_odd_lengths() {
    let kernels = Kernel::available();
    eprintln!("kernels on this processor: {kernels:?}");
    for &k in &kernels {
        for c in 0..=255u8 {
            for (n, &len) in LENGTHS.iter().enumerate() {
                // Unaligned sources and destinations too (offset 0..3).
                let off = (c as usize + n) % 4;
                let src = noise(len + off, u64::from(c) * 31 + n as u64);
                let src = &src[off..];
                let want = scalar_dot(&[Coef::new(c)], &[src], len);
                let mut got = vec![0x5Au8; len + off];
                gf256::dot(k, &[Coef::new(c)], &[src], &mut got[off..]);
                assert_eq!(&got[off..], &want[..], "{k:?}, c {c:#04x}, length {len}");
                assert!(
                    got[..off].iter().all(|&b| b == 0x5A),
                    "{k:?} wrote before dst"
                );
            }
        }
    }
}

#[test]
fn every_kernel_equals_scalar_summing_many_sources() {
    for k in Kernel::available() {
        for (round, &len) in LENGTHS.iter().enumerate() {
            for sources in [1usize, 2, 3, 10, 17, 64] {
                let seed = (round * 100 + sources) as u64;
                let coef_bytes = noise(sources, seed);
                let coefs: Vec<Coef> = coef_bytes.iter().map(|&c| Coef::new(c)).collect();
                // Sources longer than the destination: only dst's length is read.
                let data: Vec<Vec<u8>> = (0..sources)
                    .map(|j| noise(len + j % 3, seed * 7 + j as u64))
                    .collect();
                let srcs: Vec<&[u8]> = data.iter().map(|d| &d[..]).collect();
                let want = scalar_dot(&coefs, &srcs, len);
                let mut got = vec![0u8; len];
                gf256::dot(k, &coefs, &srcs, &mut got);
                assert_eq!(got, want, "{k:?}, {sources} sources, length {len}");
            }
        }
    }
}

fn shapes() -> Vec<(usize, usize)> {
    vec![
        (1, 1),
        (1, 3),
        (2, 1),
        (3, 2),
        (4, 2),
        (5, 5),
        (10, 2),
        (10, 3),
        (10, 4),
        (16, 16),
        (17, 4),
        (20, 10),
        (31, 5),
        (64, 32),
        (100, 28),
        (128, 4),
        (200, 56),
        (250, 5),
        (255, 1),
        (1, 255),
    ]
}

fn shards(m: usize, len: usize, seed: u64) -> Vec<Vec<u8>> {
    (0..m).map(|j| noise(len, seed * 1000 + j as u64)).collect()
}

fn reference_parity(m: usize, p: usize, data: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let rs = ReedSolomon::new(m, p).unwrap();
    let len = data[0].len();
    let mut par = vec![vec![0u8; len]; p];
    let refs: Vec<&[u8]> = data.iter().map(|d| &d[..]).collect();
    let mut outs: Vec<&mut [u8]> = par.iter_mut().map(|x| &mut x[..]).collect();
    rs.encode_sep(&refs, &mut outs).unwrap();
    par
}

fn our_parity(codec: &Codec, data: &[Vec<u8>], p: usize) -> Vec<Vec<u8>> {
    let len = data[0].len();
    let mut par = vec![vec![0x77u8; len]; p];
    let refs: Vec<&[u8]> = data.iter().map(|d| &d[..]).collect();
    let mut outs: Vec<&mut [u8]> = par.iter_mut().map(|x| &mut x[..]).collect();
    codec.encode(&refs, &mut outs);
    par
}

#[test]
fn parity_equals_reed_solomon_erasure_for_many_shapes_on_every_kernel() {
    for (i, (m, p)) in shapes().into_iter().enumerate() {
        for len in [1usize, 97, 496] {
            let data = shards(m, len, (i * 10 + len) as u64);
            let want = reference_parity(m, p, &data);
            for k in Kernel::available() {
                let codec = Codec::with_kernel(m, p, k).unwrap();
                assert_eq!(
                    our_parity(&codec, &data, p),
                    want,
                    "{m}+{p}, length {len}, {k:?}"
                );
            }
        }
    }
}

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

#[test]
fn reconstruction_round_trips_and_agrees_with_reed_solomon_erasure() {
    let mut rng = 0x1234_5678_9ABC_DEF1u64;
    for (i, (m, p)) in shapes().into_iter().enumerate() {
        let len = 131;
        let data = shards(m, len, 50 + i as u64);
        let parity = reference_parity(m, p, &data);
        let all: Vec<Vec<u8>> = data.into_iter().chain(parity).collect();
        let reference = ReedSolomon::new(m, p).unwrap();
        for k in Kernel::available() {
            let codec = Codec::with_kernel(m, p, k).unwrap();
            // Erase 1..=P shards, then P + 1 (which must fail), several patterns each; a
            // repeated pattern exercises the decoder cache.
            for round in 0..12 {
                let lost = if round == 11 {
                    p + 1
                } else {
                    1 + (xorshift(&mut rng) as usize) % p
                };
                let mut order: Vec<usize> = (0..m + p).collect();
                for a in 0..lost.min(m + p) {
                    let b = a + (xorshift(&mut rng) as usize) % (m + p - a);
                    order.swap(a, b);
                }
                let mut ours: Vec<Option<Vec<u8>>> = all.iter().cloned().map(Some).collect();
                for &j in &order[..lost.min(m + p)] {
                    ours[j] = None;
                }
                let mut theirs = ours.clone();
                let r_ours = codec.reconstruct(&mut ours);
                let r_theirs = reference.reconstruct(&mut theirs);
                assert_eq!(
                    r_ours.is_ok(),
                    r_theirs.is_ok(),
                    "{m}+{p}, {lost} lost, {k:?}"
                );
                if lost > p {
                    assert!(r_ours.is_err(), "{m}+{p}: {lost} lost cannot be rebuilt");
                    continue;
                }
                r_ours.unwrap();
                let back: Vec<Vec<u8>> = ours.into_iter().map(Option::unwrap).collect();
                assert_eq!(back, all, "{m}+{p}, {lost} lost, {k:?}");
                let theirs: Vec<Vec<u8>> = theirs.into_iter().map(Option::unwrap).collect();
                assert_eq!(theirs, all);
                let refs: Vec<&[u8]> = back.iter().map(|s| &s[..]).collect();
                assert!(codec.verify(&refs));
            }
        }
    }
}

#[test]
fn a_forced_kernel_writes_the_same_container() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.bin");
    std::fs::write(&input, noise(60_000, 9)).unwrap();
    // The container's name is stored in it: the same name in a folder per kernel.
    let encode = |kernel: Option<&str>, folder: &str| {
        let out = dir.path().join(folder).join("c.sbx");
        std::fs::create_dir(dir.path().join(folder)).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_seqbox"));
        cmd.env_remove(gf256::KERNEL_ENV)
            .env("SOURCE_DATE_EPOCH", "0")
            .args(["encode", "--uid", "0a0b0c0d0e0f", "-o"])
            .arg(&out)
            .arg(&input);
        if let Some(k) = kernel {
            cmd.env(gf256::KERNEL_ENV, k);
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{cmd:?}: {o:?}");
        std::fs::read(&out).unwrap()
    };
    let default = encode(None, "default");
    for k in Kernel::available() {
        let forced = encode(Some(k.name()), k.name());
        assert!(forced == default, "{k:?} wrote a different container");
    }
    // A kernel this processor lacks, or a misspelt one, falls back instead of crashing.
    assert!(encode(Some("neon-or-nothing"), "unknown") == default);
}
