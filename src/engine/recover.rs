//! Rebuild every container a scan found, from the catalogue: for each sequence number pick a
//! valid copy across all sources (the majority when copies disagree, reported), fill gaps
//! with Reed–Solomon, verify the stored hash, and write the file atomically into the output
//! folder under a safe, unique name. Sources are opened read-only.

use super::assemble::{Assembly, HashCheck, MissingRange, assemble_fetched};
use super::catalog::{Catalog, Copy};
use super::geometry::{self, KEEP_PAYLOADS_UP_TO, Sample};
use super::io::read_full;
use super::job::{CancelFlag, Error, ProgressFn, Stage};
use super::output::{AtomicFile, safe_file_name, unique_path};
use crate::format::block::{self, BlockState, Uid, uid_hex};
use crate::format::rs::Layout;
use crate::format::{Metadata, Version, password};
use serde::Serialize;
use std::collections::HashMap;
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::PathBuf;

/// Which containers to recover.
#[derive(Clone, Debug)]
pub enum Selection {
    All,
    Uids(Vec<Uid>),
    /// Glob patterns over the stored file name (or container name).
    Names(Vec<String>),
}

#[derive(Clone, Debug)]
pub struct RecoverOpts {
    pub catalog: PathBuf,
    pub out_dir: PathBuf,
    pub select: Selection,
    /// Also write containers that cannot be completed, with their holes zero-filled.
    pub partial: bool,
    /// Password of the SeqBox v1–3 containers scanned with one.
    pub password: Option<String>,
}

#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RecoverStatus {
    /// Every block found and the hash verified (or no hash stored).
    Complete,
    /// Complete after Reed–Solomon rebuilt missing blocks; hash verified.
    Repaired,
    /// Data is missing; the missing byte ranges are listed.
    Partial,
    /// Nothing usable: the reason says why.
    Unrecoverable,
}

/// Sequence number whose valid copies disagreed.
#[derive(Clone, Debug, Serialize)]
pub struct Conflict {
    pub seq: u32,
    pub copies: usize,
    /// Copies that agreed with the one used.
    pub agreeing: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct ContainerResult {
    pub uid: String,
    pub version: Version,
    pub file_name: Option<String>,
    pub file_size: Option<u64>,
    pub status: RecoverStatus,
    /// Why it is not complete, in plain words.
    pub reason: Option<String>,
    /// The file written, if any (partial files only when asked).
    pub output: Option<PathBuf>,
    /// Bytes of the original file that no block gives back.
    pub missing_bytes: u64,
    pub missing: Vec<MissingRange>,
    /// The hash is verified (a stored hash matched).
    pub verified: bool,
    pub conflicts: Vec<Conflict>,
    /// Metadata copies disagreed; the most common was used.
    pub metadata_conflict: bool,
    pub notes: Vec<String>,
    pub assembly: Assembly,
}

#[derive(Clone, Debug, Serialize)]
pub struct RecoverReport {
    pub catalog: PathBuf,
    pub out_dir: PathBuf,
    pub results: Vec<ContainerResult>,
}

impl RecoverReport {
    /// Every selected container came back complete and verified.
    pub fn success(&self) -> bool {
        !self.results.is_empty()
            && self.results.iter().all(|r| {
                matches!(r.status, RecoverStatus::Complete | RecoverStatus::Repaired) && r.verified
            })
    }
}

/// Bytes read ahead around a block, so containers laid out in order read sequentially.
const READ_AHEAD: usize = 1 << 20;

/// Read-only handles on the sources, each with a read-ahead window.
struct Sources {
    files: HashMap<i64, (File, u64, Vec<u8>)>,
    paths: HashMap<i64, PathBuf>,
}

impl Sources {
    /// The payload of copy `c` if it still holds a valid block of (`uid`, `version`).
    fn payload(
        &mut self,
        c: &Copy,
        uid: Uid,
        version: Version,
        keystream: Option<&[u8]>,
    ) -> Result<Option<Vec<u8>>, Error> {
        let bs = version.block_size();
        let Some(raw) = self.block(c.source_id, c.offset, bs)? else {
            return Ok(None);
        };
        let mut owned;
        let bytes: &[u8] = match (c.password, keystream) {
            (true, Some(ks)) => {
                owned = raw.to_vec();
                password::apply(&mut owned, ks);
                &owned
            }
            _ => raw,
        };
        Ok(match block::classify(bytes) {
            BlockState::Valid(h) if h.uid == uid && h.version == version && h.seq == c.seq => {
                Some(bytes[16..].to_vec())
            }
            _ => None,
        })
    }

    fn block(&mut self, source: i64, offset: u64, len: usize) -> Result<Option<&[u8]>, Error> {
        let path = self.paths.get(&source).cloned().unwrap_or_default();
        if let std::collections::hash_map::Entry::Vacant(slot) = self.files.entry(source) {
            let f = File::open(&path).map_err(Error::read(&path))?;
            slot.insert((f, 0, Vec::new()));
        }
        let (f, start, buf) = self.files.get_mut(&source).expect("just opened");
        let end = offset + len as u64;
        if offset < *start || end > *start + buf.len() as u64 {
            buf.resize(READ_AHEAD.max(len), 0);
            f.seek(SeekFrom::Start(offset))
                .map_err(Error::read(&path))?;
            let n = read_full(f, buf).map_err(Error::read(&path))?;
            buf.truncate(n);
            *start = offset;
        }
        let from = (offset - *start) as usize;
        Ok(buf.get(from..from + len))
    }
}

pub fn run(
    opts: &RecoverOpts,
    cancel: &CancelFlag,
    progress: ProgressFn<'_>,
) -> Result<RecoverReport, Error> {
    let catalog = Catalog::open_existing(&opts.catalog)?;
    std::fs::create_dir_all(&opts.out_dir).map_err(Error::write(&opts.out_dir))?;
    let mut sources = Sources {
        files: HashMap::new(),
        paths: catalog
            .sources()?
            .into_iter()
            .map(|s| (s.id, s.path))
            .collect(),
    };
    let patterns: Vec<glob::Pattern> = match &opts.select {
        Selection::Names(n) => n
            .iter()
            .map(|p| {
                glob::Pattern::new(p).map_err(|e| Error::Invalid(format!("pattern {p:?}: {e}")))
            })
            .collect::<Result<_, _>>()?,
        _ => Vec::new(),
    };
    let mut results = Vec::new();
    for row in catalog.containers()? {
        cancel.check()?;
        let uid = crate::format::block::parse_uid(&row.uid).map_err(Error::Invalid)?;
        let chosen = match &opts.select {
            Selection::All => true,
            Selection::Uids(u) => u.contains(&uid),
            Selection::Names(_) => [&row.file_name, &row.sbx_name]
                .into_iter()
                .flatten()
                .any(|n| patterns.iter().any(|p| p.matches(n))),
        };
        if chosen {
            results.push(recover_one(
                &catalog,
                &mut sources,
                uid,
                row.version,
                opts,
                cancel,
                progress,
            )?);
        }
    }
    if let Selection::Uids(u) = &opts.select {
        for want in u {
            if !results.iter().any(|r| r.uid == uid_hex(want)) {
                return Err(Error::Invalid(format!(
                    "no container with UID {} in the catalogue",
                    uid_hex(want)
                )));
            }
        }
    }
    Ok(RecoverReport {
        catalog: opts.catalog.clone(),
        out_dir: opts.out_dir.clone(),
        results,
    })
}

fn recover_one(
    catalog: &Catalog,
    sources: &mut Sources,
    uid: Uid,
    version: Version,
    opts: &RecoverOpts,
    cancel: &CancelFlag,
    progress: ProgressFn<'_>,
) -> Result<ContainerResult, Error> {
    let bs = version.block_size();
    let keystream = opts
        .password
        .as_deref()
        .map(|p| password::keystream(p.as_bytes(), bs));
    let metas = catalog.metadata_of(uid, version)?;
    let meta = metas.first().map(|(_, p)| Metadata::parse(p));
    let copies = catalog.copies_of(uid, version)?;
    let mut notes = Vec::new();
    if copies.iter().any(|c| c.password) && keystream.is_none() {
        return Err(Error::Invalid(format!(
            "container {} was scanned with a password: give the same password to recover it",
            uid_hex(&uid)
        )));
    }
    // Read one copy: the plain payload if it is still a valid block of this container.
    let ks = keystream.as_deref();
    let read = |sources: &mut Sources, c: &Copy| sources.payload(c, uid, version, ks);

    let layout = match (version.uses_rs(), &meta) {
        (false, _) => Layout::plain(version, true),
        (
            true,
            Some(Metadata {
                rs_data: Some(d),
                rs_parity: Some(p),
                ..
            }),
        ) => Layout::rs(version, usize::from(*d), usize::from(*p), 0).map_err(Error::Invalid)?,
        (true, _) => {
            let mut sample = Sample::default();
            for c in copies.iter().filter(|c| c.seq <= KEEP_PAYLOADS_UP_TO) {
                if !sample.payloads.contains_key(&c.seq)
                    && let Some(p) = read(sources, c)?
                {
                    sample.payloads.insert(c.seq, p);
                }
            }
            match geometry::infer_shards(&sample) {
                Some((d, p)) => {
                    notes.push(format!(
                        "no metadata: Reed–Solomon settings {d} + {p} inferred from the parity"
                    ));
                    Layout::rs(version, d, p, 0).map_err(Error::Invalid)?
                }
                None => {
                    return Ok(unrecoverable(
                        uid,
                        version,
                        None,
                        notes,
                        "no metadata block, and the Reed–Solomon settings cannot be worked out from the blocks found",
                    ));
                }
            }
        }
    };
    let meta = meta.unwrap_or_default();
    if metas.is_empty() {
        notes.push("no metadata block found: name, size and hash are unavailable".into());
    }
    if meta.file_size.is_some_and(|n| !layout.holds(n)) {
        // This container only: assembling would refuse it, and the others still come back.
        let reason = "its metadata gives a file size no container of its version and settings can hold: the metadata is damaged";
        return Ok(unrecoverable(uid, version, Some(&meta), notes, reason));
    }
    if copies.is_empty() {
        let reason = if meta.file_size == Some(0) {
            None
        } else {
            Some("no data block found")
        };
        if let Some(r) = reason {
            return Ok(unrecoverable(uid, version, Some(&meta), notes, r));
        }
    }

    // Pick, for each sequence number, the payload most valid copies agree on.
    let mut conflicts = Vec::new();
    let mut cursor = 0;
    let copies_ref = &copies;
    let mut fetch = |seq: u32| -> Result<Option<Vec<u8>>, Error> {
        while cursor < copies_ref.len() && copies_ref[cursor].seq < seq {
            cursor += 1;
        }
        let mut candidates: Vec<(Vec<u8>, usize)> = Vec::new();
        while cursor < copies_ref.len() && copies_ref[cursor].seq == seq {
            if let Some(p) = read(sources, &copies_ref[cursor])? {
                match candidates.iter_mut().find(|(q, _)| *q == p) {
                    Some((_, n)) => *n += 1,
                    None => candidates.push((p, 1)),
                }
            }
            cursor += 1;
        }
        let copies: usize = candidates.iter().map(|c| c.1).sum();
        // Stable: on a tie the first copy found wins.
        let best = candidates
            .iter()
            .enumerate()
            .max_by_key(|(i, c)| (c.1, std::cmp::Reverse(*i)))
            .map(|(i, _)| i);
        if candidates.len() > 1 && conflicts.len() < 1000 {
            conflicts.push(Conflict {
                seq,
                copies,
                agreeing: candidates[best.expect("some")].1,
            });
        }
        Ok(best.map(|i| candidates.swap_remove(i).0))
    };

    let name = meta
        .file_name
        .as_deref()
        .and_then(safe_file_name)
        .or_else(|| {
            meta.sbx_name
                .as_deref()
                .and_then(safe_file_name)
                .map(|n| format!("{n}.out"))
        })
        .unwrap_or_else(|| format!("{}.bin", uid_hex(&uid)));
    let target = unique_path(&opts.out_dir.join(&name));
    let mut out = AtomicFile::create(&target, false)?;
    let max_seq = copies.last().map(|c| c.seq);
    let next_known = |s: u32| {
        let i = copies_ref.partition_point(|c| c.seq < s);
        copies_ref.get(i).map(|c| c.seq)
    };
    let assembly = {
        let f = out.file();
        assemble_fetched(
            layout,
            &meta,
            max_seq,
            opts.partial,
            &mut fetch,
            &next_known,
            Some((f, &target)),
            Stage::Recovering,
            cancel,
            progress,
        )?
    };
    let verified = assembly.hash_ok();
    let missing_bytes: u64 = assembly
        .missing
        .iter()
        .map(|m| m.byte_end - m.byte_start)
        .sum();
    let (status, reason) = if assembly.complete() {
        match &assembly.hash {
            HashCheck::Mismatch { .. } => (
                RecoverStatus::Unrecoverable,
                Some("every block was found, but the data does not match the stored hash (copies of two different files share this UID?)".to_string()),
            ),
            HashCheck::NotStored | HashCheck::UnknownKind { .. } => {
                notes.push("no hash to verify against: complete by block checksums only".into());
                (RecoverStatus::Complete, None)
            }
            _ if assembly.repaired_sets > 0 => (RecoverStatus::Repaired, None),
            _ => (RecoverStatus::Complete, None),
        }
    } else if assembly.valid_data_blocks == 0 {
        (
            RecoverStatus::Unrecoverable,
            Some("no block of the file's data was found".to_string()),
        )
    } else {
        (
            RecoverStatus::Partial,
            Some(format!(
                "{} data block(s) missing: {missing_bytes} bytes of the file cannot be recovered",
                assembly.missing_blocks
            )),
        )
    };
    let keep = match status {
        RecoverStatus::Complete | RecoverStatus::Repaired => true,
        RecoverStatus::Partial => opts.partial,
        RecoverStatus::Unrecoverable => false,
    };
    let output = if keep {
        if status == RecoverStatus::Partial
            && let Some(n) = meta.file_size
        {
            // Holes at the end read as zeros too.
            let f = out.file();
            if f.metadata().map(|m| m.len() < n).unwrap_or(false) {
                f.set_len(n).map_err(Error::write(&target))?;
            }
        }
        Some(out.commit(false)?)
    } else {
        None
    };
    Ok(ContainerResult {
        uid: uid_hex(&uid),
        version,
        file_name: meta.file_name.clone(),
        file_size: meta.file_size,
        status,
        reason,
        output,
        missing_bytes,
        missing: assembly.missing.clone(),
        verified,
        conflicts,
        metadata_conflict: metas.len() > 1,
        notes,
        assembly,
    })
}

fn unrecoverable(
    uid: Uid,
    version: Version,
    meta: Option<&Metadata>,
    notes: Vec<String>,
    reason: &str,
) -> ContainerResult {
    ContainerResult {
        uid: uid_hex(&uid),
        version,
        file_name: meta.and_then(|m| m.file_name.clone()),
        file_size: meta.and_then(|m| m.file_size),
        status: RecoverStatus::Unrecoverable,
        reason: Some(reason.to_string()),
        output: None,
        missing_bytes: meta.and_then(|m| m.file_size).unwrap_or(0),
        missing: Vec::new(),
        verified: false,
        conflicts: Vec::new(),
        metadata_conflict: false,
        notes,
        assembly: Assembly::default(),
    }
}
