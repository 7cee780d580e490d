//! Test helpers: paths to the fixtures, the vector manifests parsed into rows, hashing,
//! and a runner for the real `seqbox` binary.
#![allow(dead_code)]

pub mod ext4img;
pub mod fatimg;
#[cfg(target_os = "linux")]
pub mod fuse;
pub mod ntfsimg;
pub mod scenario;

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, UNIX_EPOCH};

/// Every vector input's mtime (2020-01-01T00:00:00Z), as stored in FDT.
pub const VECTOR_MTIME: i64 = 1_577_836_800;

pub fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn sha256_file(p: &Path) -> String {
    sha256_hex(&std::fs::read(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display())))
}

pub fn set_mtime(p: &Path, secs: i64) {
    let f = std::fs::File::options().write(true).open(p).unwrap();
    f.set_modified(UNIX_EPOCH + Duration::from_secs(secs as u64))
        .unwrap();
}

/// Copy a vector input into `dir` under its own name, with the vectors' mtime.
pub fn staged_input(dir: &Path, set: &str, name: &str) -> PathBuf {
    let dst = dir.join(name);
    std::fs::copy(data(&format!("{set}/{name}")), &dst).unwrap();
    set_mtime(&dst, VECTOR_MTIME);
    dst
}

/// Deterministic pseudo-random bytes (xorshift), for test files and filler.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// One row of `seqbox/MANIFEST.md` §2: a container the original SBXEnc made.
#[derive(Debug, Clone)]
pub struct SeqboxVector {
    pub container: String,
    pub input: String,
    pub version: u8,
    pub uid: Option<String>,
    pub password: Option<String>,
    pub no_meta: bool,
    pub sdt: Option<i64>,
    /// What the original decoder produced: (bytes, sha256), or None when it refused.
    pub decoded: Option<(u64, String)>,
}

fn cells(line: &str) -> Vec<String> {
    line.trim()
        .trim_matches('|')
        .split('|')
        .map(|c| c.trim().trim_matches('`').to_string())
        .collect()
}

/// Split a command line with single quotes, as the manifest writes them.
fn words(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for ch in cmd.chars() {
        match ch {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

pub fn long_password() -> String {
    "long-password-".repeat(50)[..600].to_string()
}

pub fn seqbox_vectors() -> Vec<SeqboxVector> {
    let text = std::fs::read_to_string(data("seqbox/MANIFEST.md")).unwrap();
    let mut rows = Vec::new();
    for line in text.lines() {
        let c = cells(line);
        if c.len() != 6 || !c[0].ends_with(".sbx") || c[1].is_empty() {
            continue;
        }
        let w = words(&c[1]);
        let (mut version, mut uid, mut password, mut no_meta, mut pos) =
            (1, None, None, false, vec![]);
        let mut i = 0;
        while i < w.len() {
            match w[i].as_str() {
                "-sv" => {
                    version = w[i + 1].parse().unwrap();
                    i += 1;
                }
                "-uid" => {
                    uid = Some(w[i + 1].clone());
                    i += 1;
                }
                "-p" => {
                    let p = w[i + 1].replace("<LONGPW>", &long_password());
                    password = Some(p);
                    i += 1;
                }
                "-nm" => no_meta = true,
                other => pos.push(other.to_string()),
            }
            i += 1;
        }
        let decoded = c[5].split_once(", ").and_then(|(n, h)| {
            Some((
                n.trim().parse().ok()?,
                h.trim().trim_matches('`').to_string(),
            ))
        });
        rows.push(SeqboxVector {
            container: c[0].clone(),
            input: pos[0].clone(),
            version,
            uid,
            password,
            no_meta,
            sdt: c[4].parse().ok(),
            decoded,
        });
    }
    assert!(
        rows.len() >= 32,
        "manifest parsed to only {} rows",
        rows.len()
    );
    rows
}

/// One row of `blkar/MANIFEST.md`: a container blkar made.
#[derive(Debug, Clone)]
pub struct BlkarVector {
    pub container: String,
    pub input: String,
    pub bytes: u64,
    pub sha256: String,
    pub decoded_sha256: String,
    pub version: u8,
    pub rs: Option<(u8, u8, u32)>,
    pub hash: String,
    pub uid: String,
    pub sdt: i64,
}

pub fn blkar_vectors() -> Vec<BlkarVector> {
    let text = std::fs::read_to_string(data("blkar/MANIFEST.md")).unwrap();
    let mut rows = Vec::new();
    for line in text.lines() {
        let c = cells(line);
        if c.len() != 11 || !(c[0].ends_with("sbx")) {
            continue;
        }
        let input = format!("{}.bin", c[0].split('.').next().unwrap());
        let rs = (c[5] != "-").then(|| {
            (
                c[5].parse().unwrap(),
                c[6].parse().unwrap(),
                c[7].parse().unwrap(),
            )
        });
        rows.push(BlkarVector {
            container: c[0].clone(),
            input,
            bytes: c[1].parse().unwrap(),
            sha256: c[2].clone(),
            decoded_sha256: c[3].clone(),
            version: c[4].parse().unwrap(),
            rs,
            hash: c[8].clone(),
            uid: c[9].clone(),
            sdt: c[10].parse().unwrap(),
        });
    }
    assert_eq!(rows.len(), 16, "blkar manifest rows");
    rows
}

/// Run the real binary; `env` adds variables.
pub fn seqbox(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_seqbox"));
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("SEQBOX_PASSWORD");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run seqbox")
}

/// Describe a finished command for an assertion message.
pub fn show(out: &Output, dir: &Path) -> String {
    let listing: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}\n--- dir {}: {:?}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        dir.display(),
        listing
    )
}
