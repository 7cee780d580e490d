//! CRC-16 with polynomial 0x1021 (no reflection, no final XOR) and any initial value — the
//! checksum of every SBX block — computed 16 bytes at a time with carry-less multiplication
//! where the processor has it, and with slice-by-16 tables elsewhere.
//!
//! Folding: the message M is taken 128 bits at a time (Horner's rule, leading zero bytes
//! added so the length is a multiple of 16, which leaves M unchanged as a polynomial). The
//! running value A = H·x⁶⁴ + L is folded onto the next chunk as H·(x¹⁹² mod P) + L·(x¹²⁸ mod P),
//! which keeps A ≡ M (mod P) within 128 bits; the last 16 bytes then go through the table.
//! The initial value enters by XOR into the message's first two bytes.

use crc::{Crc, Table};

static TABLE: Crc<u16, Table<16>> = Crc::<u16, Table<16>>::new(&crc::CRC_16_XMODEM);

/// x^n mod P for P = x¹⁶ + x¹² + x⁵ + 1, as a bit pattern.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
const fn x_pow_mod(n: u32) -> u64 {
    let mut r: u32 = 1;
    let mut i = 0;
    while i < n {
        r <<= 1;
        if r & 0x1_0000 != 0 {
            r ^= 0x1_1021;
        }
        i += 1;
    }
    r as u64
}

/// (x^(128s) mod P, x^(128s+64) mod P) for s = 0..=4: multiplying a 128-bit value by
/// x^(128s) (folding it s chunks on) multiplies its low half by the first and its high half
/// by the second.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
const FOLD: [(u64, u64); 5] = {
    let mut k = [(0, 0); 5];
    let mut s = 0;
    while s < 5 {
        k[s] = (x_pow_mod(128 * s as u32), x_pow_mod(128 * s as u32 + 64));
        s += 1;
    }
    k
};

/// CRC-16/0x1021 of `bytes` with the register starting at `init`.
pub fn crc16(init: u16, bytes: &[u8]) -> u16 {
    #[cfg(target_arch = "x86_64")]
    {
        if bytes.len() >= 32
            && std::arch::is_x86_feature_detected!("pclmulqdq")
            && std::arch::is_x86_feature_detected!("ssse3")
        {
            // SAFETY: the processor has the instructions the function is compiled for.
            return unsafe { folded(init, bytes) };
        }
    }
    table(init, bytes)
}

/// The table-driven CRC (the reference the folded one is tested against).
pub fn table(init: u16, bytes: &[u8]) -> u16 {
    let mut d = TABLE.digest_with_initial(init);
    d.update(bytes);
    d.finalize()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq,sse2,ssse3")]
unsafe fn folded(init: u16, bytes: &[u8]) -> u16 {
    use std::arch::x86_64::{
        __m128i, _mm_clmulepi64_si128, _mm_loadu_si128, _mm_set_epi8, _mm_set_epi64x,
        _mm_shuffle_epi8, _mm_storeu_si128, _mm_xor_si128,
    };
    let pad = (16 - bytes.len() % 16) % 16;
    if pad == 15 {
        // The initial value needs two message bytes in the first chunk: take one byte through
        // the table first (the register after it is the initial value for the rest).
        // SAFETY: same processor features as this function.
        return unsafe { folded(table(init, &bytes[..1]), &bytes[1..]) };
    }
    // The first chunk: zero bytes in front, the message's first bytes after, init XORed in.
    let mut first = [0u8; 16];
    first[pad..].copy_from_slice(&bytes[..16 - pad]);
    first[pad] ^= (init >> 8) as u8;
    first[pad + 1] ^= init as u8;
    let rest = &bytes[16 - pad..];
    // Bytes are big-endian polynomials: reverse each 16-byte load so bit i is x^i.
    let reverse = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    let by = |s: usize| _mm_set_epi64x(FOLD[s].1 as i64, FOLD[s].0 as i64);
    let (k1, k2, k3, k4) = (by(1), by(2), by(3), by(4));
    // SAFETY: unaligned loads and stores of 16 bytes within the slices.
    unsafe {
        let load =
            |c: &[u8]| _mm_shuffle_epi8(_mm_loadu_si128(c.as_ptr().cast::<__m128i>()), reverse);
        let fold = |a: __m128i, k: __m128i| {
            _mm_xor_si128(
                _mm_clmulepi64_si128(a, k, 0x00),
                _mm_clmulepi64_si128(a, k, 0x11),
            )
        };
        let mut acc = load(&first);
        let mut chunks = rest.chunks_exact(16);
        if rest.len() >= 7 * 16 {
            // Four independent running values, 64 bytes apart, so the multiplications
            // overlap instead of waiting on each other; joined again at the end.
            let mut a = [
                acc,
                load(chunks.next().expect("7 chunks")),
                load(chunks.next().expect("7 chunks")),
                load(chunks.next().expect("7 chunks")),
            ];
            while chunks.len() >= 4 {
                for ai in &mut a {
                    *ai = _mm_xor_si128(fold(*ai, k4), load(chunks.next().expect("4 left")));
                }
            }
            acc = _mm_xor_si128(
                _mm_xor_si128(fold(a[0], k3), fold(a[1], k2)),
                _mm_xor_si128(fold(a[2], k1), a[3]),
            );
        }
        for chunk in chunks {
            acc = _mm_xor_si128(fold(acc, k1), load(chunk));
        }
        let mut out = [0u8; 16];
        _mm_storeu_si128(
            out.as_mut_ptr().cast::<__m128i>(),
            _mm_shuffle_epi8(acc, reverse),
        );
        table(0, &out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn check_values() {
        assert_eq!(crc16(0, b"123456789"), 0x31C3);
        let long = b"123456789".repeat(20);
        assert_eq!(crc16(1, &long), table(1, &long));
        assert_eq!(crc16(0x13, &long[..32]), table(0x13, &long[..32]));
    }

    proptest! {
        #[test]
        fn folded_equals_table(data in proptest::collection::vec(any::<u8>(), 0..5000), init in any::<u16>()) {
            prop_assert_eq!(crc16(init, &data), table(init, &data));
        }
    }
}
