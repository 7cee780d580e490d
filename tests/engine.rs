//! Engine behaviour that the CLI cannot show directly: cancelling, progress, damaged
//! metadata, and the quirk containers the original tools made.

mod common;

use common::*;
use seqbox::engine::decode::{DecodeOpts, DecodeStatus};
use seqbox::engine::encode::{EncodeOpts, Target};
use seqbox::engine::{CancelFlag, Error, Progress, check, decode, encode};
use std::sync::Mutex;

#[test]
fn cancelling_an_encode_or_decode_leaves_no_file_behind() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.bin");
    std::fs::write(&input, noise(20 << 20, 5)).unwrap();
    let cancel = CancelFlag::new();
    let cancel_in_progress = |p: Progress| {
        if p.bytes_done > 0 {
            cancel.cancel();
        }
    };
    let r = encode::run(&EncodeOpts::new(&input), &cancel, &cancel_in_progress);
    assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    encode::run(&EncodeOpts::new(&input), &CancelFlag::new(), &|_| {}).unwrap();
    std::fs::remove_file(&input).unwrap();
    let cancel = CancelFlag::new();
    let cancel_in_progress = |p: Progress| {
        if p.bytes_done > 0 {
            cancel.cancel();
        }
    };
    let r = decode::run(
        &DecodeOpts::new(dir.path().join("big.bin.sbx")),
        &cancel,
        &cancel_in_progress,
    );
    assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "only the container"
    );
}

#[test]
fn progress_is_reported_up_to_the_total() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("f.bin");
    std::fs::write(&input, noise(9 << 20, 6)).unwrap();
    let seen = Mutex::new(Vec::new());
    let r = encode::run(&EncodeOpts::new(&input), &CancelFlag::new(), &|p| {
        seen.lock().unwrap().push(p)
    })
    .unwrap();
    let seen = seen.into_inner().unwrap();
    let last = seen.last().expect("some progress");
    assert_eq!((last.bytes_done, last.bytes_total), (9 << 20, 9 << 20));
    assert_eq!(last.items, r.data_blocks);
    assert!(seen.windows(2).all(|w| w[0].bytes_done <= w[1].bytes_done));
}

#[test]
fn a_damaged_metadata_block_still_gives_the_data_back_unverified() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = std::fs::read(data("seqbox/b4081.v1.sbx")).unwrap();
    c[100] ^= 1; // block 0's CRC now fails
    let path = dir.path().join("m.sbx");
    std::fs::write(&path, &c).unwrap();
    let chk = check::run(
        &check::CheckOpts::new(path.clone()),
        &CancelFlag::new(),
        &|_| {},
    )
    .unwrap();
    assert!(!chk.ok);
    assert_eq!(
        chk.info.offset, 0,
        "the damaged block 0 still marks the start"
    );
    assert_eq!(chk.assembly.damaged[0].offset, 0);
    assert_eq!(chk.assembly.damaged[0].seq, 0);
    let mut opts = DecodeOpts::new(&path);
    opts.output = Target::File(dir.path().join("out"));
    let r = decode::run(&opts, &CancelFlag::new(), &|_| {}).unwrap();
    assert_eq!(r.status, DecodeStatus::Unverified);
    assert!(!r.success(), "damage must not pass as success");
    let out = std::fs::read(dir.path().join("out")).unwrap();
    let original = std::fs::read(data("seqbox/b4081.bin")).unwrap();
    assert_eq!(
        out.len(),
        9 * 496,
        "padding kept: the size was in the lost block"
    );
    assert_eq!(&out[..original.len()], &original[..]);
    assert!(out[original.len()..].iter().all(|&b| b == 0x1A));
}

#[test]
fn files_spanning_many_read_batches_round_trip_in_every_layout() {
    use seqbox::engine::encode::RsParams;
    use seqbox::format::Version;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.bin");
    let data = noise((9 << 20) + 12_345, 11);
    std::fs::write(&input, &data).unwrap();
    for (version, rs) in [
        (Version::V1, RsParams::default()),
        (Version::V2, RsParams::default()),
        (Version::V3, RsParams::default()),
        (Version::V17, RsParams::default()),
        (
            Version::V17,
            RsParams {
                data: 4,
                parity: 2,
                burst: 0,
            },
        ),
        (
            Version::V18,
            RsParams {
                data: 3,
                parity: 2,
                burst: 5,
            },
        ),
        (
            Version::V19,
            RsParams {
                data: 10,
                parity: 3,
                burst: 2,
            },
        ),
    ] {
        let sbx = dir.path().join("big.sbx");
        let opts = EncodeOpts {
            output: Target::File(sbx.clone()),
            version,
            rs,
            ..EncodeOpts::new(&input)
        };
        let e = encode::run(&opts, &CancelFlag::new(), &|_| {}).unwrap();
        assert_eq!(
            std::fs::metadata(&sbx).unwrap().len(),
            e.container_size,
            "{version}"
        );
        let mut d = DecodeOpts::new(&sbx);
        d.output = Target::File(dir.path().join("back"));
        let r = decode::run(&d, &CancelFlag::new(), &|_| {}).unwrap();
        assert_eq!(
            r.status,
            DecodeStatus::Verified,
            "{version}: {:?}",
            r.assembly
        );
        assert_eq!(r.assembly.misplaced_blocks, 0, "{version}");
        assert!(
            std::fs::read(dir.path().join("back")).unwrap() == data,
            "{version}"
        );
        std::fs::remove_file(dir.path().join("back")).unwrap();
        std::fs::remove_file(&sbx).unwrap();
    }
}
