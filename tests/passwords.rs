//! Passwords kept out of the process list (issue 11, defect 9): `--password-file FILE` (`-` is
//! standard input) and `SEQBOX_PASSWORD` for every command that takes `--password`, their
//! order of precedence, usage errors, and the warning in `--help`. Through the real binary.

mod common;

use common::*;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const COMMANDS: [&str; 6] = ["encode", "decode", "info", "check", "scan", "recover"];

/// Run the binary with `stdin` fed in and SEQBOX_PASSWORD only when `env` says so.
fn seqbox_stdin(args: &[&str], cwd: &Path, env: Option<&str>, stdin: &[u8]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_seqbox"));
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("SEQBOX_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(v) = env {
        cmd.env("SEQBOX_PASSWORD", v);
    }
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn run(args: &[&str], cwd: &Path, env: Option<&str>) -> Output {
    match env {
        Some(v) => seqbox(args, cwd, &[("SEQBOX_PASSWORD", v)]),
        None => seqbox(args, cwd, &[]),
    }
}

/// `f.txt` and its v1 container `f.txt.sbx` made with the password "s3cret word", given
/// through a file with a trailing newline.
fn setup(d: &Path) -> Vec<u8> {
    let data = noise(20_000, 51);
    std::fs::write(d.join("f.txt"), &data).unwrap();
    std::fs::write(d.join("pw"), "s3cret word\n").unwrap();
    std::fs::write(d.join("wrong"), "nope\n").unwrap();
    let o = run(
        &[
            "encode",
            "--sbx-version",
            "1",
            "--password-file",
            "pw",
            "f.txt",
        ],
        d,
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    data
}

#[test]
fn every_password_command_warns_in_its_help_and_offers_a_file() {
    let d = tempfile::tempdir().unwrap();
    for c in COMMANDS {
        let o = run(&[c, "--help"], d.path(), None);
        let help = String::from_utf8_lossy(&o.stdout);
        assert!(help.contains("--password-file <FILE>"), "{c}: {help}");
        assert!(help.contains("process list"), "{c}: {help}");
        assert!(help.contains("SEQBOX_PASSWORD"), "{c}: {help}");
    }
}

#[test]
fn the_password_comes_from_a_file_stdin_or_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = setup(d);
    // The file's trailing newline is not part of the password: --password agrees.
    let o = run(
        &[
            "decode",
            "--password",
            "s3cret word",
            "f.txt.sbx",
            "-o",
            "a",
        ],
        d,
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    assert!(std::fs::read(d.join("a")).unwrap() == data);

    let o = seqbox_stdin(
        &["decode", "--password-file", "-", "f.txt.sbx", "-o", "b"],
        d,
        None,
        b"s3cret word\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    assert!(std::fs::read(d.join("b")).unwrap() == data);

    let o = run(&["decode", "f.txt.sbx", "-o", "c"], d, Some("s3cret word"));
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    assert!(std::fs::read(d.join("c")).unwrap() == data);

    for c in ["info", "check"] {
        let o = run(
            &[c, "--json", "--password-file", "pw", "f.txt.sbx"],
            d,
            None,
        );
        assert_eq!(o.status.code(), Some(0), "{c}: {}", show(&o, d));
        let o = run(&[c, "--json", "f.txt.sbx"], d, Some("s3cret word"));
        assert_eq!(o.status.code(), Some(0), "{c}: {}", show(&o, d));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["ok"], true, "{c}: {v}");
    }

    // scan and recover: one with the file, the other with the variable.
    std::fs::copy(d.join("f.txt.sbx"), d.join("disk.img")).unwrap();
    let o = run(
        &[
            "scan",
            "--catalog",
            "c.sqlite",
            "--password-file",
            "pw",
            "disk.img",
        ],
        d,
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    let o = run(
        &["recover", "--catalog", "c.sqlite", "--out", "rec"],
        d,
        Some("s3cret word"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    assert!(std::fs::read(d.join("rec/f.txt")).unwrap() == data);
    let o = seqbox_stdin(
        &[
            "recover",
            "--catalog",
            "c.sqlite",
            "--out",
            "rec2",
            "--password-file",
            "-",
        ],
        d,
        None,
        b"s3cret word",
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    assert!(std::fs::read(d.join("rec2/f.txt")).unwrap() == data);
}

#[test]
fn options_win_over_the_environment_and_two_options_are_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = setup(d);
    // --password and --password-file each win over a wrong SEQBOX_PASSWORD.
    let o = run(
        &[
            "decode",
            "--password",
            "s3cret word",
            "f.txt.sbx",
            "-o",
            "a",
        ],
        d,
        Some("nope"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    assert!(std::fs::read(d.join("a")).unwrap() == data);
    let o = run(
        &["decode", "--password-file", "pw", "f.txt.sbx", "-o", "b"],
        d,
        Some("nope"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    // A wrong password from the file is used, not silently replaced by the variable.
    let o = run(
        &["check", "--password-file", "wrong", "f.txt.sbx"],
        d,
        Some("s3cret word"),
    );
    assert_eq!(o.status.code(), Some(2), "{}", show(&o, d));

    for c in COMMANDS {
        let mut args = vec![c, "--password", "x", "--password-file", "pw"];
        args.extend(match c {
            "scan" => vec!["--catalog", "u.sqlite", "disk.img"],
            "recover" => vec!["--catalog", "u.sqlite", "--out", "u"],
            _ => vec!["f.txt.sbx"],
        });
        let o = run(&args, d, None);
        assert_eq!(o.status.code(), Some(1), "{c}: {}", show(&o, d));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("cannot be used with"),
            "{c}: {}",
            show(&o, d)
        );
    }
    let o = run(
        &[
            "decode",
            "--password-file",
            "missing",
            "f.txt.sbx",
            "-o",
            "m",
        ],
        d,
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o, d));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read the password file missing"));
    std::fs::write(d.join("empty"), "\n").unwrap();
    let o = run(
        &[
            "encode",
            "--sbx-version",
            "1",
            "--password-file",
            "empty",
            "f.txt",
            "-o",
            "e.sbx",
        ],
        d,
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o, d));
    assert!(!d.join("e.sbx").exists() && !d.join("u.sqlite").exists() && !d.join("m").exists());
}

/// A password set in the environment for some containers does not stop a container stored
/// without one from opening (decode, check, info); one given on the command line for such a
/// container is still refused, plainly.
#[test]
fn a_password_from_the_environment_is_not_forced_on_plain_containers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = noise(9_000, 52);
    std::fs::write(d.join("plain.bin"), &data).unwrap();
    let o = run(&["encode", "--sbx-version", "1", "plain.bin"], d, None);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    std::fs::remove_file(d.join("plain.bin")).unwrap();
    for cmd in ["info", "check", "decode"] {
        let o = run(&[cmd, "plain.bin.sbx"], d, Some("s3cret word"));
        assert_eq!(o.status.code(), Some(0), "{cmd}: {}", show(&o, d));
    }
    assert_eq!(std::fs::read(d.join("plain.bin")).unwrap(), data);
    let o = run(&["check", "--password", "x", "plain.bin.sbx"], d, None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("has no password; open it without one"),
        "{}",
        show(&o, d)
    );
}
