//! The real binary on a 2010 processor (Westmere: SSSE3, no AVX/AVX2), through
//! `qemu-x86_64 -cpu Westmere`: encode (v17, v18, v19), decode, check and repair must run to
//! exit code 0 and write exactly the bytes the host writes. A kernel compiled for newer
//! processors than it checks for shows here as `Illegal instruction` (issue #13).
//!
//! Needs `qemu-user` (CI installs it); `SEQBOX_SKIP_QEMU=1` skips the test where it cannot be
//! installed.
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

mod common;

use common::{noise, set_mtime, show};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const QEMU: &str = "qemu-x86_64";
const CPU: &str = "Westmere";

fn qemu() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(QEMU))
        .find(|p| p.is_file())
}

/// Run seqbox on the host (`old` false) or on the old processor (`old` true), in `dir`.
fn run(old: bool, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let bin = env!("CARGO_BIN_EXE_seqbox");
    let mut cmd = if old {
        let mut c = Command::new(QEMU);
        c.args(["-cpu", CPU, bin]);
        c
    } else {
        Command::new(bin)
    };
    cmd.args(args)
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", "0")
        .env_remove("SEQBOX_PASSWORD")
        .env_remove("SEQBOX_GF_KERNEL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"))
}

fn ok(out: Output, what: &str, dir: &Path) -> Output {
    assert_eq!(out.status.code(), Some(0), "{what}\n{}", show(&out, dir));
    out
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
}

const PROBE_ENV: &str = "SEQBOX_PROBE_FEATURES";

/// Prints what the processor reports, when asked (run under qemu by the test below).
#[test]
fn probe_features() {
    if std::env::var_os(PROBE_ENV).is_some() {
        println!(
            "avx2={} ssse3={}",
            std::arch::is_x86_feature_detected!("avx2"),
            std::arch::is_x86_feature_detected!("ssse3")
        );
    }
}

#[test]
fn encode_decode_check_and_repair_run_on_a_processor_without_avx2() {
    if qemu().is_none() {
        if std::env::var("SEQBOX_SKIP_QEMU").is_ok_and(|v| v == "1") {
            eprintln!("skipped: {QEMU} not installed and SEQBOX_SKIP_QEMU=1");
            return;
        }
        panic!(
            "{QEMU} is not installed: install qemu-user (apt-get install qemu-user) to run \
             this test, or set SEQBOX_SKIP_QEMU=1 to skip it"
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let input = dir.join("input.bin");
    std::fs::write(&input, noise(150_000, 13)).unwrap();
    set_mtime(&input, 1_577_836_800);
    for sub in ["host", "old", "forced"] {
        std::fs::create_dir(dir.join(sub)).unwrap();
    }

    // The emulated processor really lacks AVX2 (else this test proves nothing): ask this
    // test binary itself, run under qemu (qemu-user shows the host's /proc/cpuinfo).
    let probe = Command::new(QEMU)
        .args(["-cpu", CPU])
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "probe_features",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(PROBE_ENV, "1")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&probe.stdout);
    assert!(
        said.contains("avx2=false ssse3=true"),
        "qemu's {CPU} should have SSSE3 and no AVX2; the probe said:\n{said}\n{}",
        String::from_utf8_lossy(&probe.stderr)
    );

    for v in ["17", "18", "19"] {
        // The container's name is stored in it: the same name in two folders.
        let (host, old) = (format!("host/v{v}.sbx"), format!("old/v{v}.sbx"));
        let encode = |old: bool, out: &str, env: &[(&str, &str)]| {
            let args = [
                "encode",
                "--sbx-version",
                v,
                "--uid",
                "0102030405a6",
                "-o",
                out,
                "input.bin",
            ];
            ok(run(old, dir, &args, env), &format!("encode v{v}"), dir);
        };
        encode(false, &host, &[]);
        encode(true, &old, &[]);
        assert!(
            read(dir, &host) == read(dir, &old),
            "v{v}: the old processor wrote a different container"
        );
        if v == "17" {
            // Asking for AVX2 where there is none falls back instead of crashing.
            encode(true, "forced/v17.sbx", &[("SEQBOX_GF_KERNEL", "avx2")]);
            assert!(read(dir, "forced/v17.sbx") == read(dir, &host));
        }
    }

    ok(
        run(
            true,
            dir,
            &["decode", "-o", "decoded.bin", "old/v17.sbx"],
            &[],
        ),
        "decode",
        dir,
    );
    assert!(read(dir, "decoded.bin") == read(dir, "input.bin"));
    ok(run(true, dir, &["check", "old/v19.sbx"], &[]), "check", dir);

    // Destroy a few blocks (in different block sets), then repair a copy on both machines.
    let good = read(dir, "host/v17.sbx");
    let mut bad = good.clone();
    for slot in [4usize, 30, 77, 150, 290] {
        bad[slot * 512..(slot + 1) * 512].fill(0);
    }
    std::fs::write(dir.join("damaged.sbx"), &bad).unwrap();
    for (old, out) in [(false, "host-repaired.sbx"), (true, "old-repaired.sbx")] {
        ok(
            run(old, dir, &["repair", "-o", out, "damaged.sbx"], &[]),
            "repair",
            dir,
        );
        assert!(
            read(dir, out) == good,
            "{out} differs from the undamaged container"
        );
    }
    ok(
        run(true, dir, &["check", "old-repaired.sbx"], &[]),
        "check after repair",
        dir,
    );
}
