//! The metadata block (sequence number 0): its fields, how we write them and how we read them.
//!
//! Writing follows the original SBXEnc byte for byte (FNM, SNM, FSZ, FDT, SDT, HSH, then RSD
//! and RSP for the Reed–Solomon versions, padded with 0x1A). Reading is lenient: unknown
//! fields are skipped by their length, the first of repeated fields wins, padding is optional.

use super::hash::StoredHash;
use super::version::Version;

/// Payload filler byte (the old DOS end-of-file mark).
pub const PAD: u8 = 0x1A;

/// Everything block 0 can tell about a container. Every field is optional when reading.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    /// FNM: the original file's name (name part only). Untrusted when read back.
    pub file_name: Option<String>,
    /// SNM: the container's own file name when it was made.
    pub sbx_name: Option<String>,
    /// FSZ: the original file's size in bytes.
    pub file_size: Option<u64>,
    /// FDT: the original file's modification time, seconds since 1970 (signed, as blkar).
    pub file_time: Option<i64>,
    /// SDT: when the container was made, seconds since 1970.
    pub sbx_time: Option<i64>,
    /// HSH: multihash of the original file.
    pub hash: Option<StoredHash>,
    /// RSD: Reed–Solomon data shards per block set (versions 17–19).
    pub rs_data: Option<u8>,
    /// RSP: Reed–Solomon parity shards per block set (versions 17–19).
    pub rs_parity: Option<u8>,
    /// BUR (SeqBox Studio's extension, written after RSP so blkar still reads the rest):
    /// the burst level B of an RS container, 2 bytes (B ≤ 1000).
    pub burst: Option<u32>,
    /// IDs of fields we did not recognise (kept so `info` can mention them).
    pub unknown_fields: Vec<String>,
}

/// Bytes a name may take at most (its LEN is one byte).
const MAX_NAME: usize = 255;

impl Metadata {
    /// Bytes the fields take when written (names as they are now).
    pub fn encoded_len(&self) -> usize {
        let name = |n: &Option<String>| n.as_ref().map_or(0, |s| 4 + s.len());
        let fixed = |present: bool, len: usize| if present { 4 + len } else { 0 };
        name(&self.file_name)
            + name(&self.sbx_name)
            + fixed(self.file_size.is_some(), 8)
            + fixed(self.file_time.is_some(), 8)
            + fixed(self.sbx_time.is_some(), 8)
            + self.hash.as_ref().map_or(0, |h| 4 + hash_value(h).len())
            + fixed(self.rs_data.is_some(), 1)
            + fixed(self.rs_parity.is_some(), 1)
            + fixed(self.burst.is_some(), 2)
    }

    /// Shorten FNM and SNM (at UTF-8 boundaries, keeping a short extension) until the fields
    /// fit in one payload of `version` and each name fits its one-byte length.
    /// Returns true when a name was shortened.
    pub fn fit_names(&mut self, version: Version) -> bool {
        let mut changed = false;
        for name in [&mut self.file_name, &mut self.sbx_name]
            .into_iter()
            .flatten()
        {
            if name.len() > MAX_NAME {
                *name = shorten_name(name, MAX_NAME);
                changed = true;
            }
        }
        let budget = version.payload_size();
        if self.encoded_len() > budget {
            // Our own extension goes first: readers can infer the burst level.
            self.burst = None;
        }
        let len = self.encoded_len();
        if len <= budget {
            return changed;
        }
        let fnm = self.file_name.as_ref().map_or(0, |s| s.len());
        let snm = self.sbx_name.as_ref().map_or(0, |s| s.len());
        let for_names = (budget + fnm + snm).saturating_sub(len);
        // FNM matters more (it names the decoded file), but each name keeps at least half of
        // the room when it needs it.
        let snm_room = snm.min(for_names / 2);
        let fnm_room = fnm.min(for_names - snm_room);
        let snm_room = snm.min(for_names - fnm_room);
        if let Some(n) = self.file_name.as_mut() {
            *n = shorten_name(n, fnm_room);
        }
        if let Some(n) = self.sbx_name.as_mut() {
            *n = shorten_name(n, snm_room);
        }
        // A name with no room left is dropped rather than written empty.
        self.file_name.take_if(|n| n.is_empty());
        self.sbx_name.take_if(|n| n.is_empty());
        true
    }

    /// The payload of block 0 for `version`: the fields in SBXEnc's order, then 0x1A padding.
    /// Fails when the fields do not fit (call [`Metadata::fit_names`] first).
    pub fn to_payload(&self, version: Version) -> Result<Vec<u8>, String> {
        let payload = version.payload_size();
        let mut out = Vec::with_capacity(payload);
        let mut field = |id: &[u8; 3], value: &[u8]| -> Result<(), String> {
            let len = u8::try_from(value.len())
                .map_err(|_| format!("{} value too long", String::from_utf8_lossy(id)))?;
            out.extend_from_slice(id);
            out.push(len);
            out.extend_from_slice(value);
            Ok(())
        };
        if let Some(n) = &self.file_name {
            field(b"FNM", n.as_bytes())?;
        }
        if let Some(n) = &self.sbx_name {
            field(b"SNM", n.as_bytes())?;
        }
        if let Some(v) = self.file_size {
            field(b"FSZ", &v.to_be_bytes())?;
        }
        if let Some(v) = self.file_time {
            field(b"FDT", &v.to_be_bytes())?;
        }
        if let Some(v) = self.sbx_time {
            field(b"SDT", &v.to_be_bytes())?;
        }
        if let Some(h) = &self.hash {
            field(b"HSH", &hash_value(h))?;
        }
        if let Some(v) = self.rs_data {
            field(b"RSD", &[v])?;
        }
        if let Some(v) = self.rs_parity {
            field(b"RSP", &[v])?;
        }
        if let Some(v) = self.burst {
            let v = u16::try_from(v).map_err(|_| format!("burst level {v} does not fit BUR"))?;
            field(b"BUR", &v.to_be_bytes())?;
        }
        if out.len() > payload {
            return Err(format!(
                "metadata needs {} bytes but a version {version} block holds {payload}",
                out.len()
            ));
        }
        out.resize(payload, PAD);
        Ok(out)
    }

    /// Read the fields of a block 0 payload. Never fails: what cannot be understood is skipped.
    pub fn parse(payload: &[u8]) -> Metadata {
        let mut m = Metadata::default();
        let mut pos = 0;
        while pos + 4 <= payload.len() {
            let id = &payload[pos..pos + 3];
            if id == [PAD; 3] {
                break;
            }
            let len = usize::from(payload[pos + 3]);
            let start = pos + 4;
            let end = (start + len).min(payload.len());
            let value = &payload[start..end];
            pos = start + len;
            match id {
                b"FNM" => set_once(&mut m.file_name, || text(value)),
                b"SNM" => set_once(&mut m.sbx_name, || text(value)),
                b"FSZ" => set_once(&mut m.file_size, || unsigned(value)),
                b"FDT" => set_once(&mut m.file_time, || signed(value)),
                b"SDT" => set_once(&mut m.sbx_time, || signed(value)),
                b"HSH" => set_once(&mut m.hash, || {
                    (!value.is_empty()).then(|| StoredHash::parse(value))
                }),
                b"RSD" => set_once(&mut m.rs_data, || nonzero_byte(value)),
                b"RSP" => set_once(&mut m.rs_parity, || nonzero_byte(value)),
                b"BUR" => set_once(&mut m.burst, || match value {
                    [a, b] => Some(u32::from(u16::from_be_bytes([*a, *b]))),
                    _ => None,
                }),
                other => m
                    .unknown_fields
                    .push(String::from_utf8_lossy(other).into_owned()),
            }
        }
        m
    }
}

fn hash_value(h: &StoredHash) -> Vec<u8> {
    match h {
        StoredHash::Known { kind, digest } => StoredHash::to_multihash(*kind, digest),
        StoredHash::Unknown(raw) => raw.clone(),
    }
}

/// The first occurrence of a field wins; an unusable value does not block a later one.
fn set_once<T>(slot: &mut Option<T>, value: impl FnOnce() -> Option<T>) {
    if slot.is_none() {
        *slot = value();
    }
}

fn text(value: &[u8]) -> Option<String> {
    (!value.is_empty()).then(|| String::from_utf8_lossy(value).into_owned())
}

/// An unsigned big-endian integer of 1..=8 bytes (the original accepts any length).
fn unsigned(value: &[u8]) -> Option<u64> {
    (1..=8)
        .contains(&value.len())
        .then(|| value.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

/// Times: 8 bytes are read as signed (blkar writes i64); shorter values as unsigned.
fn signed(value: &[u8]) -> Option<i64> {
    if value.len() == 8 {
        Some(i64::from_be_bytes(value.try_into().expect("8 bytes")))
    } else {
        unsigned(value).map(|v| v as i64)
    }
}

fn nonzero_byte(value: &[u8]) -> Option<u8> {
    match value {
        [v] if *v > 0 => Some(*v),
        _ => None,
    }
}

/// Shorten `name` to at most `max` bytes at a UTF-8 boundary, keeping its extension when the
/// extension is short and leaves room for part of the stem.
pub fn shorten_name(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let ext = name
        .rfind('.')
        .filter(|&i| i > 0 && name.len() - i <= 16 && name.len() - i < max)
        .map_or("", |i| &name[i..]);
    let mut stem_len = max - ext.len();
    while !name.is_char_boundary(stem_len) {
        stem_len -= 1;
    }
    format!("{}{}", &name[..stem_len], ext)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::hash::HashKind;

    fn sample() -> Metadata {
        Metadata {
            file_name: Some("one.bin".into()),
            sbx_name: Some("one.v2.sbx".into()),
            file_size: Some(1),
            file_time: Some(1577836800),
            sbx_time: Some(1795417824),
            hash: Some(StoredHash::Known {
                kind: HashKind::Sha256,
                digest: vec![0xAB; 32],
            }),
            ..Default::default()
        }
    }

    #[test]
    fn write_then_parse_round_trips() {
        let m = sample();
        let p = m.to_payload(Version::V2).unwrap();
        assert_eq!(p.len(), 112);
        assert_eq!(&p[..11], b"FNM\x07one.bin");
        assert_eq!(m.encoded_len(), 99);
        assert!(p[99..].iter().all(|&b| b == PAD));
        assert_eq!(Metadata::parse(&p), m);
    }

    #[test]
    fn parsing_is_lenient() {
        // Unknown field first, repeated FNM (first wins), no padding, odd FSZ length.
        let mut p = Vec::new();
        p.extend_from_slice(b"XYZ\x02ab");
        p.extend_from_slice(b"FNM\x01a");
        p.extend_from_slice(b"FNM\x01b");
        p.extend_from_slice(b"FSZ\x02\x01\x00");
        let m = Metadata::parse(&p);
        assert_eq!(m.file_name.as_deref(), Some("a"));
        assert_eq!(m.file_size, Some(256));
        assert_eq!(m.unknown_fields, vec!["XYZ".to_string()]);
        // A length running past the end is cut short, not a panic.
        let m = Metadata::parse(b"FNM\xffabc");
        assert_eq!(m.file_name.as_deref(), Some("abc"));
        assert_eq!(Metadata::parse(&[]), Metadata::default());
    }

    #[test]
    fn long_names_are_shortened_to_fit_at_char_boundaries() {
        let mut m = sample();
        m.file_name = Some("Grüße aus einem sehr langen Dateinamen 日本語.txt".into());
        m.sbx_name = Some("Grüße aus einem sehr langen Dateinamen 日本語.txt.sbx".into());
        assert!(m.fit_names(Version::V2));
        let p = m.to_payload(Version::V2).unwrap();
        assert_eq!(p.len(), 112);
        let back = Metadata::parse(&p);
        assert!(back.file_name.as_ref().unwrap().ends_with(".txt"));
        assert!(back.sbx_name.as_ref().unwrap().ends_with(".sbx"));
        assert_eq!(back.encoded_len(), 112);
        // A 300-byte name does not fit its length byte, even in v3.
        let mut m = sample();
        m.file_name = Some("é".repeat(150));
        assert!(m.fit_names(Version::V3));
        assert!(m.file_name.as_ref().unwrap().len() <= 255);
        assert!(m.to_payload(Version::V3).is_ok());
    }

    #[test]
    fn shorten_name_keeps_extension_and_boundaries() {
        assert_eq!(shorten_name("abcdef.txt", 8), "abcd.txt");
        assert_eq!(shorten_name("日本語.txt", 8), "日.txt");
        assert_eq!(shorten_name("日本語", 4), "日");
        assert_eq!(shorten_name("short", 10), "short");
    }
}
