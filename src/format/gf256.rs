//! GF(2⁸) arithmetic over the polynomial 0x11D (the field of blkar's Reed–Solomon code) and
//! the multiply-accumulate kernels the codec runs on whole payloads.
//!
//! Kernels: scalar (everywhere), SSSE3 and AVX2 on x86-64, NEON on aarch64. All use the
//! split-nibble technique: c·x = lo[x & 15] ⊕ hi[x >> 4] with two 16-entry tables per
//! coefficient, one `pshufb` (`vqtbl1q_u8`) each. The kernel is chosen once per process from
//! what the processor reports at run time (or `SEQBOX_GF_KERNEL`), never from how the binary
//! was compiled: this module must never execute an instruction the processor has not
//! reported, and every kernel must give exactly the scalar result.

use std::sync::OnceLock;

/// The field polynomial x⁸ + x⁴ + x³ + x² + 1.
pub const POLY: u16 = 0x11D;

/// exp[i] = 2^i, doubled in length so exp[log a + log b] needs no reduction.
static EXP: [u8; 512] = exp_table();
/// log[a] for a ≠ 0 (log[0] is unused).
static LOG: [u8; 256] = log_table();

const fn exp_table() -> [u8; 512] {
    let mut t = [0u8; 512];
    let mut x: u16 = 1;
    let mut i = 0;
    while i < 512 {
        t[i] = x as u8;
        x <<= 1;
        if x & 0x100 != 0 {
            x ^= POLY;
        }
        i += 1;
    }
    t
}

const fn log_table() -> [u8; 256] {
    let exp = exp_table();
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 255 {
        t[exp[i] as usize] = i as u8;
        i += 1;
    }
    t
}

/// a · b.
pub fn mul(a: u8, b: u8) -> u8 {
    if a == 0 || b == 0 {
        0
    } else {
        EXP[LOG[a as usize] as usize + LOG[b as usize] as usize]
    }
}

/// a / b. As reed-solomon-erasure's `galois_8::div`: 0 / b is 0 for any b; a / 0 panics.
pub fn div(a: u8, b: u8) -> u8 {
    if a == 0 {
        return 0;
    }
    assert!(b != 0, "division by zero in GF(2^8)");
    EXP[LOG[a as usize] as usize + 255 - LOG[b as usize] as usize]
}

/// aⁿ (a⁰ = 1, also for a = 0).
pub fn exp(a: u8, n: usize) -> u8 {
    if n == 0 {
        1
    } else if a == 0 {
        0
    } else {
        EXP[(LOG[a as usize] as usize * n) % 255]
    }
}

/// The two nibble tables of one coefficient, each stored twice so a 256-bit register loads
/// them in one instruction: `lo[i] = c·i`, `hi[i] = c·(i << 4)` for i < 16.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(32))]
pub struct Coef {
    lo: [u8; 32],
    hi: [u8; 32],
}

impl Coef {
    pub fn new(c: u8) -> Coef {
        let mut t = Coef {
            lo: [0; 32],
            hi: [0; 32],
        };
        for i in 0..16u8 {
            let (l, h) = (mul(c, i), mul(c, i << 4));
            t.lo[i as usize] = l;
            t.lo[16 + i as usize] = l;
            t.hi[i as usize] = h;
            t.hi[16 + i as usize] = h;
        }
        t
    }

    /// The coefficient these tables multiply by.
    pub fn value(&self) -> u8 {
        self.lo[1]
    }

    #[inline(always)]
    fn apply(&self, x: u8) -> u8 {
        self.lo[(x & 15) as usize] ^ self.hi[(x >> 4) as usize]
    }
}

/// One implementation of the kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    Scalar,
    Ssse3,
    Avx2,
    Neon,
}

impl Kernel {
    pub const ALL: [Kernel; 4] = [Kernel::Scalar, Kernel::Ssse3, Kernel::Avx2, Kernel::Neon];

    pub fn name(self) -> &'static str {
        match self {
            Kernel::Scalar => "scalar",
            Kernel::Ssse3 => "ssse3",
            Kernel::Avx2 => "avx2",
            Kernel::Neon => "neon",
        }
    }

    pub fn from_name(name: &str) -> Option<Kernel> {
        Kernel::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(name.trim()))
    }

    /// Whether this processor can run the kernel.
    pub fn is_available(self) -> bool {
        match self {
            Kernel::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::Ssse3 => std::arch::is_x86_feature_detected!("ssse3"),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            // NEON is part of the aarch64 baseline.
            #[cfg(target_arch = "aarch64")]
            Kernel::Neon => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The kernels this processor can run, slowest first.
    pub fn available() -> Vec<Kernel> {
        Kernel::ALL
            .into_iter()
            .filter(|k| k.is_available())
            .collect()
    }

    /// The fastest kernel this processor can run.
    pub fn best() -> Kernel {
        [Kernel::Avx2, Kernel::Neon, Kernel::Ssse3]
            .into_iter()
            .find(|k| k.is_available())
            .unwrap_or(Kernel::Scalar)
    }
}

/// The environment variable that forces a kernel (`scalar`, `ssse3`, `avx2`, `neon`), for
/// tests and for ruling a kernel out when chasing a bug. A kernel the processor cannot run
/// is ignored: forcing must never crash the program.
pub const KERNEL_ENV: &str = "SEQBOX_GF_KERNEL";

/// The kernel this process uses, chosen on first use.
pub fn kernel() -> Kernel {
    static CHOSEN: OnceLock<Kernel> = OnceLock::new();
    *CHOSEN.get_or_init(|| {
        std::env::var(KERNEL_ENV)
            .ok()
            .and_then(|v| Kernel::from_name(&v))
            .filter(|k| k.is_available())
            .unwrap_or_else(Kernel::best)
    })
}

/// dst = Σ coefs[j] · srcs[j] over dst's length (each source at least that long), with
/// `kernel` (falls back to scalar if the processor cannot run it).
pub fn dot(kernel: Kernel, coefs: &[Coef], srcs: &[&[u8]], dst: &mut [u8]) {
    assert_eq!(coefs.len(), srcs.len(), "one coefficient per source");
    assert!(
        srcs.iter().all(|s| s.len() >= dst.len()),
        "a source shorter than the destination"
    );
    if coefs.is_empty() {
        dst.fill(0);
        return;
    }
    match kernel {
        // SAFETY: the feature was detected at run time just now (cached by std), and the
        // lengths were checked above.
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 if Kernel::Avx2.is_available() => unsafe { x86::dot_avx2(coefs, srcs, dst) },
        #[cfg(target_arch = "x86_64")]
        Kernel::Ssse3 if Kernel::Ssse3.is_available() => unsafe {
            x86::dot_ssse3(coefs, srcs, dst, 0)
        },
        // SAFETY: NEON is in the aarch64 baseline; lengths checked above.
        #[cfg(target_arch = "aarch64")]
        Kernel::Neon => unsafe { arm::dot_neon(coefs, srcs, dst) },
        _ => dot_scalar(coefs, srcs, dst, 0),
    }
}

/// The reference kernel, from byte `from` on: what every other kernel must equal.
fn dot_scalar(coefs: &[Coef], srcs: &[&[u8]], dst: &mut [u8], from: usize) {
    let dst = &mut dst[from..];
    let (first, rest) = (&coefs[0], &coefs[1..]);
    for (d, &x) in dst.iter_mut().zip(&srcs[0][from..]) {
        *d = first.apply(x);
    }
    for (c, s) in rest.iter().zip(&srcs[1..]) {
        for (d, &x) in dst.iter_mut().zip(&s[from..]) {
            *d ^= c.apply(x);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Coef, dot_scalar};
    use std::arch::x86_64::*;

    /// SSSE3, 16 bytes at a time from byte `from`; the last < 16 bytes in scalar.
    ///
    /// # Safety
    /// The processor supports SSSE3; every source is at least `dst.len()` long.
    #[target_feature(enable = "ssse3")]
    pub unsafe fn dot_ssse3(coefs: &[Coef], srcs: &[&[u8]], dst: &mut [u8], from: usize) {
        let n = dst.len();
        let mask = _mm_set1_epi8(0x0f);
        let mut i = from;
        while i + 16 <= n {
            let mut acc = _mm_setzero_si128();
            for (c, s) in coefs.iter().zip(srcs) {
                // SAFETY: i + 16 ≤ n ≤ s.len(); Coef is 32-byte aligned.
                unsafe {
                    let lo = _mm_load_si128(c.lo.as_ptr().cast());
                    let hi = _mm_load_si128(c.hi.as_ptr().cast());
                    let x = _mm_loadu_si128(s.as_ptr().add(i).cast());
                    let l = _mm_shuffle_epi8(lo, _mm_and_si128(x, mask));
                    let h = _mm_shuffle_epi8(hi, _mm_and_si128(_mm_srli_epi64(x, 4), mask));
                    acc = _mm_xor_si128(acc, _mm_xor_si128(l, h));
                }
            }
            // SAFETY: i + 16 ≤ n.
            unsafe { _mm_storeu_si128(dst.as_mut_ptr().add(i).cast(), acc) };
            i += 16;
        }
        if i < n {
            dot_scalar(coefs, srcs, dst, i);
        }
    }

    /// AVX2, 64 then 32 bytes at a time; the rest through the SSSE3 kernel.
    ///
    /// # Safety
    /// The processor supports AVX2 (which implies SSSE3); every source is at least
    /// `dst.len()` long.
    #[target_feature(enable = "avx2")]
    pub unsafe fn dot_avx2(coefs: &[Coef], srcs: &[&[u8]], dst: &mut [u8]) {
        let n = dst.len();
        let mask = _mm256_set1_epi8(0x0f);
        let mut i = 0;
        while i + 64 <= n {
            let (mut a0, mut a1) = (_mm256_setzero_si256(), _mm256_setzero_si256());
            for (c, s) in coefs.iter().zip(srcs) {
                // SAFETY: i + 64 ≤ n ≤ s.len(); Coef is 32-byte aligned.
                unsafe {
                    let lo = _mm256_load_si256(c.lo.as_ptr().cast());
                    let hi = _mm256_load_si256(c.hi.as_ptr().cast());
                    let x0 = _mm256_loadu_si256(s.as_ptr().add(i).cast());
                    let x1 = _mm256_loadu_si256(s.as_ptr().add(i + 32).cast());
                    let l0 = _mm256_shuffle_epi8(lo, _mm256_and_si256(x0, mask));
                    let h0 =
                        _mm256_shuffle_epi8(hi, _mm256_and_si256(_mm256_srli_epi64(x0, 4), mask));
                    let l1 = _mm256_shuffle_epi8(lo, _mm256_and_si256(x1, mask));
                    let h1 =
                        _mm256_shuffle_epi8(hi, _mm256_and_si256(_mm256_srli_epi64(x1, 4), mask));
                    a0 = _mm256_xor_si256(a0, _mm256_xor_si256(l0, h0));
                    a1 = _mm256_xor_si256(a1, _mm256_xor_si256(l1, h1));
                }
            }
            // SAFETY: i + 64 ≤ n.
            unsafe {
                _mm256_storeu_si256(dst.as_mut_ptr().add(i).cast(), a0);
                _mm256_storeu_si256(dst.as_mut_ptr().add(i + 32).cast(), a1);
            }
            i += 64;
        }
        while i + 32 <= n {
            let mut acc = _mm256_setzero_si256();
            for (c, s) in coefs.iter().zip(srcs) {
                // SAFETY: as above, i + 32 ≤ n.
                unsafe {
                    let lo = _mm256_load_si256(c.lo.as_ptr().cast());
                    let hi = _mm256_load_si256(c.hi.as_ptr().cast());
                    let x = _mm256_loadu_si256(s.as_ptr().add(i).cast());
                    let l = _mm256_shuffle_epi8(lo, _mm256_and_si256(x, mask));
                    let h =
                        _mm256_shuffle_epi8(hi, _mm256_and_si256(_mm256_srli_epi64(x, 4), mask));
                    acc = _mm256_xor_si256(acc, _mm256_xor_si256(l, h));
                }
            }
            // SAFETY: i + 32 ≤ n.
            unsafe { _mm256_storeu_si256(dst.as_mut_ptr().add(i).cast(), acc) };
            i += 32;
        }
        if i < n {
            // SAFETY: AVX2 implies SSSE3; lengths as above.
            unsafe { dot_ssse3(coefs, srcs, dst, i) };
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod arm {
    use super::{Coef, dot_scalar};
    use std::arch::aarch64::*;

    /// NEON, 16 bytes at a time; the last < 16 bytes in scalar.
    ///
    /// # Safety
    /// Every source is at least `dst.len()` long.
    #[target_feature(enable = "neon")]
    pub unsafe fn dot_neon(coefs: &[Coef], srcs: &[&[u8]], dst: &mut [u8]) {
        let n = dst.len();
        let mut i = 0;
        while i + 16 <= n {
            // SAFETY: i + 16 ≤ n ≤ every source's length; the tables are 32 bytes.
            unsafe {
                let mask = vdupq_n_u8(0x0f);
                let mut acc = vdupq_n_u8(0);
                for (c, s) in coefs.iter().zip(srcs) {
                    let lo = vld1q_u8(c.lo.as_ptr());
                    let hi = vld1q_u8(c.hi.as_ptr());
                    let x = vld1q_u8(s.as_ptr().add(i));
                    let l = vqtbl1q_u8(lo, vandq_u8(x, mask));
                    let h = vqtbl1q_u8(hi, vshrq_n_u8::<4>(x));
                    acc = veorq_u8(acc, veorq_u8(l, h));
                }
                vst1q_u8(dst.as_mut_ptr().add(i), acc);
            }
            i += 16;
        }
        if i < n {
            dot_scalar(coefs, srcs, dst, i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Multiplication by shift-and-add, independent of the tables.
    fn slow_mul(mut a: u8, mut b: u8) -> u8 {
        let mut p = 0u8;
        while b != 0 {
            if b & 1 != 0 {
                p ^= a;
            }
            let carry = a & 0x80 != 0;
            a <<= 1;
            if carry {
                a ^= (POLY & 0xFF) as u8;
            }
            b >>= 1;
        }
        p
    }

    #[test]
    fn tables_agree_with_shift_and_add_for_every_pair() {
        for a in 0..=255u8 {
            let t = Coef::new(a);
            assert_eq!(t.value(), a);
            for b in 0..=255u8 {
                assert_eq!(mul(a, b), slow_mul(a, b), "{a} · {b}");
                assert_eq!(t.apply(b), mul(a, b));
                if b != 0 {
                    assert_eq!(mul(div(a, b), b), a, "{a} / {b}");
                }
            }
        }
        assert_eq!(div(0, 0), 0);
        assert_eq!(exp(0, 0), 1);
        assert_eq!(exp(2, 8), 0x1D);
        assert_eq!(exp(3, 255), 1);
    }

    #[test]
    fn kernel_names_round_trip_and_scalar_is_always_there() {
        for k in Kernel::ALL {
            assert_eq!(Kernel::from_name(k.name()), Some(k));
        }
        assert_eq!(Kernel::from_name(" AVX2 "), Some(Kernel::Avx2));
        assert_eq!(Kernel::from_name("mmx"), None);
        assert!(Kernel::available().contains(&Kernel::Scalar));
        assert!(kernel().is_available());
    }
}
