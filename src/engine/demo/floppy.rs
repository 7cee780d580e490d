//! Laying the demo's files out on its floppy as they would end up on a disk in use: in
//! pieces, between files that were already there. In memory only.

use super::Original;
use crate::engine::Error;
use crate::engine::fat::{Floppy, SECTOR, SplitMix};
use std::collections::HashSet;

/// At most this many pairs of pad files (one deleted, one kept) make the gaps.
const MAX_PADS: usize = 80;

/// The floppy with the files on it.
pub(super) struct Laid {
    pub disk: Floppy,
    /// Pieces each file and its SBX copy are stored in.
    pub fragments: Vec<(usize, usize)>,
    /// Pad files left on the disk (the "other files").
    pub kept: usize,
}

/// Put the originals and their SBX copies on a floppy the way they would end up on a disk
/// in use: pad files fill the start of the disk, every other one is deleted, and the new
/// files go first-fit into the gaps, so they are stored in pieces.
pub(super) fn lay_out(originals: &[Original], seed: u64) -> Result<Laid, Error> {
    let mut rng = SplitMix(seed ^ 0xF1_0FF7_0000_0000);
    let mut disk = Floppy::new("SBXDEMO", rng.next() as u32);
    let clusters = |n: usize| n.div_ceil(SECTOR);
    let needed: usize = originals
        .iter()
        .map(|o| clusters(o.data.len()) + clusters(o.sbx.len()))
        .sum();
    let free = disk.free_bytes() as usize / SECTOR;
    // Clusters the kept pads may take, so the files still fit after them.
    let mut spare = free.saturating_sub(needed);
    // Gaps of about `gap` clusters (at least 4 KiB), enough of them to hold every file.
    let gap = needed.div_ceil(MAX_PADS).max(8);
    let fail = |e: String| Error::Invalid(format!("building the floppy: {e}"));
    let (mut gaps, mut used, mut kept) = (0, 0, 0);
    while gaps < needed && kept < MAX_PADS {
        let k = (1 + rng.below(8)).min(spare);
        if k == 0 {
            break;
        }
        // Never more than the disk holds: used + k stays below `free` while gaps < needed.
        let g = (gap / 2 + rng.below(gap + 1)).min(free - used - k);
        disk.add_file(&format!("TMP{kept:05}.TMP"), &noise(&mut rng, g * SECTOR))
            .map_err(fail)?;
        disk.add_file(&format!("DATA{kept:04}.BIN"), &noise(&mut rng, k * SECTOR))
            .map_err(fail)?;
        (gaps, used, spare, kept) = (gaps + g, used + g + k, spare - k, kept + 1);
    }
    for i in 0..kept {
        disk.delete_file(&format!("TMP{i:05}.TMP")).map_err(fail)?;
    }
    let mut names: HashSet<String> = disk.list().into_iter().collect();
    let mut fragments = Vec::new();
    for o in originals {
        let name = short_name(&o.name, None, &mut names);
        let sbx = short_name(&o.name, Some("SBX"), &mut names);
        let a = disk.add_file(&name, &o.data).map_err(fail)?;
        let b = disk.add_file(&sbx, &o.sbx).map_err(fail)?;
        fragments.push((a.len(), b.len()));
    }
    Ok(Laid {
        disk,
        fragments,
        kept,
    })
}

fn noise(rng: &mut SplitMix, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&rng.next().to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A DOS 8.3 name for `name` (with extension `ext` instead of its own when given), not yet
/// in `used`: unusual characters become `_`, long parts are cut, clashes end in `~1`, `~2`…
fn short_name(name: &str, ext: Option<&str>, used: &mut HashSet<String>) -> String {
    let clean = |s: &str, max: usize| -> String {
        s.chars()
            .filter(|c| !matches!(c, ' ' | '.'))
            .map(|c| match c.to_ascii_uppercase() {
                c @ ('A'..='Z' | '0'..='9' | '-' | '_') => c,
                _ => '_',
            })
            .take(max)
            .collect()
    };
    let (stem, own_ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i + 1..]),
        _ => (name, ""),
    };
    let mut stem = clean(stem, 8);
    if stem.is_empty() {
        stem = "FILE".into();
    }
    let ext = clean(ext.unwrap_or(own_ext), 3);
    let join = |s: &str| {
        if ext.is_empty() {
            s.to_string()
        } else {
            format!("{s}.{ext}")
        }
    };
    let mut candidate = join(&stem);
    let mut n = 0;
    while used.contains(&candidate) {
        n += 1;
        let tail = format!("~{n}");
        let keep: String = stem.chars().take(8 - tail.len()).collect();
        candidate = join(&format!("{keep}{tail}"));
    }
    used.insert(candidate.clone());
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_valid_8_3_and_unique() {
        let mut used = HashSet::from(["DATA0001.BIN".to_string()]);
        let mut name = |n: &str, ext| short_name(n, ext, &mut used);
        assert_eq!(name("picture.bmp", None), "PICTURE.BMP");
        assert_eq!(name("picture.bmp", Some("SBX")), "PICTURE.SBX");
        assert_eq!(name("picture.png", Some("SBX")), "PICTUR~1.SBX");
        assert_eq!(name("picture.jpeg", Some("SBX")), "PICTUR~2.SBX");
        assert_eq!(name("data0001.bin", None), "DATA00~1.BIN");
        assert_eq!(name("Grüße 日本.txt", None), "GR__E__.TXT");
        assert_eq!(name("a very long name.tar.gz", None), "AVERYLON.GZ");
        assert_eq!(name(".profile", None), "PROFILE");
        assert_eq!(name("日本", None), "__");
        assert_eq!(name("...", None), "FILE");
        // The floppy takes every one of them.
        let mut disk = Floppy::new("T", 1);
        for n in &used {
            disk.add_file(n, b"x")
                .unwrap_or_else(|e| panic!("{n}: {e}"));
        }
    }
}
