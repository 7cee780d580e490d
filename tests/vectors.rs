//! Interoperability with the original tools: every container the original SeqBox and blkar
//! made for versions 1–3 decodes to the expected hash, `info` shows its metadata, and what we
//! encode from the same inputs is byte-identical to theirs.

mod common;

use common::*;
use seqbox::engine::decode::{DecodeOpts, DecodeStatus};
use seqbox::engine::encode::{EncodeOpts, Target};
use seqbox::engine::{CancelFlag, Error, decode, encode, info};
use seqbox::format::block::parse_uid;
use seqbox::format::{HashKind, Version};

fn no_progress(_: seqbox::engine::Progress) {}

#[test]
fn every_seqbox_vector_decodes_to_the_expected_hash() {
    let out = tempfile::tempdir().unwrap();
    for v in seqbox_vectors() {
        let mut opts = DecodeOpts::new(data(&format!("seqbox/{}", v.container)));
        opts.password = v.password.clone();
        opts.output = Target::File(out.path().join(&v.container));
        let result = decode::run(&opts, &CancelFlag::new(), &no_progress);
        match v.decoded {
            Some((bytes, sha)) => {
                let r = result.unwrap_or_else(|e| panic!("{}: {e}", v.container));
                let written = r.output.as_ref().expect("output written");
                let expected_status = if v.no_meta {
                    DecodeStatus::Unverified
                } else {
                    DecodeStatus::Verified
                };
                assert_eq!(r.status, expected_status, "{}", v.container);
                assert_eq!(
                    std::fs::metadata(written).unwrap().len(),
                    bytes,
                    "{}",
                    v.container
                );
                assert_eq!(sha256_file(written), sha, "{}", v.container);
            }
            None => {
                // The original refuses the 0-byte container; so do we, with a clear error.
                let e = result.expect_err("must be refused");
                assert!(e.to_string().contains("empty"), "{}: {e}", v.container);
            }
        }
    }
}

#[test]
fn info_shows_the_metadata_of_every_seqbox_vector() {
    for v in seqbox_vectors().into_iter().filter(|v| v.decoded.is_some()) {
        let path = data(&format!("seqbox/{}", v.container));
        let r = info::run(&path, v.password.as_deref()).unwrap();
        assert_eq!(u8::from(r.version), v.version, "{}", v.container);
        assert_eq!(r.offset, 0);
        if let Some(uid) = &v.uid {
            assert_eq!(r.uid, *uid, "{}", v.container);
        }
        if v.no_meta {
            assert!(r.metadata.is_none(), "{}", v.container);
            continue;
        }
        let m = r.metadata.expect("metadata");
        assert_eq!(
            m.file_name.as_deref(),
            Some(v.input.as_str()),
            "{}",
            v.container
        );
        assert_eq!(
            m.sbx_name.as_deref(),
            Some(v.container.as_str()),
            "{}",
            v.container
        );
        assert_eq!(m.file_size, Some(v.decoded.as_ref().unwrap().0));
        assert_eq!(m.file_time, Some(VECTOR_MTIME));
        assert_eq!(m.file_time_utc.as_deref(), Some("2020-01-01T00:00:00Z"));
        assert_eq!(m.sbx_time, v.sdt, "{}", v.container);
        assert_eq!(m.hash_kind, Some(HashKind::Sha256));
        assert_eq!(m.hash.as_ref(), Some(&v.decoded.as_ref().unwrap().1));
    }
}

#[test]
fn encoding_the_vector_inputs_reproduces_the_original_containers_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let mut compared = 0;
    for v in seqbox_vectors() {
        if v.decoded.is_none() {
            continue; // the 0-byte -nm container, which we refuse to make
        }
        let input = staged_input(dir.path(), "seqbox", &v.input);
        let original = std::fs::read(data(&format!("seqbox/{}", v.container))).unwrap();
        let uid = match &v.uid {
            Some(u) => parse_uid(u).unwrap(),
            None => parse_uid(
                &info::run(&data(&format!("seqbox/{}", v.container)), None)
                    .unwrap()
                    .uid,
            )
            .unwrap(),
        };
        let out = dir.path().join(&v.container);
        let opts = EncodeOpts {
            output: Target::File(out.clone()),
            version: Version::from_byte(v.version).unwrap(),
            uid: Some(uid),
            no_meta: v.no_meta,
            password: v.password.clone(),
            sbx_time: v.sdt,
            ..EncodeOpts::new(&input)
        };
        let r = encode::run(&opts, &CancelFlag::new(), &no_progress)
            .unwrap_or_else(|e| panic!("{}: {e}", v.container));
        let ours = std::fs::read(&out).unwrap();
        assert_eq!(r.container_size, ours.len() as u64);
        assert!(
            ours == original,
            "{} differs from the original's output",
            v.container
        );
        std::fs::remove_file(&out).unwrap();
        compared += 1;
    }
    assert_eq!(compared, 31);
}

#[test]
fn blkar_v1_vectors_decode_and_re_encode_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let plain: Vec<_> = blkar_vectors()
        .into_iter()
        .filter(|v| v.version <= 3)
        .collect();
    assert_eq!(plain.len(), 2);
    for v in plain {
        let path = data(&format!("blkar/{}", v.container));
        assert_eq!(sha256_file(&path), v.sha256);
        let out = dir.path().join("decoded");
        let mut opts = DecodeOpts::new(&path);
        opts.output = Target::File(out.clone());
        let r = decode::run(&opts, &CancelFlag::new(), &no_progress).unwrap();
        assert_eq!(r.status, DecodeStatus::Verified, "{}", v.container);
        assert_eq!(sha256_file(&out), v.decoded_sha256);
        std::fs::remove_file(&out).unwrap();

        let m = info::run(&path, None).unwrap().metadata.unwrap();
        assert_eq!(m.hash_kind.map(|k| k.name()), Some(v.hash.as_str()));
        assert_eq!(m.sbx_time, Some(v.sdt));

        let input = staged_input(dir.path(), "blkar", &v.input);
        let enc = dir.path().join(&v.container);
        let opts = EncodeOpts {
            output: Target::File(enc.clone()),
            uid: Some(parse_uid(&v.uid).unwrap()),
            version: Version::V1,
            hash: HashKind::from_name(&v.hash).unwrap(),
            sbx_time: Some(v.sdt),
            ..EncodeOpts::new(&input)
        };
        encode::run(&opts, &CancelFlag::new(), &no_progress).unwrap();
        assert!(
            std::fs::read(&enc).unwrap() == std::fs::read(&path).unwrap(),
            "{} differs from blkar's output",
            v.container
        );
    }
}

#[test]
fn a_container_inside_a_larger_file_at_an_odd_offset_is_found_and_decoded() {
    let dir = tempfile::tempdir().unwrap();
    for (name, password) in [
        ("r100k.v1.sbx", None),
        ("r100k.v3.pw-chbs.sbx", Some("correct-horse-battery-staple")),
        ("na.v2.sbx", None),
    ] {
        let sbx = std::fs::read(data(&format!("seqbox/{name}"))).unwrap();
        let mut image = noise(1001, 1);
        image.extend_from_slice(&sbx);
        image.extend_from_slice(&noise(7777, 2));
        let path = dir.path().join("image.bin");
        std::fs::write(&path, &image).unwrap();
        let r = info::run(&path, password).unwrap();
        assert_eq!(r.offset, 1001, "{name}");
        let mut opts = DecodeOpts::new(&path);
        opts.password = password.map(String::from);
        opts.output = Target::File(dir.path().join("out"));
        let d = decode::run(&opts, &CancelFlag::new(), &no_progress).unwrap();
        assert_eq!(d.status, DecodeStatus::Verified, "{name}");
        assert_eq!(d.assembly.damaged_blocks, 0, "{name}");
        let expected = std::fs::read(data(&format!(
            "seqbox/{}",
            r.metadata.unwrap().file_name.unwrap()
        )))
        .unwrap();
        assert!(
            std::fs::read(dir.path().join("out")).unwrap() == expected,
            "{name}"
        );
        std::fs::remove_file(dir.path().join("out")).unwrap();
    }
}

#[test]
fn wrong_missing_and_needless_passwords_are_told_apart() {
    let pw = data("seqbox/r100k.v1.pw-chbs.sbx");
    match info::run(&pw, None) {
        Err(Error::NotSbx {
            password_given: false,
            ..
        }) => {}
        other => panic!("missing password: {other:?}"),
    }
    match info::run(&pw, Some("wrong")) {
        Err(Error::NotSbx {
            password_given: true,
            ..
        }) => {}
        other => panic!("wrong password: {other:?}"),
    }
    let plain = data("seqbox/r100k.v1.sbx");
    let e = info::run(&plain, Some("anything")).unwrap_err();
    assert!(e.to_string().contains("has no password"), "{e}");
}

#[test]
fn the_originals_over_long_metadata_block_is_read_and_the_file_verified() {
    // quirks/longname.v2.sbx: the names did not fit, so SBXEnc wrote a 139-byte block 0 and
    // every later block is shifted by 11 bytes. The original decoder cannot read it.
    let path = data("seqbox/quirks/longname.v2.sbx");
    let r = info::run(&path, None).unwrap();
    assert_eq!(r.overlong_metadata, Some(139));
    assert_eq!(r.offset, 0);
    let m = r.metadata.unwrap();
    assert_eq!(m.file_name.as_deref(), Some("long-name-overflows-v2.bin"));
    assert_eq!(m.file_size, Some(1));
    let dir = tempfile::tempdir().unwrap();
    let mut opts = DecodeOpts::new(&path);
    opts.output = Target::Folder(dir.path().to_path_buf());
    let d = decode::run(&opts, &CancelFlag::new(), &no_progress).unwrap();
    assert_eq!(d.status, DecodeStatus::Verified);
    assert_eq!(
        sha256_file(&dir.path().join("long-name-overflows-v2.bin")),
        sha256_file(&data("seqbox/quirks/long-name-overflows-v2.bin"))
    );
}
