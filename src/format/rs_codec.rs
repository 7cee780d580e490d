//! The Reed–Solomon code of one (M data, P parity) shape: parity from data, missing shards
//! from any M present ones.
//!
//! Byte-identical to reed-solomon-erasure's `galois_8::ReedSolomon` (blkar's code): same
//! field, same encoding matrix ([`encoding_matrix`]); decoding is unique, so any correct
//! inverse gives the same bytes. The multiplications run on the [`gf256`] kernel chosen at
//! run time. This module must never hold shards beyond a call or touch I/O.

use super::gf256::{self, Coef, Kernel};
use super::rs_matrix::{Matrix, encoding_matrix};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Erasure patterns whose decoders are kept; past this the cache starts over (a damaged
/// container repeats a few patterns; a pathological one must not grow memory without end).
const DECODERS_KEPT: usize = 1024;

/// The Reed–Solomon code of one (M, P).
pub struct Codec {
    data: usize,
    parity: usize,
    kernel: Kernel,
    matrix: Matrix,
    /// P rows of M coefficients: parity i = Σ_j parity_coefs[i][j] · data j.
    parity_coefs: Vec<Vec<Coef>>,
    decoders: Mutex<HashMap<Vec<usize>, Arc<Decoder>>>,
}

/// How to rebuild the shards of one erasure pattern from M present ones.
struct Decoder {
    /// The present shards read (the first M present, in order).
    sources: Vec<usize>,
    /// Each missing shard and its coefficients over `sources`.
    targets: Vec<(usize, Vec<Coef>)>,
}

impl Codec {
    /// The code of `data` + `parity` shards on the fastest kernel this processor runs.
    pub fn new(data: usize, parity: usize) -> Result<Codec, String> {
        Codec::with_kernel(data, parity, gf256::kernel())
    }

    /// The code on a given kernel (tests cross-check every kernel this way).
    pub fn with_kernel(data: usize, parity: usize, kernel: Kernel) -> Result<Codec, String> {
        if data == 0 || parity == 0 || data + parity > 256 {
            return Err(format!(
                "Reed–Solomon {data}+{parity}: needs 1 ≤ data, 1 ≤ parity and data + parity ≤ 256"
            ));
        }
        let matrix = encoding_matrix(data, parity);
        let parity_coefs = (data..data + parity)
            .map(|r| matrix.row(r).iter().map(|&c| Coef::new(c)).collect())
            .collect();
        Ok(Codec {
            data,
            parity,
            kernel,
            matrix,
            parity_coefs,
            decoders: Mutex::new(HashMap::new()),
        })
    }

    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// Compute the parity payloads from the data payloads (all of one length).
    pub fn encode(&self, data: &[&[u8]], parity: &mut [&mut [u8]]) {
        assert_eq!(data.len(), self.data, "data shard count");
        assert_eq!(parity.len(), self.parity, "parity shard count");
        let len = data[0].len();
        assert!(
            data.iter().all(|d| d.len() == len) && parity.iter().all(|p| p.len() == len),
            "shards of different lengths"
        );
        for (coefs, out) in self.parity_coefs.iter().zip(parity.iter_mut()) {
            gf256::dot(self.kernel, coefs, data, out);
        }
    }

    /// Rebuild the missing shards (None) in place; fails when more than P are missing or the
    /// present shards are empty or of different lengths.
    pub fn reconstruct(&self, shards: &mut [Option<Vec<u8>>]) -> Result<(), String> {
        let missing: Vec<usize> = (0..shards.len()).filter(|&j| shards[j].is_none()).collect();
        let mut rebuilt = vec![Vec::new(); missing.len()];
        {
            let present: Vec<Option<&[u8]>> = shards.iter().map(|s| s.as_deref()).collect();
            self.rebuild(&present, &missing, &mut rebuilt)?;
        }
        for (k, v) in missing.into_iter().zip(rebuilt) {
            shards[k] = Some(v);
        }
        Ok(())
    }

    /// Rebuild only the missing shards listed in `want` from the present ones (borrowed:
    /// nothing is copied), into `out` (one buffer per wanted shard, resized to the shard
    /// length). Same failures as [`Codec::reconstruct`]; a wanted shard that is present is
    /// an error.
    pub fn rebuild(
        &self,
        shards: &[Option<&[u8]>],
        want: &[usize],
        out: &mut [Vec<u8>],
    ) -> Result<(), String> {
        let t = self.data + self.parity;
        if shards.len() != t || out.len() < want.len() {
            return Err(format!("{} shards given, the code has {t}", shards.len()));
        }
        let mut present = shards.iter().flatten();
        let len = present.next().map_or(0, |s| s.len());
        if len == 0 || present.any(|s| s.len() != len) {
            return Err("empty shards or shards of different lengths".into());
        }
        let missing: Vec<usize> = (0..t).filter(|&j| shards[j].is_none()).collect();
        if t - missing.len() < self.data {
            return Err(format!(
                "too few shards present: {} of {t}, {} needed",
                t - missing.len(),
                self.data
            ));
        }
        if want.iter().any(|j| !missing.contains(j)) {
            return Err("a shard to rebuild is present or out of range".into());
        }
        if want.is_empty() {
            return Ok(());
        }
        let decoder = self.decoder(&missing)?;
        let sources: Vec<&[u8]> = decoder
            .sources
            .iter()
            .map(|&j| shards[j].expect("a present shard"))
            .collect();
        for (&k, buf) in want.iter().zip(out.iter_mut()) {
            let coefs = &decoder
                .targets
                .iter()
                .find(|(j, _)| *j == k)
                .expect("every missing shard has coefficients")
                .1;
            buf.resize(len, 0);
            gf256::dot(self.kernel, coefs, &sources, buf);
        }
        Ok(())
    }

    /// Whether the parity shards agree with the data shards.
    pub fn verify(&self, shards: &[&[u8]]) -> bool {
        if shards.len() != self.data + self.parity {
            return false;
        }
        let len = shards[0].len();
        if shards.iter().any(|s| s.len() != len) {
            return false;
        }
        let mut out = vec![0u8; len];
        self.parity_coefs.iter().enumerate().all(|(i, coefs)| {
            gf256::dot(self.kernel, coefs, &shards[..self.data], &mut out);
            out == shards[self.data + i]
        })
    }

    /// The decoder of an erasure pattern (`missing`, ascending), cached.
    fn decoder(&self, missing: &[usize]) -> Result<Arc<Decoder>, String> {
        // A poisoned lock only means another thread panicked mid-insert: the map is whole.
        let mut cache = self.decoders.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(d) = cache.get(missing) {
            return Ok(d.clone());
        }
        let d = Arc::new(self.build_decoder(missing)?);
        if cache.len() >= DECODERS_KEPT {
            cache.clear();
        }
        cache.insert(missing.to_vec(), d.clone());
        Ok(d)
    }

    fn build_decoder(&self, missing: &[usize]) -> Result<Decoder, String> {
        let t = self.data + self.parity;
        let sources: Vec<usize> = (0..t)
            .filter(|j| !missing.contains(j))
            .take(self.data)
            .collect();
        // sub · data = the sources, so data = sub⁻¹ · sources, and any shard k (row k of
        // the encoding matrix) = row_k · sub⁻¹ · sources.
        let inv = self
            .matrix
            .select_rows(&sources)
            .invert()
            .ok_or("the decoding matrix is singular (cannot happen for this code)")?;
        let rows = self.matrix.select_rows(missing).multiply(&inv);
        let targets = missing
            .iter()
            .enumerate()
            .map(|(i, &k)| (k, rows.row(i).iter().map(|&c| Coef::new(c)).collect()))
            .collect();
        Ok(Decoder { sources, targets })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebuild_gives_the_wanted_shards_of_every_erasure_pattern() {
        let (m, p) = (5, 3);
        let codec = Codec::new(m, p).unwrap();
        let data: Vec<Vec<u8>> = (0..m)
            .map(|i| (0..61).map(|b| (i * 31 + b * 7 + 3) as u8).collect())
            .collect();
        let mut par = vec![vec![0u8; 61]; p];
        let refs: Vec<&[u8]> = data.iter().map(|d| &d[..]).collect();
        let mut outs: Vec<&mut [u8]> = par.iter_mut().map(|x| &mut x[..]).collect();
        codec.encode(&refs, &mut outs);
        let all: Vec<&[u8]> = data.iter().chain(&par).map(|v| &v[..]).collect();
        for mask in 0u32..1 << (m + p) {
            let missing: Vec<usize> = (0..m + p).filter(|&j| mask & (1 << j) != 0).collect();
            let shards: Vec<Option<&[u8]>> = (0..m + p)
                .map(|j| (mask & (1 << j) == 0).then_some(all[j]))
                .collect();
            // Every other missing shard wanted, in the order given.
            let want: Vec<usize> = missing.iter().copied().rev().step_by(2).collect();
            let mut out = vec![Vec::new(); want.len()];
            let r = codec.rebuild(&shards, &want, &mut out);
            if missing.len() > p {
                assert!(r.is_err(), "{missing:?}");
                continue;
            }
            r.unwrap();
            for (k, &j) in want.iter().enumerate() {
                assert_eq!(out[k], all[j], "shard {j} of {missing:?}");
            }
            if let Some(present) = (0..m + p).find(|j| !missing.contains(j)) {
                assert!(codec.rebuild(&shards, &[present], &mut out).is_err());
            }
        }
    }

    #[test]
    fn every_erasure_pattern_of_a_small_code_comes_back() {
        let (m, p) = (4, 3);
        let codec = Codec::new(m, p).unwrap();
        let data: Vec<Vec<u8>> = (0..m)
            .map(|i| (0..37).map(|b| (i * 59 + b * 13 + 1) as u8).collect())
            .collect();
        let mut par = vec![vec![0u8; 37]; p];
        let refs: Vec<&[u8]> = data.iter().map(|d| &d[..]).collect();
        let mut outs: Vec<&mut [u8]> = par.iter_mut().map(|x| &mut x[..]).collect();
        codec.encode(&refs, &mut outs);
        let all: Vec<Vec<u8>> = data.into_iter().chain(par).collect();
        let all_refs: Vec<&[u8]> = all.iter().map(|s| &s[..]).collect();
        assert!(codec.verify(&all_refs));
        for pattern in 0u32..(1 << (m + p)) {
            let lost = pattern.count_ones() as usize;
            let mut shards: Vec<Option<Vec<u8>>> = all
                .iter()
                .enumerate()
                .map(|(j, s)| (pattern & (1 << j) == 0).then(|| s.clone()))
                .collect();
            let r = codec.reconstruct(&mut shards);
            if lost > p {
                assert!(r.is_err(), "pattern {pattern:b}");
            } else {
                r.unwrap();
                let back: Vec<Vec<u8>> = shards.into_iter().map(Option::unwrap).collect();
                assert_eq!(back, all, "pattern {pattern:b}");
            }
        }
    }

    #[test]
    fn malformed_shard_sets_are_errors_not_panics() {
        let codec = Codec::new(2, 1).unwrap();
        assert!(codec.reconstruct(&mut [None, None]).is_err());
        assert!(
            codec
                .reconstruct(&mut [Some(vec![]), Some(vec![]), None])
                .is_err()
        );
        assert!(
            codec
                .reconstruct(&mut [Some(vec![1]), Some(vec![1, 2]), None])
                .is_err()
        );
        assert!(Codec::new(0, 1).is_err());
        assert!(Codec::new(1, 0).is_err());
        assert!(Codec::new(200, 57).is_err());
        assert!(Codec::new(255, 1).is_ok());
    }
}
