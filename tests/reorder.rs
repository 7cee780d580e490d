//! Containers whose blocks are out of order (pieced back together by hand or by another
//! tool) with the metadata block far from the first valid block: decode, check and info
//! find the metadata wherever it is and give the file back bit-exact (issue 11, defect 1).

mod common;

use common::*;
use seqbox::engine::decode::{DecodeOpts, DecodeStatus};
use seqbox::engine::encode::{EncodeOpts, RsParams, Target};
use seqbox::engine::{CancelFlag, check, decode, encode, info};
use seqbox::format::Version;
use std::path::{Path, PathBuf};

/// Encode `data` as `version` into `dir/NAME.sbx`, then rewrite the container with its
/// blocks shuffled and every metadata copy moved to the end (more than 1 MiB from the
/// first valid block). Returns the container path.
fn shuffled_container(dir: &Path, data: &[u8], version: Version, rs: RsParams) -> PathBuf {
    let input = dir.join(format!("orig{}.bin", version.byte()));
    std::fs::write(&input, data).unwrap();
    let sbx = dir.join(format!("shuffled{}.sbx", version.byte()));
    let opts = EncodeOpts {
        output: Target::File(sbx.clone()),
        version,
        rs,
        ..EncodeOpts::new(&input)
    };
    encode::run(&opts, &CancelFlag::new(), &|_| {}).unwrap();
    std::fs::remove_file(&input).unwrap();
    let bytes = std::fs::read(&sbx).unwrap();
    let bs = version.block_size();
    let seq = |b: &[u8]| u32::from_be_bytes(b[12..16].try_into().unwrap());
    let (mut metas, mut rest): (Vec<&[u8]>, Vec<&[u8]>) =
        bytes.chunks(bs).partition(|b| seq(b) == 0);
    // Fisher–Yates with a fixed xorshift: the same order every run.
    let mut x = 0x2545_F491_4F6C_DD1Du64 ^ u64::from(version.byte());
    for i in (1..rest.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        rest.swap(i, (x % (i as u64 + 1)) as usize);
    }
    assert!(
        (rest.len() * bs) as u64 > 1 << 20,
        "the metadata must lie beyond 1 MiB from the first block"
    );
    rest.append(&mut metas);
    std::fs::write(&sbx, rest.concat()).unwrap();
    sbx
}

fn cases() -> Vec<(Version, RsParams)> {
    vec![
        (Version::V1, RsParams::default()),
        (Version::V3, RsParams::default()),
        (Version::V17, RsParams::default()),
        (
            Version::V19,
            RsParams {
                data: 4,
                parity: 2,
                burst: 3,
            },
        ),
    ]
}

#[test]
fn shuffled_containers_decode_bit_exact_with_metadata_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let data = noise(1_200_000, 21);
    for (version, rs) in cases() {
        let sbx = shuffled_container(dir.path(), &data, version, rs);
        let len = std::fs::metadata(&sbx).unwrap().len();

        let i = info::run(&sbx, None).unwrap();
        let meta = i
            .metadata
            .as_ref()
            .unwrap_or_else(|| panic!("{version}: {i:?}"));
        assert_eq!(meta.file_size, Some(data.len() as u64), "{version}");
        let meta_at = i.metadata_offset.expect("metadata offset");
        assert!(meta_at > 1 << 20, "{version}: metadata at {meta_at}");
        if version.uses_rs() {
            assert_eq!(
                (i.rs_data, i.rs_parity),
                (Some(rs.data), Some(rs.parity)),
                "{version}: geometry from the metadata"
            );
            assert_eq!(i.burst, rs.burst, "{version}");
        }

        let chk = check::run(&check::CheckOpts::new(&sbx), &CancelFlag::new(), &|_| {}).unwrap();
        assert!(chk.assembly.hash_ok(), "{version}: {:?}", chk.assembly);
        assert_eq!(chk.assembly.missing_blocks, 0, "{version}");

        let out = dir.path().join(format!("back{}", version.byte()));
        let mut d = DecodeOpts::new(&sbx);
        d.output = Target::File(out.clone());
        let r = decode::run(&d, &CancelFlag::new(), &|_| {}).unwrap();
        assert_eq!(r.status, DecodeStatus::Verified, "{version}: {r:?}");
        assert!(r.assembly.reordered, "{version}");
        assert!(
            std::fs::read(&out).unwrap() == data,
            "{version}: bytes differ"
        );
        assert_eq!(
            std::fs::metadata(&sbx).unwrap().len(),
            len,
            "input untouched"
        );
    }
}

#[test]
fn the_cli_decodes_a_shuffled_container_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let data = noise(1_200_000, 22);
    for (version, rs) in cases() {
        let sbx = shuffled_container(dir.path(), &data, version, rs);
        let out = dir.path().join(format!("cli{}", version.byte()));
        let o = seqbox(
            &["decode", sbx.to_str().unwrap(), "-o", out.to_str().unwrap()],
            dir.path(),
            &[],
        );
        assert_eq!(
            o.status.code(),
            Some(0),
            "{version}: {}",
            show(&o, dir.path())
        );
        assert!(
            std::fs::read(&out).unwrap() == data,
            "{version}: bytes differ"
        );
        let o = seqbox(&["info", sbx.to_str().unwrap(), "--json"], dir.path(), &[]);
        assert_eq!(o.status.code(), Some(0), "{}", show(&o, dir.path()));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(
            v["results"][0]["report"]["metadata"]["file_size"].as_u64(),
            Some(data.len() as u64),
            "{version}: {v}"
        );
    }
}
