//! Reed–Solomon interop with blkar: every v17/v18/v19 container blkar made decodes to the
//! expected hash, and what we encode from the same inputs has byte-identical data and parity
//! blocks (metadata differs only by our burst field after RSP).

mod common;

use common::*;
use seqbox::engine::check::CheckOpts;
use seqbox::engine::decode::{DecodeOpts, DecodeStatus};
use seqbox::engine::encode::{EncodeOpts, RsParams, Target};
use seqbox::engine::{CancelFlag, check, decode, encode, info};
use seqbox::format::block::{parse_header, parse_uid};
use seqbox::format::{HashKind, Metadata, Version};

fn rs_vectors() -> Vec<BlkarVector> {
    let v: Vec<_> = blkar_vectors()
        .into_iter()
        .filter(|v| v.version >= 17)
        .collect();
    assert_eq!(v.len(), 14);
    v
}

#[test]
fn every_blkar_rs_vector_decodes_to_the_expected_hash_and_checks_clean() {
    let dir = tempfile::tempdir().unwrap();
    for v in rs_vectors() {
        let path = data(&format!("blkar/{}", v.container));
        assert_eq!(sha256_file(&path), v.sha256, "{}", v.container);
        let out = dir.path().join("out");
        let mut opts = DecodeOpts::new(&path);
        opts.output = Target::File(out.clone());
        let r = decode::run(&opts, &CancelFlag::new(), &|_| {})
            .unwrap_or_else(|e| panic!("{}: {e}", v.container));
        assert_eq!(
            r.status,
            DecodeStatus::Verified,
            "{}: {:?}",
            v.container,
            r.assembly
        );
        assert_eq!(sha256_file(&out), v.decoded_sha256, "{}", v.container);
        assert_eq!(r.assembly.repaired_sets, 0, "{}", v.container);
        std::fs::remove_file(&out).unwrap();

        let (m, p, b) = v.rs.unwrap();
        let i = info::run(&path, None).unwrap();
        let meta = i.metadata.as_ref().unwrap();
        assert_eq!(
            (meta.rs_data, meta.rs_parity),
            (Some(m), Some(p)),
            "{}",
            v.container
        );
        assert_eq!(meta.burst, None, "blkar stores no burst level");
        assert_eq!(
            i.burst, b,
            "{}: burst level inferred from positions",
            v.container
        );
        assert_eq!(i.offset, 0);

        let c = check::run(&CheckOpts::new(path.clone()), &CancelFlag::new(), &|_| {}).unwrap();
        assert!(c.ok, "{}: {:?}", v.container, c.assembly);
        assert_eq!(
            c.assembly.metadata_blocks,
            1 + u64::from(p),
            "{}",
            v.container
        );
    }
}

#[test]
fn our_rs_encodes_match_blkar_block_for_block() {
    let dir = tempfile::tempdir().unwrap();
    for v in rs_vectors() {
        let (m, p, b) = v.rs.unwrap();
        let input = staged_input(dir.path(), "blkar", &v.input);
        let ours = dir.path().join(&v.container);
        let opts = EncodeOpts {
            output: Target::File(ours.clone()),
            version: Version::from_byte(v.version).unwrap(),
            rs: RsParams {
                data: usize::from(m),
                parity: usize::from(p),
                burst: b,
            },
            uid: Some(parse_uid(&v.uid).unwrap()),
            hash: HashKind::from_name(&v.hash).unwrap(),
            sbx_time: Some(v.sdt),
            ..EncodeOpts::new(&input)
        };
        encode::run(&opts, &CancelFlag::new(), &|_| {}).unwrap();
        let ours = std::fs::read(&ours).unwrap();
        let theirs = std::fs::read(data(&format!("blkar/{}", v.container))).unwrap();
        assert_eq!(ours.len(), theirs.len(), "{}", v.container);
        let bs = Version::from_byte(v.version).unwrap().block_size();
        let mut metas = 0;
        for (k, (a, t)) in ours.chunks(bs).zip(theirs.chunks(bs)).enumerate() {
            match parse_header(t) {
                Some(h) if h.seq == 0 => {
                    metas += 1;
                    // Same header fields; same metadata but for our burst field after RSP.
                    assert_eq!(a[..4], t[..4]);
                    assert_eq!(a[6..16], t[6..16]);
                    let mut ma = Metadata::parse(&a[16..]);
                    let mt = Metadata::parse(&t[16..]);
                    assert_eq!(ma.burst, Some(b), "{} slot {k}", v.container);
                    ma.burst = None;
                    assert_eq!(ma, mt, "{} slot {k}", v.container);
                    let rsp_end = t[16..].windows(3).position(|w| w == b"RSP").unwrap() + 16 + 5;
                    assert_eq!(a[16..rsp_end], t[16..rsp_end], "{} slot {k}", v.container);
                    assert_eq!(&a[rsp_end..rsp_end + 4], b"BUR\x02");
                }
                _ => assert!(a == t, "{}: slot {k} differs", v.container),
            }
        }
        assert_eq!(metas, 1 + usize::from(p), "{}", v.container);
        std::fs::remove_file(dir.path().join(&v.container)).unwrap();
    }
}
