//! The SeqBox password transform: every block XORed with one fixed keystream.
//!
//! Not encryption (the original says so): it only hides blocks from a plain scan. The
//! keystream is `P ‖ D1 ‖ D2 ‖ …` where each `Di` is the running SHA-256 digest after feeding
//! it the whole stream so far. We compute it on bytes, so none of the original's hex-string
//! bugs (dropped leading zero bytes) are reproduced.

use sha2::{Digest, Sha256};

/// The first `n` bytes of the keystream for `password`.
pub fn keystream(password: &[u8], n: usize) -> Vec<u8> {
    let mut k = password.to_vec();
    let mut h = Sha256::new();
    while k.len() < n {
        h.update(&k);
        k.extend_from_slice(&h.clone().finalize());
    }
    k.truncate(n);
    k
}

/// XOR `data` with `key` from its start (`key` at least as long as `data`).
pub fn apply(data: &mut [u8], key: &[u8]) {
    for (d, k) in data.iter_mut().zip(key) {
        *d ^= k;
    }
}

/// Whether the original SeqBox tools could have made a container with this password: their
/// big-integer round trip drops a leading zero byte when the first transformed byte is below
/// 0x10, so they crash or write short blocks.
pub fn original_can_use(password: &[u8]) -> bool {
    b'S' ^ keystream(password, 1)[0] >= 0x10
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keystream_matches_the_worked_example() {
        // spec §13.3: "ab" ‖ SHA256("ab") ‖ SHA256("ab"‖"ab"‖SHA256("ab")) …
        let ks = keystream(b"ab", 40);
        assert_eq!(&ks[..2], b"ab");
        assert_eq!(&ks[2..6], &[0xfb, 0x8e, 0x20, 0xfc]);
        assert_eq!(&ks[34..38], &[0x18, 0xd7, 0x3e, 0x1c]);
        // Prefixes are consistent and a long password is used as is.
        assert_eq!(&keystream(b"ab", 100)[..40], &ks[..]);
        let long = vec![b'z'; 600];
        assert_eq!(keystream(&long, 512), long[..512].to_vec());
    }

    #[test]
    fn passwords_the_original_could_not_use() {
        assert!(original_can_use(b"correct-horse-battery-staple"));
        assert!(original_can_use(b"ab"));
        assert!(!original_can_use(b"Password")); // 'P' ^ 'S' = 0x03
        assert!(!original_can_use(b"Sx")); // first byte 0: blocks one byte short
    }
}
