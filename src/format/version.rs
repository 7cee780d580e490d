//! The table of SBX versions: block size, and whether the version carries Reed–Solomon parity.
//!
//! Versions 1–3 are the original SeqBox ones; 17–19 are blkar's Reed–Solomon twins of them.

use serde::Serialize;

/// Size of the block header shared by every version.
pub const HEADER_SIZE: usize = 16;

/// One SBX version. The numeric value is the version byte stored in every block header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "u8")]
pub enum Version {
    V1,
    V2,
    V3,
    V17,
    V18,
    V19,
}

impl Version {
    /// Every version we know, in byte order.
    pub const ALL: [Version; 6] = [
        Version::V1,
        Version::V2,
        Version::V3,
        Version::V17,
        Version::V18,
        Version::V19,
    ];

    /// The version stored in a header byte, if it is one we know.
    pub fn from_byte(b: u8) -> Option<Version> {
        Some(match b {
            1 => Version::V1,
            2 => Version::V2,
            3 => Version::V3,
            17 => Version::V17,
            18 => Version::V18,
            19 => Version::V19,
            _ => return None,
        })
    }

    /// The header byte of this version.
    pub fn byte(self) -> u8 {
        match self {
            Version::V1 => 1,
            Version::V2 => 2,
            Version::V3 => 3,
            Version::V17 => 17,
            Version::V18 => 18,
            Version::V19 => 19,
        }
    }

    /// Whole block size in bytes (header included).
    pub fn block_size(self) -> usize {
        match self {
            Version::V1 | Version::V17 => 512,
            Version::V2 | Version::V18 => 128,
            Version::V3 | Version::V19 => 4096,
        }
    }

    /// Bytes of payload per block.
    pub fn payload_size(self) -> usize {
        self.block_size() - HEADER_SIZE
    }

    /// Whether blocks of this version are grouped in Reed–Solomon block sets.
    pub fn uses_rs(self) -> bool {
        matches!(self, Version::V17 | Version::V18 | Version::V19)
    }
}

impl From<Version> for u8 {
    fn from(v: Version) -> u8 {
        v.byte()
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.byte())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_round_trips_and_sizes_match_the_spec() {
        for v in Version::ALL {
            assert_eq!(Version::from_byte(v.byte()), Some(v));
        }
        assert_eq!(Version::V1.payload_size(), 496);
        assert_eq!(Version::V2.payload_size(), 112);
        assert_eq!(Version::V3.payload_size(), 4080);
        assert_eq!(Version::V19.block_size(), 4096);
        assert!(Version::V18.uses_rs() && !Version::V2.uses_rs());
        assert_eq!(Version::from_byte(4), None);
        assert_eq!(Version::from_byte(0x11), Some(Version::V17));
    }
}
