//! Settling a recovered file's verdict: its damaged byte ranges (overwritten, unreadable,
//! unverifiable — told apart), the SHA-256 of what was written, and the headline sentence.
//! Reads only the recovered output (and renames an incomplete one to `NAME (incomplete).ext`);
//! never touches the image.

use super::recover::{Loss, Verdict, Work};
use crate::engine::job::Error;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Ranges shown in a sentence; the rest is in the report.
const SHOWN: usize = 5;

/// Settle a file's verdict: damaged ranges, percentages, and the SHA-256 of what was written.
pub(super) fn finish(w: &mut Work, bs: u64, overwrite: bool) -> Result<(), Error> {
    let size = w.verdict.size;
    w.damaged_blocks.sort_unstable_by_key(|d| d.0);
    let ranges = |only: Option<Loss>| -> Vec<(u64, u64)> {
        let mut out: Vec<(u64, u64)> = Vec::new();
        for &(l, why) in &w.damaged_blocks {
            if only.is_some_and(|o| o != why) {
                continue;
            }
            let (s, e) = (l * bs, ((l + 1) * bs).min(size));
            match out.last_mut() {
                Some(last) if last.1 == s => last.1 = e,
                _ => out.push((s, e)),
            }
        }
        out
    };
    let all = ranges(None);
    let changed = ranges(Some(Loss::Changed));
    let unreadable = ranges(Some(Loss::Unreadable));
    let unknown = ranges(Some(Loss::Unknown));
    let damaged = total(&all);
    w.verdict.damaged = all;
    w.verdict.unreadable = unreadable.clone();
    if w.holes {
        w.verdict
            .reasons
            .push("Empty areas restored as zeros — not damage.".into());
    }
    let Some(path) = w.verdict.out_path.clone() else {
        return Ok(());
    };
    // Without a SHA-256 in the snapshot nothing can be called identical: skip reading back.
    let identical = match &w.sha256 {
        Some(want) => sha256_file(&path)? == *want,
        None => false,
    };
    w.verdict.verdict = if identical {
        Verdict::Identical
    } else if damaged >= size && size > 0 {
        Verdict::NotRecoverable
    } else {
        let pct = if size == 0 {
            0.0
        } else {
            (size - damaged) as f64 * 100.0 / size as f64
        };
        Verdict::Partial {
            percent_intact: (pct * 100.0).floor() / 100.0,
        }
    };
    let headline = match w.verdict.verdict {
        Verdict::Identical => "Fully recovered: identical to the snapshot (SHA-256 verified).".into(),
        Verdict::NotRecoverable => {
            std::fs::remove_file(&path).map_err(Error::write(&path))?;
            w.verdict.out_path = None;
            match (changed.is_empty(), unreadable.is_empty()) {
                (true, true) => "Not recoverable: no block of this file can be verified against the snapshot.".into(),
                (true, false) => {
                    "Not recoverable: no block of this file could be read (disk errors).".into()
                }
                (false, false) => "Not recoverable: every block of this file has changed since the snapshot or could not be read (disk errors).".into(),
                _ => "Not recoverable: every block of this file has changed since the snapshot."
                    .into(),
            }
        }
        Verdict::Partial { .. } if damaged == 0 => "Partly recovered: every block matched, yet the whole file does not; it may have been edited between block reads.".into(),
        Verdict::Partial { .. } => partly(size, &changed, &unreadable, &unknown),
    };
    w.verdict.reasons.insert(0, headline);
    // The headline of a partial file already says it; otherwise (found elsewhere, or
    // nothing left) say that the disk failed to read.
    let partial = matches!(w.verdict.verdict, Verdict::Partial { .. });
    if partial {
        w.verdict.out_path = Some(mark_incomplete(&path, &w.verdict.path, overwrite)?);
    }
    if w.verdict.unreadable_bytes > 0 && !partial {
        w.verdict.reasons.push(format!(
            "{} KB could not be read (disk errors).",
            w.verdict.unreadable_bytes.div_ceil(1024)
        ));
    }
    Ok(())
}

/// "Partly recovered: 3 % of this file was overwritten (bytes …); 4 KB could not be read
/// (disk errors) (bytes …); the rest is intact." — each kind of loss with its own ranges.
pub(super) fn partly(
    size: u64,
    changed: &[(u64, u64)],
    unreadable: &[(u64, u64)],
    unknown: &[(u64, u64)],
) -> String {
    let mut parts = Vec::new();
    if !changed.is_empty() {
        let pct = total(changed) as f64 * 100.0 / size.max(1) as f64;
        parts.push(format!(
            "{pct:.0} % of this file was overwritten (bytes {})",
            list(changed)
        ));
    }
    if !unreadable.is_empty() {
        parts.push(format!(
            "{} KB could not be read (disk errors) (bytes {})",
            total(unreadable).div_ceil(1024),
            list(unreadable)
        ));
    }
    if !unknown.is_empty() {
        parts.push(format!(
            "{} KB could not be verified (bytes {})",
            total(unknown).div_ceil(1024),
            list(unknown)
        ));
    }
    format!(
        "Partly recovered: {}; the rest is intact.",
        parts.join("; ")
    )
}

/// Rename an incomplete output to `NAME (incomplete).ext` (NAME: the snapshot's file name),
/// so nobody takes it for the whole file; without `overwrite` the next free name is taken.
fn mark_incomplete(out: &Path, snapshot_path: &[u8], overwrite: bool) -> Result<PathBuf, Error> {
    let leaf = snapshot_path
        .rsplit(|&b| b == b'/')
        .find(|c| !c.is_empty())
        .unwrap_or(b"file");
    let Some(whole) = super::outpath::target_for(Path::new("/"), leaf)
        .and_then(|t| t.file_name().map(|n| out.with_file_name(n)))
    else {
        return Ok(out.to_path_buf());
    };
    // The one rule every output follows (and cut to the file system's name limit).
    let wanted = crate::engine::output::incomplete_name(&whole);
    let to = if overwrite {
        wanted
    } else {
        crate::engine::output::unique_path(&wanted)
    };
    std::fs::rename(out, &to).map_err(Error::write(&to))?;
    Ok(to)
}

fn total(ranges: &[(u64, u64)]) -> u64 {
    ranges.iter().map(|(s, e)| e - s).sum()
}

/// `a–b, c–d, …` with inclusive ends.
fn list(ranges: &[(u64, u64)]) -> String {
    let mut shown: Vec<String> = ranges
        .iter()
        .take(SHOWN)
        .map(|(s, e)| format!("{s}–{}", e - 1))
        .collect();
    if ranges.len() > SHOWN {
        shown.push("…".into());
    }
    shown.join(", ")
}

fn sha256_file(path: &Path) -> Result<Vec<u8>, Error> {
    let mut f = File::open(path).map_err(Error::read(path))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(Error::read(path))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().to_vec())
}

#[cfg(test)]
mod tests {
    use super::partly;

    #[test]
    fn overwritten_and_unreadable_bytes_are_told_apart() {
        let size = 409_600;
        assert_eq!(
            partly(size, &[], &[(8192, 12288)], &[]),
            "Partly recovered: 4 KB could not be read (disk errors) (bytes 8192–12287); the rest is intact."
        );
        assert_eq!(
            partly(size, &[(0, 4096)], &[(8192, 12288), (20480, 24576)], &[]),
            "Partly recovered: 1 % of this file was overwritten (bytes 0–4095); 8 KB could not be read (disk errors) (bytes 8192–12287, 20480–24575); the rest is intact."
        );
        assert_eq!(
            partly(size, &[(0, 8192)], &[], &[(16384, 20480)]),
            "Partly recovered: 2 % of this file was overwritten (bytes 0–8191); 4 KB could not be verified (bytes 16384–20479); the rest is intact."
        );
    }
}
