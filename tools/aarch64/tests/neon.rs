use aarch64_check::crc16;
use aarch64_check::gf256::{Coef, Kernel, dot};

#[test]
fn neon_equals_scalar_for_every_coefficient_and_odd_lengths() {
    assert!(Kernel::Neon.is_available());
    assert_eq!(Kernel::best(), Kernel::Neon);
    let srcs: Vec<Vec<u8>> = (0..5u32)
        .map(|s| (0..1031u32).map(|i| (i * 131 + s * 17 + i / 7) as u8).collect())
        .collect();
    for c in 0..=255u8 {
        for len in [0usize, 1, 15, 16, 17, 31, 33, 496, 1031] {
            for off in [0usize, 1, 3] {
                let refs: Vec<&[u8]> = srcs.iter().map(|s| &s[off..off + len.min(1031 - off)]).collect();
                let n = refs[0].len();
                let coefs: Vec<Coef> = (0..5).map(|k| Coef::new(c.wrapping_add(k * 37))).collect();
                let mut a = vec![0xAAu8; n];
                let mut b = vec![0x55u8; n];
                dot(Kernel::Neon, &coefs, &refs, &mut a);
                dot(Kernel::Scalar, &coefs, &refs, &mut b);
                assert_eq!(a, b, "c={c} len={n} off={off}");
            }
        }
    }
}

#[test]
fn crc_is_the_table_crc_without_pclmul() {
    let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 + i / 13) as u8).collect();
    for n in [0, 1, 16, 31, 32, 33, 496, 511, 4096, 5000] {
        assert_eq!(crc16::crc16(17, &data[..n]), crc16::table(17, &data[..n]));
    }
    assert_eq!(crc16::crc16(0, b"123456789"), 0x31C3);
}
