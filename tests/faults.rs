//! Read faults through the reader seam (`engine::source`): a source that answers EIO for
//! chosen byte ranges under the container reader (decode, check) and under a recovery. An
//! unreadable block is a missing block: Reed–Solomon fills it where it can, the unreadable
//! bytes are reported exactly, and everything else comes back. (tests/fuse_faults.rs does
//! the same through a real failing file system and the real binary.)

mod common;

use common::*;
use seqbox::engine::assemble::{HashCheck, MissingRange, assemble};
use seqbox::engine::container::Container;
use seqbox::engine::encode::{EncodeOpts, RsParams, Target};
use seqbox::engine::recover::{RecoverOpts, RecoverStatus, Selection};
use seqbox::engine::scan::ScanOpts;
use seqbox::engine::source::{ByteRange, FaultySource, ReadAt};
use seqbox::engine::sources::SourceRange;
use seqbox::engine::{CancelFlag, Stage, encode, recover, scan};
use seqbox::format::Version;
use seqbox::format::block::parse_uid;
use std::io::Read;
use std::path::Path;

/// Encode `data` and return the container's bytes.
fn container(dir: &Path, data: &[u8], version: Version, rs: RsParams, uid: &str) -> Vec<u8> {
    let input = dir.join(format!("{uid}.bin"));
    std::fs::write(&input, data).unwrap();
    let out = dir.join(format!("{uid}.sbx"));
    let opts = EncodeOpts {
        output: Target::File(out.clone()),
        version,
        rs,
        uid: Some(parse_uid(uid).unwrap()),
        sbx_time: Some(1_700_000_000),
        ..EncodeOpts::new(&input)
    };
    encode::run(&opts, &CancelFlag::new(), &|_| {}).unwrap();
    std::fs::read(out).unwrap()
}

/// Whole 512-byte sectors covering `start..end`.
fn sectors(start: u64, end: u64) -> ByteRange {
    ByteRange::new(start / 512 * 512, end.div_ceil(512) * 512)
}

/// Reassemble the container in `bytes` read through a source failing at `bad`; returns
/// the assembly and the bytes written.
fn decode_through(
    bytes: &[u8],
    bad: Vec<ByteRange>,
    max_read: usize,
) -> (seqbox::engine::assemble::Assembly, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let src = FaultySource {
        bytes: bytes.to_vec(),
        bad,
        max_read,
    };
    let mut c = Container::open_source(
        Path::new("failing.sbx"),
        Box::new(src),
        bytes.len() as u64,
        None,
        None,
    )
    .unwrap();
    let out_path = dir.path().join("out");
    let mut out = std::fs::File::create(&out_path).unwrap();
    let a = assemble(
        &mut c,
        Some((&mut out, &out_path)),
        Stage::Decoding,
        &CancelFlag::new(),
        &|_| {},
    )
    .unwrap();
    drop(out);
    let mut written = Vec::new();
    std::fs::File::open(&out_path)
        .unwrap()
        .read_to_end(&mut written)
        .unwrap();
    (a, written)
}

#[test]
fn a_v17_container_with_an_unreadable_4k_range_decodes_bit_exact_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let data = noise(300_000, 1);
    let c = container(
        dir.path(),
        &data,
        Version::V17,
        RsParams::default(),
        "00000000a017",
    );
    // Unaligned: 9 sectors (9 blocks of 512 bytes, each in another block set at burst 12).
    let bad = ByteRange::new(100_000, 104_096);
    for max_read in [usize::MAX, 64 << 10] {
        let (a, out) = decode_through(&c, vec![bad], max_read);
        assert_eq!(out, data, "bit-exact");
        assert!(matches!(a.hash, HashCheck::Match { .. }), "{:?}", a.hash);
        assert_eq!(a.unreadable, vec![sectors(bad.start, bad.end)]);
        assert_eq!((a.unreadable_bytes, a.unreadable_blocks), (9 * 512, 9));
        assert_eq!(a.damaged_blocks, 0, "unreadable is not damaged");
        assert_eq!(
            (a.absent_blocks, a.repaired_sets, a.missing_blocks),
            (9, 9, 0)
        );
    }
    // The first 4 KiB (a metadata copy among them) unreadable: the reader settles on the
    // next copies and RS fills the rest.
    let (a, out) = decode_through(&c, vec![ByteRange::new(0, 4096)], usize::MAX);
    assert_eq!(out, data);
    assert!(matches!(a.hash, HashCheck::Match { .. }));
    assert_eq!(a.unreadable, vec![ByteRange::new(0, 4096)]);
    assert_eq!(a.damaged_blocks, 0);
}

#[test]
fn a_partly_unreadable_block_is_absent_not_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let data = noise(200_000, 2);
    let rs = RsParams {
        data: 4,
        parity: 2,
        burst: 0,
    };
    let c = container(dir.path(), &data, Version::V19, rs, "00000000a019");
    // One sector in the middle of the 6th block (4096-byte blocks): its header is readable.
    let bad = ByteRange::new(5 * 4096 + 1024, 5 * 4096 + 1536);
    let (a, out) = decode_through(&c, vec![bad], usize::MAX);
    assert_eq!(out, data);
    assert_eq!(a.damaged_blocks, 0, "{:?}", a.damaged);
    assert_eq!((a.unreadable_blocks, a.absent_blocks), (1, 1));
    assert_eq!(a.absent[0].offset, Some(5 * 4096));
    assert_eq!(a.unreadable, vec![bad]);
}

#[test]
fn a_v1_container_with_an_unreadable_range_lists_exactly_the_lost_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let data = noise(100_000, 3);
    let c = container(
        dir.path(),
        &data,
        Version::V1,
        RsParams::default(),
        "00000000a001",
    );
    // Blocks 20..=27 (512 bytes each; block 0 is the metadata): data chunks 19..=26.
    let (a, _) = decode_through(&c, vec![ByteRange::new(20 * 512, 28 * 512)], usize::MAX);
    assert_eq!(
        a.missing,
        vec![MissingRange {
            first_seq: 20,
            last_seq: 27,
            blocks: 8,
            byte_start: 19 * 496,
            byte_end: 27 * 496,
        }]
    );
    assert_eq!(a.hash, HashCheck::NotChecked);
    assert_eq!(a.damaged_blocks, 0);
    assert_eq!(a.unreadable, vec![ByteRange::new(20 * 512, 28 * 512)]);
}

/// An image of two containers at unaligned offsets between other data.
struct Image {
    bytes: Vec<u8>,
    a_at: u64,
    b_at: u64,
    a_data: Vec<u8>,
    b_data: Vec<u8>,
}

fn image(dir: &Path) -> Image {
    let a_data = noise(200_000, 4);
    let b_data = noise(100_000, 5);
    let a = container(
        dir,
        &a_data,
        Version::V17,
        RsParams::default(),
        "0000000b0017",
    );
    let b = container(
        dir,
        &b_data,
        Version::V1,
        RsParams::default(),
        "0000000b0001",
    );
    let mut bytes = noise(3000, 6);
    let a_at = bytes.len() as u64;
    bytes.extend_from_slice(&a);
    bytes.extend_from_slice(&noise(5001, 7));
    let b_at = bytes.len() as u64;
    bytes.extend_from_slice(&b);
    bytes.extend_from_slice(&[0; 4096]);
    Image {
        bytes,
        a_at,
        b_at,
        a_data,
        b_data,
    }
}

#[test]
fn a_recovery_whose_source_fails_to_read_recovers_what_parity_allows_and_reports_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let img = image(dir.path());
    let path = dir.path().join("disk.img");
    std::fs::write(&path, &img.bytes).unwrap();
    let catalog = dir.path().join("disk.sqlite");
    let opts = ScanOpts {
        sources: vec![path.clone()],
        catalog: catalog.clone(),
        ..Default::default()
    };
    scan::run(&opts, &CancelFlag::new(), &|_| {}).unwrap();

    // The disk starts failing after the scan: 4 KiB in each container.
    let bad_a = ByteRange::new(img.a_at + 50_000, img.a_at + 54_096);
    let bad_b = ByteRange::new(img.b_at + 20_000, img.b_at + 24_096);
    let failing = img.bytes.clone();
    let open = move |_: &Path| -> std::io::Result<Box<dyn ReadAt>> {
        Ok(Box::new(FaultySource::new(
            failing.clone(),
            vec![bad_a, bad_b],
        )))
    };
    let out = dir.path().join("out");
    let ropts = RecoverOpts {
        catalog,
        out_dir: out.clone(),
        select: Selection::All,
        partial: true,
        password: None,
    };
    let r = recover::run_with(&ropts, &open, &CancelFlag::new(), &|_| {}).unwrap();
    let a = r.results.iter().find(|c| c.uid == "0000000b0017").unwrap();
    let b = r.results.iter().find(|c| c.uid == "0000000b0001").unwrap();

    // A: Reed–Solomon fills the unreadable blocks; the report says where they were.
    assert_eq!(a.status, RecoverStatus::Repaired, "{a:#?}");
    assert_eq!(
        std::fs::read(a.output.as_ref().unwrap()).unwrap(),
        img.a_data
    );
    let sa = sectors(bad_a.start, bad_a.end);
    assert_eq!(
        a.unreadable,
        vec![SourceRange {
            source: path.clone(),
            start: sa.start,
            end: sa.end
        }]
    );
    assert_eq!(a.unreadable_bytes, sa.len());

    // B (no parity): exactly the data of the blocks touching the unreadable sectors is lost.
    let sb = sectors(bad_b.start, bad_b.end);
    let first = (sb.start - img.b_at) / 512;
    let last = (sb.end - 1 - img.b_at) / 512;
    assert_eq!(b.status, RecoverStatus::Partial);
    assert_eq!(
        b.missing,
        vec![MissingRange {
            first_seq: first as u32,
            last_seq: last as u32,
            blocks: last - first + 1,
            byte_start: (first - 1) * 496,
            byte_end: last * 496,
        }]
    );
    assert_eq!(
        b.unreadable,
        vec![SourceRange {
            source: path.clone(),
            start: sb.start,
            end: sb.end
        }]
    );
    // Everything else of B came back (the partial file holds zeros in the hole).
    let got = std::fs::read(b.output.as_ref().unwrap()).unwrap();
    assert_eq!(got.len(), img.b_data.len());
    let hole = (first - 1) as usize * 496..last as usize * 496;
    assert_eq!(got[..hole.start], img.b_data[..hole.start]);
    assert_eq!(got[hole.end..], img.b_data[hole.end..]);
    assert!(got[hole].iter().all(|&x| x == 0));
}
