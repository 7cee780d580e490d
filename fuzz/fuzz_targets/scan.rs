//! Scan of arbitrary bytes as a source into a fresh catalogue, then recovery of everything
//! found (partial files too), with or without a password (the input's last byte decides).
//!
//! Invariants: never a panic; the scan accounts for every byte; a container recovered as
//! verified hashes to its stored digest; a result without output wrote nothing; no
//! temporary file is left behind.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seqbox::engine::recover::{self, RecoverOpts, RecoverStatus, Selection};
use seqbox::engine::scan::{self, ScanOpts};
use seqbox::engine::words;
use seqbox_fuzz::{
    assert_hash_holds, assert_no_temp_files, assert_only_outputs, fix_crcs, fixes_crcs, fresh_dir,
    never, put, quiet, remove_db, scratch,
};

fuzz_target!(init: seqbox_fuzz::seeds::write_if_asked("scan"), |data: &[u8]| {
    let mut bytes = data.to_vec();
    if fixes_crcs(data) {
        fix_crcs(&mut bytes);
    }
    let data = &bytes[..];
    let source = put("source.img", data);
    let catalog = scratch().join("scan.sqlite");
    remove_db(&catalog);
    let password = data.last().is_some_and(|b| b & 1 == 1).then(|| "fuzz".to_string());
    let opts = ScanOpts {
        sources: vec![source.clone()],
        catalog: catalog.clone(),
        password: password.clone(),
        ..ScanOpts::default()
    };
    let report = match scan::run(&opts, &never(), &quiet) {
        Ok(r) => r,
        Err(e) => panic!("scan of a readable file failed: {e}"),
    };
    let s = &report.sources[0];
    assert_eq!(s.size, data.len() as u64);
    assert_eq!(s.scanned_to, data.len() as u64, "scan stopped early");
    assert_eq!(s.unreadable_sectors, 0);

    let out = fresh_dir("recovered");
    let ropts = RecoverOpts {
        catalog: catalog.clone(),
        out_dir: out.clone(),
        select: Selection::All,
        partial: true,
        password,
    };
    let Ok(r) = recover::run(&ropts, &never(), &quiet) else {
        assert_no_temp_files("recover (failed)", &out);
        return;
    };
    let mut written = Vec::new();
    for c in &r.results {
        let what = format!("recover of {} ({:?})", c.uid, c.status);
        if c.verified {
            assert!(matches!(c.status, RecoverStatus::Complete | RecoverStatus::Repaired));
        }
        // A safe verdict (exit 0) only ever comes with a written, whole output.
        if words::recovered(c).verdict.is_safe() {
            assert!(c.output.is_some(), "{what}: safe without an output");
            assert!(c.assembly.complete(), "{what}: safe with data missing");
        }
        match (&c.output, c.status) {
            (Some(p), _) => {
                assert_hash_holds(&what, &c.assembly.hash, p);
                written.push(p.clone());
            }
            (None, RecoverStatus::Complete | RecoverStatus::Repaired | RecoverStatus::Partial) => {
                panic!("{what}: kept no output")
            }
            (None, RecoverStatus::Unrecoverable | RecoverStatus::NeedsPassword) => {}
        }
    }
    assert_only_outputs("recover", &out, &written);
});
