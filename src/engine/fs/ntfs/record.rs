//! One MFT file record as raw bytes: the update sequence (fixups) applied, the header fields
//! the `ntfs` crate does not expose (in-use flag, base record, each attribute's lowest VCN),
//! and a bounds check of every attribute header before the crate parses the record, so that a
//! damaged record becomes a problem, never a panic. Never writes.

use crate::engine::fs::{le16, le32, le64};

/// The fixup stride: the last 2 bytes of every 512 bytes hold the update sequence number.
const STRIDE: usize = 512;

pub const FLAG_IN_USE: u16 = 0x0001;
pub const FLAG_DIRECTORY: u16 = 0x0002;

/// A file record after its fixups were applied.
#[derive(Clone, Debug)]
pub struct RawRecord {
    pub bytes: Vec<u8>,
}

/// What reading a record slot found.
#[derive(Debug)]
pub enum Slot {
    /// Never used: zeros (or no magic at all) — nothing to say.
    Empty,
    Record(RawRecord),
    /// A damaged record: what is wrong, in words.
    Damaged(String),
}

/// Apply the fixups of a record (or index block) in place and check the attribute headers.
pub fn parse(mut bytes: Vec<u8>) -> Slot {
    if bytes.iter().all(|&b| b == 0) {
        return Slot::Empty;
    }
    match &bytes[..4] {
        b"FILE" => {}
        b"BAAD" => return Slot::Damaged("record marked BAAD (a failed multi-sector write)".into()),
        _ => return Slot::Empty,
    }
    if let Err(e) = fixup(&mut bytes) {
        return Slot::Damaged(e);
    }
    let rec = RawRecord { bytes };
    match rec.check_attributes() {
        Ok(()) => Slot::Record(rec),
        Err(e) => Slot::Damaged(e),
    }
}

/// Restore the last two bytes of every 512-byte stride from the update sequence array; a
/// stride that does not end with the sequence number is a torn write.
pub fn fixup(b: &mut [u8]) -> Result<(), String> {
    let usa = usize::from(le16(b, 4));
    let count = usize::from(le16(b, 6));
    let strides = b.len() / STRIDE;
    if count == 0 || count - 1 > strides || usa + 2 * count > b.len() || usa < 0x28 {
        return Err(format!(
            "update sequence array (offset {usa}, {count} entries) does not fit the record"
        ));
    }
    let usn = [b[usa], b[usa + 1]];
    for i in 1..count {
        let end = i * STRIDE - 2;
        if b[end..end + 2] != usn {
            return Err(format!(
                "bad fixup: sector {} of the record does not end with its update sequence number (a torn write)",
                i - 1
            ));
        }
        b[end] = b[usa + 2 * i];
        b[end + 1] = b[usa + 2 * i + 1];
    }
    Ok(())
}

impl RawRecord {
    pub fn flags(&self) -> u16 {
        le16(&self.bytes, 22)
    }

    pub fn in_use(&self) -> bool {
        self.flags() & FLAG_IN_USE != 0
    }

    pub fn is_dir(&self) -> bool {
        self.flags() & FLAG_DIRECTORY != 0
    }

    pub fn sequence(&self) -> u16 {
        le16(&self.bytes, 16)
    }

    /// The base record of an extension record (0 for a base record).
    pub fn base(&self) -> u64 {
        le64(&self.bytes, 0x20) & 0xFFFF_FFFF_FFFF
    }

    /// The lowest VCN of the non-resident attribute that starts at byte `offset` of the record.
    pub fn lowest_vcn(&self, offset: usize) -> u64 {
        le64(&self.bytes, offset + 0x10)
    }

    /// Every attribute header lies inside the record, with the fields the crate reads in
    /// bounds: the crate indexes them without checking, so a bad one must not reach it.
    fn check_attributes(&self) -> Result<(), String> {
        let b = &self.bytes;
        let used = (le32(b, 0x18) as usize).min(b.len());
        let mut off = usize::from(le16(b, 0x14));
        let mut seen = 0;
        loop {
            if off + 4 > used || off < 0x18 {
                return Err(format!(
                    "attribute at byte {off} runs past the record's end"
                ));
            }
            if le32(b, off) == 0xFFFF_FFFF {
                return Ok(());
            }
            let len = le32(b, off + 4) as usize;
            let resident = b.get(off + 8) == Some(&0);
            let header = if resident { 0x18 } else { 0x40 };
            if len < header || off + len > used || len % 8 != 0 {
                return Err(format!(
                    "attribute at byte {off} has length {len}, impossible in a {used}-byte record"
                ));
            }
            let name_end = usize::from(le16(b, off + 10)) + 2 * usize::from(b[off + 9]);
            if b[off + 9] != 0 && name_end > len {
                return Err(format!(
                    "attribute at byte {off}: its name runs past its end"
                ));
            }
            if resident {
                let end = usize::from(le16(b, off + 0x14)) + le32(b, off + 0x10) as usize;
                if end > len {
                    return Err(format!(
                        "attribute at byte {off}: its value runs past its end"
                    ));
                }
            } else if usize::from(le16(b, off + 0x20)) > len {
                return Err(format!(
                    "attribute at byte {off}: its data runs start past its end"
                ));
            }
            off += len;
            seen += 1;
            if seen > b.len() / 0x18 {
                return Err("too many attributes".into());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1024-byte record with one resident attribute and fixups applied as on disk.
    pub(crate) fn record() -> Vec<u8> {
        let mut b = vec![0u8; 1024];
        b[..4].copy_from_slice(b"FILE");
        b[4..6].copy_from_slice(&0x30u16.to_le_bytes());
        b[6..8].copy_from_slice(&3u16.to_le_bytes());
        b[0x14..0x16].copy_from_slice(&0x38u16.to_le_bytes());
        b[0x16..0x18].copy_from_slice(&1u16.to_le_bytes());
        b[0x18..0x1C].copy_from_slice(&0x70u32.to_le_bytes());
        b[0x1C..0x20].copy_from_slice(&1024u32.to_le_bytes());
        // $STANDARD_INFORMATION, resident, 0x30 bytes of value.
        b[0x38..0x3C].copy_from_slice(&0x10u32.to_le_bytes());
        b[0x3C..0x40].copy_from_slice(&0x30u32.to_le_bytes());
        b[0x38 + 0x10..0x38 + 0x14].copy_from_slice(&0x18u32.to_le_bytes());
        b[0x38 + 0x14..0x38 + 0x16].copy_from_slice(&0x18u16.to_le_bytes());
        b[0x68..0x6C].copy_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
        // Fixups: sequence number 7, the original last bytes of each stride in the array.
        b[0x30..0x32].copy_from_slice(&7u16.to_le_bytes());
        for i in 1..3 {
            let end = i * 512 - 2;
            b.copy_within(end..end + 2, 0x30 + 2 * i);
            b[end..end + 2].copy_from_slice(&7u16.to_le_bytes());
        }
        b
    }

    #[test]
    fn a_good_record_parses_and_fixups_restore_the_stride_ends() {
        let mut b = record();
        b[0x32..0x34].copy_from_slice(&[0xAB, 0xCD]);
        let Slot::Record(r) = parse(b) else {
            panic!("not parsed")
        };
        assert_eq!(&r.bytes[510..512], &[0xAB, 0xCD]);
        assert!(r.in_use());
        assert!(!r.is_dir());
        assert_eq!(r.base(), 0);
    }

    #[test]
    fn a_torn_write_is_a_bad_fixup() {
        let mut b = record();
        b[1022] = 0x99;
        let Slot::Damaged(e) = parse(b) else {
            panic!("not damaged")
        };
        assert!(e.contains("bad fixup: sector 1"), "{e}");
    }

    #[test]
    fn damaged_attribute_headers_are_caught_before_the_crate() {
        let mut b = record();
        b[0x3C..0x40].copy_from_slice(&0x2000u32.to_le_bytes());
        assert!(matches!(parse(b), Slot::Damaged(e) if e.contains("length 8192")));
        let mut b = record();
        b[0x38 + 0x10..0x38 + 0x14].copy_from_slice(&0x400u32.to_le_bytes());
        assert!(matches!(parse(b), Slot::Damaged(e) if e.contains("value runs past")));
        let mut b = record();
        b[0x3C..0x40].copy_from_slice(&0u32.to_le_bytes());
        assert!(matches!(parse(b), Slot::Damaged(_)));
        assert!(matches!(parse(vec![0; 1024]), Slot::Empty));
        let mut b = record();
        b[..4].copy_from_slice(b"BAAD");
        assert!(matches!(parse(b), Slot::Damaged(e) if e.contains("BAAD")));
    }
}
