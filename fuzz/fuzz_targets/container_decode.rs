//! Container open + info + decode + check of arbitrary bytes: always plain; then, as the
//! input's first byte says (its value mod 3), also with the password `fuzz` or with a burst
//! level given by the user (4 × the first byte).
//!
//! Invariants: never a panic; a decode that says verified wrote bytes that hash to the stored
//! digest; a decode that wrote nothing left nothing behind; decode and check of the same
//! container with the same options see the same assembly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seqbox::engine::check::{self, CheckOpts};
use seqbox::engine::decode::{self, DecodeOpts, DecodeStatus};
use seqbox::engine::encode::Target;
use seqbox::engine::info;
use seqbox::engine::words;
use seqbox_fuzz::{
    assert_hash_holds, assert_only_outputs, fix_crcs, fixes_crcs, fresh_dir, never, put, quiet,
};

fuzz_target!(init: seqbox_fuzz::seeds::write_if_asked("container_decode"), |data: &[u8]| {
    let mut bytes = data.to_vec();
    if fixes_crcs(data) {
        fix_crcs(&mut bytes);
    }
    let data = &bytes[..];
    let path = put("in.sbx", data);
    let _ = info::run(&path, None);
    one(&path, None, None);
    match data.first().map(|&b| (b % 3, u32::from(b) * 4)) {
        Some((1, _)) => one(&path, Some("fuzz"), None),
        Some((2, burst)) => one(&path, None, Some(burst)),
        _ => {}
    }
});

fn one(path: &std::path::Path, password: Option<&str>, burst: Option<u32>) {
    let out = fresh_dir("out");
    let mut opts = DecodeOpts::new(path);
    opts.output = Target::Folder(out.clone());
    opts.password = password.map(str::to_string);
    opts.burst = burst;
    let decoded = decode::run(&opts, &never(), &quiet);
    let what = format!("decode (password {password:?}, burst {burst:?})");
    let checked = check::run(
        &CheckOpts {
            container: path.to_path_buf(),
            password: opts.password.clone(),
            burst,
        },
        &never(),
        &quiet,
    );
    let Ok(d) = decoded else {
        assert_only_outputs(&format!("{what} (failed)"), &out, &[]);
        return;
    };
    match d.status {
        DecodeStatus::Verified | DecodeStatus::Unverified => {
            let written = d
                .output
                .as_ref()
                .expect("a decode that succeeded names its output");
            assert_only_outputs(&what, &out, std::slice::from_ref(written));
            assert_hash_holds(&what, &d.assembly.hash, written);
            let len = std::fs::metadata(written).expect("output").len();
            if d.status == DecodeStatus::Verified {
                assert_eq!(len, d.assembly.data_len, "{what}: output length");
            }
            if let Some(n) = d.info.metadata.as_ref().and_then(|m| m.file_size) {
                assert_eq!(len, n, "{what}: output length against the stored size");
            }
        }
        DecodeStatus::Incomplete | DecodeStatus::HashMismatch => {
            assert!(d.output.is_none());
            assert_only_outputs(&what, &out, &[]);
        }
    }
    // The same reader and assembly behind both jobs: they must agree.
    let c = checked.unwrap_or_else(|e| panic!("{what} succeeded but check failed: {e}"));
    assert_eq!(
        c.assembly.hash, d.assembly.hash,
        "{what}: hash verdicts differ"
    );
    assert_eq!(
        c.assembly.missing_blocks, d.assembly.missing_blocks,
        "{what}: missing"
    );
    assert_eq!(
        c.assembly.damaged_blocks, d.assembly.damaged_blocks,
        "{what}: damaged"
    );
    if c.ok {
        assert!(
            matches!(d.status, DecodeStatus::Verified | DecodeStatus::Unverified),
            "{what}: check says ok, decode says {:?}",
            d.status
        );
    }
    // One verdict for both (issue 11, defect 5): check and decode never disagree on whether
    // the file is safe, and a safe decode has written its output.
    let (dv, cv) = (words::decode(&d).verdict, words::check(&c).verdict);
    assert_eq!(
        dv.is_safe(),
        cv.is_safe(),
        "{what}: decode says {dv:?}, check says {cv:?}"
    );
    if dv.is_safe() {
        assert!(d.output.is_some(), "{what}: safe without an output");
    }
}
