//! The 16-byte block header, the CRC-16 that protects a block, and block validation.
//!
//! Pure byte functions: every reader and writer of blocks in the project goes through
//! [`write_header`] and [`classify`], so the rules for "is this a valid block" live here once.

use super::version::{HEADER_SIZE, Version};

/// The three signature bytes at the start of every block.
pub const SIGNATURE: &[u8; 3] = b"SBx";

/// A container UID: six opaque bytes shared by every block of one container.
pub type Uid = [u8; 6];

/// The CRC of a block: CRC-16/0x1021 with initial value = version, over bytes 6..end.
pub fn block_crc(version: Version, block: &[u8]) -> u16 {
    crc16(version.byte(), &block[6..])
}

/// CRC-16/0x1021 starting from `init` (the SBX version byte) over `bytes`.
pub fn crc16(init: u8, bytes: &[u8]) -> u16 {
    super::crc16::crc16(u16::from(init), bytes)
}

/// The parsed header of one block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub version: Version,
    pub crc: u16,
    pub uid: Uid,
    pub seq: u32,
}

/// Fill in the header of `block` (whose payload is already in place) and its CRC.
/// `block` must be exactly one block of `version`.
pub fn write_header(block: &mut [u8], version: Version, uid: &Uid, seq: u32) {
    write_header_fields(block, version, uid, seq);
    seal(block, version);
}

/// The header of a block without its CRC (bytes 4..6 left as they are): [`seal`] finishes
/// it once the payload is in place. Lets the encoder leave the CRCs to another thread.
pub fn write_header_fields(block: &mut [u8], version: Version, uid: &Uid, seq: u32) {
    debug_assert_eq!(block.len(), version.block_size());
    block[..3].copy_from_slice(SIGNATURE);
    block[3] = version.byte();
    block[6..12].copy_from_slice(uid);
    block[12..16].copy_from_slice(&seq.to_be_bytes());
}

/// Store the CRC of a block whose header fields and payload are in place.
pub fn seal(block: &mut [u8], version: Version) {
    let crc = block_crc(version, block);
    block[4..6].copy_from_slice(&crc.to_be_bytes());
}

/// Read the header fields without checking the CRC. `None` when the bytes do not start with
/// the signature and a known version byte.
pub fn parse_header(bytes: &[u8]) -> Option<Header> {
    if bytes.len() < HEADER_SIZE || &bytes[..3] != SIGNATURE {
        return None;
    }
    let version = Version::from_byte(bytes[3])?;
    Some(Header {
        version,
        crc: u16::from_be_bytes([bytes[4], bytes[5]]),
        uid: bytes[6..12].try_into().expect("6 bytes"),
        seq: u32::from_be_bytes(bytes[12..16].try_into().expect("4 bytes")),
    })
}

/// What a block-sized piece of bytes turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockState {
    /// Signature, version and CRC all check out.
    Valid(Header),
    /// Signature and a known version byte, but the CRC does not match (or the block is cut
    /// short): a damaged SBX block. The header fields are what the block claims.
    Damaged(Header),
    /// No SBX signature: something else.
    NotSbx,
}

/// Classify `bytes` as a block. The block size is taken from the version byte, so `bytes`
/// may be longer than the block (only the first block-size bytes are looked at); shorter
/// bytes make a block cut short, which is damaged.
pub fn classify(bytes: &[u8]) -> BlockState {
    let Some(header) = parse_header(bytes) else {
        return BlockState::NotSbx;
    };
    let bs = header.version.block_size();
    if bytes.len() < bs || block_crc(header.version, &bytes[..bs]) != header.crc {
        return BlockState::Damaged(header);
    }
    BlockState::Valid(header)
}

/// Format a UID as 12 lower-case hex digits.
pub fn uid_hex(uid: &Uid) -> String {
    uid.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parse a UID given as hex: up to 12 digits, optional `0x` and `_` separators, left-padded
/// with zeros as the original SBXEnc does (`77` → `000000000077`).
pub fn parse_uid(text: &str) -> Result<Uid, String> {
    let t = text.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    let digits: String = t.chars().filter(|&c| c != '_').collect();
    if digits.is_empty() || digits.len() > 12 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "UID must be 1 to 12 hexadecimal digits, got {text:?}"
        ));
    }
    let value = u64::from_str_radix(&digits, 16).map_err(|e| e.to_string())?;
    Ok(value.to_be_bytes()[2..].try_into().expect("6 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_check_values_match_the_spec() {
        for (init, check) in [
            (0u8, 0x31C3u16),
            (1, 0x7610),
            (2, 0xBE65),
            (3, 0xF9B6),
            (17, 0x4BA4),
            (18, 0x83D1),
            (19, 0xC402),
        ] {
            assert_eq!(crc16(init, b"123456789"), check, "init {init}");
        }
    }

    #[test]
    fn header_round_trip_and_classification() {
        let mut block = vec![0x1Au8; 512];
        block[16] = 0xE2;
        write_header(&mut block, Version::V1, &[1, 2, 3, 4, 5, 6], 7);
        let BlockState::Valid(h) = classify(&block) else {
            panic!("freshly written block must be valid")
        };
        assert_eq!(
            (h.version, h.uid, h.seq),
            (Version::V1, [1, 2, 3, 4, 5, 6], 7)
        );
        block[100] ^= 1;
        assert!(matches!(classify(&block), BlockState::Damaged(_)));
        assert!(matches!(classify(&block[..300]), BlockState::Damaged(_)));
        block[0] = b's';
        assert_eq!(classify(&block), BlockState::NotSbx);
    }

    #[test]
    fn uid_parsing_pads_and_refuses_garbage() {
        assert_eq!(parse_uid("77").unwrap(), [0, 0, 0, 0, 0, 0x77]);
        assert_eq!(
            parse_uid("0x5eb0c5000101").unwrap(),
            [0x5e, 0xb0, 0xc5, 0, 1, 1]
        );
        assert_eq!(parse_uid("1_2").unwrap(), [0, 0, 0, 0, 0, 0x12]);
        assert!(parse_uid("").is_err());
        assert!(parse_uid("xyz").is_err());
        assert!(parse_uid("1234567890abc").is_err());
        assert_eq!(uid_hex(&[0x5e, 0xb0, 0xc5, 0, 1, 1]), "5eb0c5000101");
    }
}
