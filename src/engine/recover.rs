//! Rebuild every container a scan found, from the catalogue: for each sequence number pick a
//! valid copy across all sources (the majority when copies disagree, reported), fill gaps
//! with Reed–Solomon, verify the stored hash, and write the file atomically into the output
//! folder under a safe, unique name. Sources are opened read-only.

use super::assemble::{Assembly, HashCheck, MissingRange, assemble_fetched};
use super::catalog::{Catalog, Copy};
use super::geometry::{self, KEEP_PAYLOADS_UP_TO, Sample};
use super::job::{CancelFlag, Error, ProgressFn, Stage};
use super::output::{AtomicFile, fit_name, incomplete_name, safe_file_name};
use super::seqset::SeqSet;
use super::sources::{OpenFn, SlotBefore, SourceRange, Sources, open_file};
use crate::format::block::{Uid, uid_hex};
use crate::format::rs::Layout;
use crate::format::{Metadata, Version, password};
use serde::Serialize;
use std::collections::HashMap;
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
    /// Its blocks were stored with a password that was not given: nothing was read.
    NeedsPassword,
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
    /// The container had metadata and none survives, so its size and hash are unknown
    /// (versions 17–19 always carry it; for 1–3 no metadata means it was made without).
    pub metadata_lost: bool,
    pub notes: Vec<String>,
    /// Bytes of the sources that could not be read (I/O errors) where blocks of this
    /// container lie that no copy gave back (Reed–Solomon may still have rebuilt them).
    pub unreadable_bytes: u64,
    /// Where: source and byte range (the first 1000 listed).
    pub unreadable: Vec<SourceRange>,
    pub assembly: Assembly,
}

#[derive(Clone, Debug, Serialize)]
pub struct RecoverReport {
    pub catalog: PathBuf,
    pub out_dir: PathBuf,
    pub results: Vec<ContainerResult>,
}

impl RecoverReport {
    /// The verdict of every selected container (see `words::recovered`).
    pub fn verdicts(&self) -> Vec<super::words::Verdict> {
        self.results
            .iter()
            .map(|r| super::words::recovered(r).verdict)
            .collect()
    }

    /// Every selected container came back safe: what exit code 0 means.
    pub fn success(&self) -> bool {
        super::words::all_safe(&self.verdicts())
    }
}

pub fn run(
    opts: &RecoverOpts,
    cancel: &CancelFlag,
    progress: ProgressFn<'_>,
) -> Result<RecoverReport, Error> {
    run_with(opts, &open_file, cancel, progress)
}

/// [`run`], opening the sources with `open` (tests put a failing disk here).
pub fn run_with(
    opts: &RecoverOpts,
    open: &OpenFn,
    cancel: &CancelFlag,
    progress: ProgressFn<'_>,
) -> Result<RecoverReport, Error> {
    let catalog = Catalog::open_existing(&opts.catalog)?;
    std::fs::create_dir_all(&opts.out_dir).map_err(Error::write(&opts.out_dir))?;
    let mut sources = Sources::new(&catalog, open)?;
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
        // Skip it, say why, and go on with the others.
        let mut r = unrecoverable(
            uid,
            version,
            meta.as_ref(),
            notes,
            "its blocks were stored with a password; recover again with that password",
        );
        r.status = RecoverStatus::NeedsPassword;
        r.missing_bytes = 0;
        return Ok(r);
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
    let metadata_lost = metas.is_empty() && metadata_lost(sources, version, &copies)?;
    if metas.is_empty() {
        notes.push(if metadata_lost {
            "no metadata block found, and the slot before block 1 is erased, unreadable or damaged: the metadata is lost, so name, size and hash are unknown".into()
        } else {
            "no metadata block found: it was made without one (or lost it where other data now lies); name, size and hash are unavailable".into()
        });
    }
    if meta.file_size.is_some_and(|n| !layout.holds(n)) {
        // This container only: assembling would refuse it, and the others still come back.
        let reason = "its metadata gives a file size no container of its version and settings can hold: the metadata is damaged";
        return Ok(unrecoverable(uid, version, Some(&meta), notes, reason));
    }
    if metas.len() > 1 {
        let others: Vec<String> = metas[1..]
            .iter()
            .map(|(_, p)| {
                let m = Metadata::parse(p);
                format!(
                    "{} bytes, encoded {}",
                    m.file_size.map_or("?".into(), |n| n.to_string()),
                    m.sbx_time
                        .map_or("at an unknown time".into(), super::info::iso_utc)
                )
            })
            .collect();
        notes.push(format!(
            "{} other encoding(s) of this file share its UID ({}); the newest{} was recovered, from the blocks lying where its metadata puts them",
            others.len(),
            others.join("; "),
            meta.sbx_time
                .map(|t| format!(", encoded {},", super::info::iso_utc(t)))
                .unwrap_or_default()
        ));
    }
    // With a known size, a container whose data blocks are all lost still goes through the
    // assembly: it lists the whole file as missing (and an empty file is complete).
    if copies.is_empty() && meta.file_size.is_none() {
        return Ok(unrecoverable(
            uid,
            version,
            Some(&meta),
            notes,
            "no data block found",
        ));
    }

    // Pick, for each sequence number, one payload: a copy lying where the chosen metadata
    // puts it beats a stray one (an older encoding with the same UID), then the payload most
    // valid copies agree on, then the first found.
    let anchors = anchors(catalog, uid, version, &metas, layout, &meta)?;
    sources.new_container();
    let mut came_back = SeqSet::new();
    let mut conflicts = Vec::new();
    let mut cursor = 0;
    let copies_ref = &copies;
    let mut fetch = |seq: u32| -> Result<Option<Vec<u8>>, Error> {
        while cursor < copies_ref.len() && copies_ref[cursor].seq < seq {
            cursor += 1;
        }
        // (payload, copies agreeing, one of them anchored)
        let mut candidates: Vec<(Vec<u8>, usize, bool)> = Vec::new();
        while cursor < copies_ref.len() && copies_ref[cursor].seq == seq {
            let c = &copies_ref[cursor];
            if let Some(p) = read(sources, c)? {
                let anchored = anchors.holds(c);
                match candidates.iter_mut().find(|(q, ..)| *q == p) {
                    Some((_, n, a)) => {
                        *n += 1;
                        *a |= anchored;
                    }
                    None => candidates.push((p, 1, anchored)),
                }
            }
            cursor += 1;
        }
        let copies: usize = candidates.iter().map(|c| c.1).sum();
        let best = candidates
            .iter()
            .enumerate()
            .max_by_key(|(i, c)| (c.2, c.1, std::cmp::Reverse(*i)))
            .map(|(i, _)| i);
        if candidates.len() > 1 && conflicts.len() < 1000 {
            conflicts.push(Conflict {
                seq,
                copies,
                agreeing: candidates[best.expect("some")].1,
            });
        }
        if best.is_some() {
            came_back.insert(seq);
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
    let (name, name_note) = fit_name(&opts.out_dir, &name);
    notes.extend(name_note);
    // Another recovery into the same folder may take this name before the commit; the
    // commit then takes the next free one.
    let mut out = AtomicFile::create_unique(&opts.out_dir.join(&name))?;
    let target = out.target().to_path_buf();
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
    let (unreadable_bytes, unreadable) = sources.unreadable(
        catalog,
        layout,
        &meta,
        &copies,
        &came_back,
        metas.is_empty(),
    )?;
    if unreadable_bytes > 0 {
        notes.push(format!(
            "{unreadable_bytes} byte(s) of the source(s) could not be read (disk errors) where blocks of this container lie"
        ));
    }
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
        RecoverStatus::Unrecoverable | RecoverStatus::NeedsPassword => false,
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
        if status == RecoverStatus::Partial {
            // Nobody should take it for the whole file.
            out.retarget(&incomplete_name(&opts.out_dir.join(&name)), true);
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
        metadata_lost,
        notes,
        unreadable_bytes,
        unreadable,
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
        metadata_lost: meta.is_none() && version.uses_rs(),
        notes,
        unreadable_bytes: 0,
        unreadable: Vec::new(),
        assembly: Assembly::default(),
    }
}

/// Where the chosen metadata says the container lies, per source: the start of its slot grid
/// for each copy of that metadata found. A block copy at its own slot from such a start is
/// "anchored": it belongs to this encoding, not to an older one with the same UID.
struct Anchors {
    layout: Option<Layout>,
    starts: HashMap<i64, Vec<u64>>,
}

impl Anchors {
    fn holds(&self, c: &Copy) -> bool {
        let Some(layout) = self.layout else {
            return false;
        };
        let bs = layout.version.block_size() as u64;
        self.starts.get(&c.source_id).is_some_and(|starts| {
            starts
                .iter()
                // Offsets and sequence numbers come from the catalogue: never trusted to fit.
                .any(|s| {
                    layout
                        .slot_of(c.seq)
                        .checked_mul(bs)
                        .and_then(|o| o.checked_add(*s))
                        == Some(c.offset)
                })
        })
    }
}

fn anchors(
    catalog: &Catalog,
    uid: Uid,
    version: Version,
    metas: &[(u64, Vec<u8>)],
    layout: Layout,
    meta: &Metadata,
) -> Result<Anchors, Error> {
    let mut starts: HashMap<i64, Vec<u64>> = HashMap::new();
    // The burst level places RS blocks; blkar stores none, and then no copy is anchored.
    let layout = match (layout.is_rs(), meta.burst) {
        (false, _) => Some(layout),
        (true, Some(b)) => Some(Layout { burst: b, ..layout }),
        (true, None) => None,
    };
    if let (Some(l), Some((_, payload))) = (layout, metas.first()) {
        let bs = l.version.block_size() as u64;
        for (src, off) in catalog.metadata_places(uid, version, payload)? {
            let e = starts.entry(src).or_default();
            for k in l.meta_slots() {
                if let Some(s) = k.checked_mul(bs).and_then(|o| off.checked_sub(o)) {
                    e.push(s);
                }
            }
        }
    }
    Ok(Anchors { layout, starts })
}

/// Whether a container with no metadata block found had one: versions 17–19 always do; for
/// 1–3 the evidence is the slot before a copy of block 1 — erased, unreadable or a damaged
/// block where block 0 would be. Other data there (or no room at all) is what a container
/// made without metadata (`--no-meta`) looks like.
fn metadata_lost(sources: &mut Sources, version: Version, copies: &[Copy]) -> Result<bool, Error> {
    if version.uses_rs() {
        return Ok(true);
    }
    for c in copies.iter().filter(|c| c.seq == 1).take(16) {
        match sources.slot_before(c, version.block_size())? {
            SlotBefore::Zero | SlotBefore::Unreadable | SlotBefore::DamagedBlock => {
                return Ok(true);
            }
            SlotBefore::NoRoom | SlotBefore::Other => {}
        }
    }
    Ok(false)
}
