//! What the signature search finds: with a password, both plain and password (XORed) blocks
//! in one scan; a plausible header in other data is only "damaged SBX" when something shows
//! it belonged to a container — its UID seen in valid blocks (of any source), or its place
//! in a run of a container's blocks.

mod common;

use common::scenario::*;
use common::*;
use seqbox::engine::CancelFlag;
use seqbox::engine::catalog::{Catalog, SectorClass};
use seqbox::engine::scan::{self, ScanOpts};
use seqbox::format::Version;
use seqbox::format::block::{block_crc, parse_uid};

const PASSWORD: &str = "correct-horse-battery-staple";

#[test]
fn one_scan_with_a_password_finds_plain_and_password_containers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (x, xs) = noise_container(d, "plain1.bin", 40_000, Version::V1, "9a01");
    let (z, zs) = noise_container(d, "plain17.bin", 60_000, Version::V17, "9a17");
    let pw = std::fs::read(data("seqbox/r100k.v1.pw-chbs.sbx")).unwrap();
    let mut img = noise(5000, 40);
    for c in [&xs, &pw, &zs] {
        img.extend_from_slice(c);
        img.extend_from_slice(&noise(777, c.len() as u64));
    }
    let p = d.join("mixed.img");
    std::fs::write(&p, &img).unwrap();
    let cat = d.join("c.sqlite");
    let opts = ScanOpts {
        password: Some(PASSWORD.into()),
        ..scan_opts(&cat, std::slice::from_ref(&p))
    };
    let r = scan::run(&opts, &CancelFlag::new(), &|_| {}).unwrap();
    assert_eq!(r.containers, 3, "{r:#?}");
    // Every block of all three, each row saying whether it was XORed.
    let c = Catalog::open_existing(&cat).unwrap();
    let rows = c.containers().unwrap();
    assert!(
        rows.iter()
            .all(|k| Some(k.blocks_found) == k.blocks_expected),
        "{rows:#?}"
    );
    for (uid, version, password) in [
        ("9a01", Version::V1, false),
        ("5eb0c5000401", Version::V1, true),
        ("9a17", Version::V17, false),
    ] {
        let copies = c.copies_of(parse_uid(uid).unwrap(), version).unwrap();
        assert!(!copies.is_empty(), "{uid}");
        assert!(copies.iter().all(|k| k.password == password), "{uid}");
    }
    let out = recover_all(&cat, &d.join("out"), Some(PASSWORD));
    assert!(out.success(), "{out:#?}");
    assert!(recovered(&out, "plain1.bin") == x);
    assert!(recovered(&out, "plain17.bin") == z);
    assert_eq!(
        sha256_hex(&recovered(&out, "r100k.bin")),
        sha256_file(&data("seqbox/r100k.bin"))
    );
}

/// A header that looks like SBX (signature, known version) but whose CRC fails, as random
/// data holds every few hundred megabytes.
fn chance_header(version: u8, uid: [u8; 6], seq: u32) -> Vec<u8> {
    let mut h = b"SBx".to_vec();
    h.push(version);
    h.extend_from_slice(&[0, 0]);
    h.extend_from_slice(&uid);
    h.extend_from_slice(&seq.to_be_bytes());
    h.extend_from_slice(&noise(40, u64::from(seq)));
    h
}

#[test]
fn only_blocks_with_evidence_of_a_container_are_damaged_the_rest_is_other_data() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (_, w) = noise_container(d, "w.bin", 40 * 496, Version::V1, "f1f1");
    let (v_data, v) = noise_container(d, "v.bin", 10 * 496, Version::V1, "f2f2");
    let mut img = noise(2 << 20, 41);
    assert!(
        memchr::memmem::find(&img, b"SBx").is_none(),
        "the filler holds no signature of its own"
    );
    // Chance headers: UIDs no container has, CRCs that fail, in the middle of other data.
    let chance = [100_003usize, 700_001, 1_300_000, 1_900_017];
    for (i, (&at, version)) in chance.iter().zip([1u8, 2, 17, 3]).enumerate() {
        let h = chance_header(version, [0x7f, 0x12, 0x34, 0x56, 0x78, i as u8], 12_345);
        assert_ne!(block_crc_of(&img, at, &h), 0);
        img[at..at + h.len()].copy_from_slice(&h);
    }
    // Container w lies whole at an odd offset; its blocks 5 and 6 have a flipped payload
    // byte, block 20 a flipped UID byte too (only its place in the run vouches for it).
    let o = 800_123;
    img[o..o + w.len()].copy_from_slice(&w);
    for k in [5, 6, 20] {
        img[o + k * 512 + 300] ^= 0x40;
    }
    img[o + 20 * 512 + 8] ^= 0x01;
    // Damaged copies of container v's blocks 3 and 4, alone in the noise: v's valid blocks
    // are only in the second image, scanned after this one.
    let lone = [400_077usize, 1_600_301];
    for (&at, k) in lone.iter().zip([3usize, 4]) {
        let mut b = v[k * 512..(k + 1) * 512].to_vec();
        b[200] ^= 0x08;
        img[at..at + 512].copy_from_slice(&b);
    }
    let p1 = d.join("one.img");
    std::fs::write(&p1, &img).unwrap();
    let mut img2 = noise(10_000, 42);
    img2.extend_from_slice(&v);
    let p2 = d.join("two.img");
    std::fs::write(&p2, &img2).unwrap();

    let cat = d.join("c.sqlite");
    let r = scan_into(&cat, &[p1.clone(), p2.clone()]);
    let damaged: Vec<u64> = {
        let mut v: Vec<u64> = [5, 6, 20].iter().map(|k| (o + k * 512) as u64).collect();
        v.extend(lone.iter().map(|&a| a as u64));
        v.sort();
        v
    };
    assert_eq!(r.sources[0].damaged_blocks, 5, "{:#?}", r.sources[0]);
    assert_eq!(r.sources[1].damaged_blocks, 0);
    let c = Catalog::open_existing(&cat).unwrap();
    let src = c.sources().unwrap()[0].id;
    let rows = c.damaged_blocks(src).unwrap();
    let with: Vec<u64> = rows
        .iter()
        .filter(|b| b.evidence.is_some())
        .map(|b| b.offset)
        .collect();
    let without: Vec<u64> = rows
        .iter()
        .filter(|b| b.evidence.is_none())
        .map(|b| b.offset)
        .collect();
    assert_eq!(with, damaged);
    assert_eq!(
        without,
        chance.iter().map(|&a| a as u64).collect::<Vec<_>>()
    );

    // The map draws exactly those blocks' sectors as damaged: a block of w shares its last
    // sector with the next block, a lone block has both of its sectors.
    let runs = c.runs(src, 0, u64::MAX).unwrap();
    let mut want: Vec<u64> = [5, 6, 20]
        .iter()
        .map(|k| ((o + k * 512) / 512) as u64)
        .collect();
    for &a in &lone {
        want.extend([(a / 512) as u64, (a / 512 + 1) as u64]);
    }
    want.sort();
    assert_eq!(sectors_of(&runs, SectorClass::Damaged), want);
    for &a in &chance {
        let s = (a / 512) as u64;
        let class = runs
            .iter()
            .find(|r| r.start_sector <= s && s < r.start_sector + r.sectors)
            .unwrap()
            .class;
        assert_eq!(class, SectorClass::Other, "chance header at {a}");
    }
    // v comes back from its valid blocks in the second image.
    let out = recover_all(&cat, &d.join("out"), None);
    assert!(recovered(&out, "v.bin") == v_data);

    // Scanned alone, the first image has no evidence for v's lone copies: other data.
    let alone = d.join("alone.sqlite");
    let r = scan_into(&alone, std::slice::from_ref(&p1));
    assert_eq!(r.sources[0].damaged_blocks, 3, "{:#?}", r.sources[0]);
}

/// The CRC `h` would need, placed at `at`, XORed with the one it has: 0 when it would pass.
fn block_crc_of(img: &[u8], at: usize, h: &[u8]) -> u16 {
    let v = seqbox::format::Version::from_byte(h[3]).unwrap();
    let bs = v.block_size();
    let mut full = img[at..(at + bs).min(img.len())].to_vec();
    full[..h.len()].copy_from_slice(h);
    full.resize(bs, 0);
    block_crc(v, &full) ^ u16::from_be_bytes([h[4], h[5]])
}
