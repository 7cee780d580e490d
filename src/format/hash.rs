//! The hash kinds an SBX metadata block can carry (the `HSH` multihash) and a hasher over them.
//!
//! blkar writes SHA-1, SHA-256, SHA-512 and BLAKE2 with the multihash codes below (the BLAKE2
//! codes as two raw bytes, not as a varint); the original SeqBox writes SHA-256 only.

use blake2::digest::consts::{U16, U32};
use blake2::{Blake2b, Blake2b512, Blake2s, Blake2s256};
use serde::Serialize;
use sha2::Digest;

/// A hash function a container can record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HashKind {
    Sha1,
    Sha256,
    Sha512,
    #[serde(rename = "blake2b-256")]
    Blake2b256,
    #[serde(rename = "blake2b-512")]
    Blake2b512,
    #[serde(rename = "blake2s-128")]
    Blake2s128,
    #[serde(rename = "blake2s-256")]
    Blake2s256,
}

impl HashKind {
    pub const ALL: [HashKind; 7] = [
        HashKind::Sha1,
        HashKind::Sha256,
        HashKind::Sha512,
        HashKind::Blake2b256,
        HashKind::Blake2b512,
        HashKind::Blake2s128,
        HashKind::Blake2s256,
    ];

    /// The multihash function code as it is written in `HSH` (one or two raw bytes).
    pub fn code(self) -> &'static [u8] {
        match self {
            HashKind::Sha1 => &[0x11],
            HashKind::Sha256 => &[0x12],
            HashKind::Sha512 => &[0x13],
            HashKind::Blake2b256 => &[0xB2, 0x20],
            HashKind::Blake2b512 => &[0xB2, 0x40],
            HashKind::Blake2s128 => &[0xB2, 0x50],
            HashKind::Blake2s256 => &[0xB2, 0x60],
        }
    }

    /// Digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            HashKind::Sha1 => 20,
            HashKind::Sha256 | HashKind::Blake2b256 | HashKind::Blake2s256 => 32,
            HashKind::Sha512 | HashKind::Blake2b512 => 64,
            HashKind::Blake2s128 => 16,
        }
    }

    /// The name used on the command line and in reports (`sha256`, `blake2b-512`, ...).
    pub fn name(self) -> &'static str {
        match self {
            HashKind::Sha1 => "sha1",
            HashKind::Sha256 => "sha256",
            HashKind::Sha512 => "sha512",
            HashKind::Blake2b256 => "blake2b-256",
            HashKind::Blake2b512 => "blake2b-512",
            HashKind::Blake2s128 => "blake2s-128",
            HashKind::Blake2s256 => "blake2s-256",
        }
    }

    pub fn from_name(name: &str) -> Option<HashKind> {
        let n = name.to_ascii_lowercase().replace('_', "-");
        HashKind::ALL.into_iter().find(|k| k.name() == n)
    }

    /// A fresh hasher of this kind.
    pub fn hasher(self) -> Hasher {
        match self {
            HashKind::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            HashKind::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            HashKind::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
            HashKind::Blake2b256 => Hasher::Blake2b256(Blake2b::<U32>::new()),
            HashKind::Blake2b512 => Hasher::Blake2b512(Blake2b512::new()),
            HashKind::Blake2s128 => Hasher::Blake2s128(Blake2s::<U16>::new()),
            HashKind::Blake2s256 => Hasher::Blake2s256(Blake2s256::new()),
        }
    }
}

impl std::fmt::Display for HashKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A running hash of any [`HashKind`].
#[derive(Clone)]
pub enum Hasher {
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
    Blake2b256(Blake2b<U32>),
    Blake2b512(Blake2b512),
    Blake2s128(Blake2s<U16>),
    Blake2s256(Blake2s256),
}

impl Hasher {
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha1(h) => h.update(bytes),
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
            Hasher::Blake2b256(h) => h.update(bytes),
            Hasher::Blake2b512(h) => h.update(bytes),
            Hasher::Blake2s128(h) => h.update(bytes),
            Hasher::Blake2s256(h) => h.update(bytes),
        }
    }

    pub fn finalize(self) -> Vec<u8> {
        match self {
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
            Hasher::Blake2b256(h) => h.finalize().to_vec(),
            Hasher::Blake2b512(h) => h.finalize().to_vec(),
            Hasher::Blake2s128(h) => h.finalize().to_vec(),
            Hasher::Blake2s256(h) => h.finalize().to_vec(),
        }
    }
}

/// The value of an `HSH` field: a known hash with its digest, or bytes we cannot interpret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoredHash {
    Known { kind: HashKind, digest: Vec<u8> },
    Unknown(Vec<u8>),
}

impl StoredHash {
    /// Encode as the `HSH` value: code bytes, digest length byte, digest.
    pub fn to_multihash(kind: HashKind, digest: &[u8]) -> Vec<u8> {
        let mut v = kind.code().to_vec();
        v.push(digest.len() as u8);
        v.extend_from_slice(digest);
        v
    }

    /// Interpret an `HSH` value. A code we know with a matching length byte and enough digest
    /// bytes is `Known`; anything else is kept raw.
    pub fn parse(value: &[u8]) -> StoredHash {
        for kind in HashKind::ALL {
            let code = kind.code();
            let n = kind.digest_len();
            if value.len() == code.len() + 1 + n
                && value.starts_with(code)
                && usize::from(value[code.len()]) == n
            {
                return StoredHash::Known {
                    kind,
                    digest: value[code.len() + 1..].to_vec(),
                };
            }
        }
        StoredHash::Unknown(value.to_vec())
    }
}

/// Lower-case hex of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(kind: HashKind, data: &[u8]) -> String {
        let mut h = kind.hasher();
        h.update(data);
        hex(&h.finalize())
    }

    #[test]
    fn hashers_produce_the_standard_digests() {
        assert_eq!(
            digest(HashKind::Sha256, b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            digest(HashKind::Sha1, b"abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        // BLAKE2s-256 test vector from RFC 7693.
        assert_eq!(
            digest(HashKind::Blake2s256, b"abc"),
            "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982"
        );
        for kind in HashKind::ALL {
            let mut h = kind.hasher();
            h.update(b"x");
            assert_eq!(h.finalize().len(), kind.digest_len(), "{kind}");
            assert_eq!(HashKind::from_name(kind.name()), Some(kind));
        }
    }

    #[test]
    fn multihash_round_trip_and_unknown_codes() {
        for kind in HashKind::ALL {
            let d = vec![7u8; kind.digest_len()];
            let mh = StoredHash::to_multihash(kind, &d);
            assert_eq!(
                StoredHash::parse(&mh),
                StoredHash::Known { kind, digest: d }
            );
        }
        assert!(matches!(
            StoredHash::parse(&[0x12, 0x20, 1, 2]),
            StoredHash::Unknown(_)
        ));
        assert!(matches!(StoredHash::parse(&[0x99]), StoredHash::Unknown(_)));
    }
}
