//! Block headers, CRC-16, metadata fields, the password transform and the RS slot maths, on
//! arbitrary bytes: pure functions, so every cheap invariant between them is asserted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seqbox::format::block::{self, BlockState, classify, parse_header, write_header};
use seqbox::format::metadata::shorten_name;
use seqbox::format::rs::{Layout, Slot};
use seqbox::format::{Metadata, Version, crc16, password};

fuzz_target!(init: seqbox_fuzz::seeds::write_if_asked("block_header"), |data: &[u8]| {
    header(data);
    crc(data);
    metadata(data);
    passworded(data);
    names(data);
    slots(data);
});

/// classify / parse_header / write_header agree with each other.
fn header(data: &[u8]) {
    let state = classify(data);
    let parsed = parse_header(data);
    match state {
        BlockState::NotSbx => assert_eq!(parsed, None),
        BlockState::Damaged(h) => assert_eq!(parsed, Some(h)),
        BlockState::Valid(h) => {
            assert_eq!(parsed, Some(h));
            let bs = h.version.block_size();
            assert!(data.len() >= bs, "valid block shorter than its size");
            assert_eq!(block::block_crc(h.version, &data[..bs]), h.crc);
            // Writing the same header over the same payload gives the same block back.
            let mut again = data[..bs].to_vec();
            write_header(&mut again, h.version, &h.uid, h.seq);
            assert_eq!(again, &data[..bs]);
        }
    }
    // A block written from any payload is valid and says what was written.
    if let Some(&b) = data.first() {
        let version = Version::ALL[usize::from(b) % Version::ALL.len()];
        let bs = version.block_size();
        let mut blk = vec![0x1A; bs];
        let payload = &data[1..];
        let n = payload.len().min(bs - 16);
        blk[16..16 + n].copy_from_slice(&payload[..n]);
        let uid: [u8; 6] = std::array::from_fn(|i| data.get(i + 1).copied().unwrap_or(0));
        let seq = u32::from_le_bytes(std::array::from_fn(|i| {
            data.get(i + 7).copied().unwrap_or(0)
        }));
        write_header(&mut blk, version, &uid, seq);
        match classify(&blk) {
            BlockState::Valid(h) => assert_eq!((h.version, h.uid, h.seq), (version, uid, seq)),
            other => panic!("freshly written block classified {other:?}"),
        }
        // One flipped payload bit is always caught (CRC-16 detects every 1-bit error).
        let at = 16 + usize::from(data.get(13).copied().unwrap_or(0)) % (bs - 16);
        blk[at] ^= 1 << (data.get(14).copied().unwrap_or(0) % 8);
        assert!(matches!(classify(&blk), BlockState::Damaged(_)));
    }
}

/// The folded (carry-less multiplication) CRC equals the table CRC for every input and init.
fn crc(data: &[u8]) {
    let init = u16::from_le_bytes([
        data.first().copied().unwrap_or(0),
        data.get(1).copied().unwrap_or(0),
    ]);
    assert_eq!(crc16::crc16(init, data), crc16::table(init, data));
    if data.len() > 3 {
        assert_eq!(
            crc16::crc16(init, &data[3..]),
            crc16::table(init, &data[3..])
        );
    }
}

/// Metadata parsing never fails, and whatever parses is written and read back unchanged.
fn metadata(data: &[u8]) {
    let m = Metadata::parse(data);
    let mut known = m.clone();
    known.unknown_fields.clear();
    for version in Version::ALL {
        if let Ok(p) = known.to_payload(version) {
            assert_eq!(p.len(), version.payload_size());
            assert_eq!(
                Metadata::parse(&p),
                known,
                "round trip through version {version}"
            );
        }
        // Fitting the names never makes the fields longer and keeps them within a LEN byte.
        let mut fitted = known.clone();
        fitted.fit_names(version);
        assert!(fitted.encoded_len() <= known.encoded_len());
        for n in [&fitted.file_name, &fitted.sbx_name].into_iter().flatten() {
            assert!(n.len() <= 255 && !n.is_empty());
        }
    }
}

/// The password transform is an involution, and classifying a transformed block after
/// removing the keystream gives what classifying the plain block gives.
fn passworded(data: &[u8]) {
    let split = usize::from(data.first().copied().unwrap_or(0) % 32).min(data.len());
    let (pw, rest) = data.split_at(split);
    let ks = password::keystream(pw, 512);
    assert_eq!(ks.len(), 512);
    assert_eq!(&password::keystream(pw, 100)[..], &ks[..100]);
    let mut hidden = rest[..rest.len().min(512)].to_vec();
    password::apply(&mut hidden, &ks);
    let mut back = hidden.clone();
    password::apply(&mut back, &ks);
    assert_eq!(back, &rest[..back.len()]);
    let _ = classify(&hidden);
    let _ = password::original_can_use(pw);
}

/// Shortened names fit, end at a character boundary and keep a short extension.
fn names(data: &[u8]) {
    let max = usize::from(data.first().copied().unwrap_or(0));
    let name = String::from_utf8_lossy(data.get(1..).unwrap_or_default());
    let short = shorten_name(&name, max);
    if name.len() <= max {
        assert_eq!(short, name);
    } else {
        assert!(short.len() <= max, "{short:?} longer than {max}");
    }
}

/// slot_of and slot are inverse maps, metadata slots hold metadata, and groups tile slots.
fn slots(data: &[u8]) {
    if data.len() < 8 {
        return;
    }
    let version = [Version::V17, Version::V18, Version::V19][usize::from(data[0]) % 3];
    let m = usize::from(data[1]).max(1);
    let p = usize::from(data[2]).max(1);
    let burst = u32::from(u16::from_le_bytes([data[3], data[4]])) % 1001;
    let Ok(l) = Layout::rs(version, m, p, burst) else {
        assert!(m + p > 256);
        return;
    };
    for k in l.meta_slots() {
        assert_eq!(l.slot(k), Slot::Meta, "metadata slot {k} of {l:?}");
    }
    let seq = u32::from_le_bytes([data[4], data[5], data[6], data[7]]).max(1);
    for s in [seq, 1, seq.saturating_add(1), seq / 2 + 1] {
        let k = l.slot_of(s);
        assert_eq!(l.slot(k), Slot::Seq(s), "seq {s} → slot {k} of {l:?}");
    }
    let sets = u64::from(seq) % 100_000;
    let count = l.slot_count(sets);
    if sets > 0 {
        let last = l.seq_of(sets - 1, l.shards() - 1).unwrap_or(u32::MAX);
        assert!(
            l.slot_of(last) < count,
            "last seq {last} beyond slot_count {count}"
        );
    }
}
