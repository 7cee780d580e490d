//! Taking a snapshot of any [`Volume`]: walk the file system, record every regular file's
//! paths, inode (or directory entry, or MFT record) and extents, and (unless map-only) a 16-byte BLAKE3 digest per block of the file's own bytes
//! plus its whole-file SHA-256. A later snapshot of the same file system into the same
//! database re-reads only files whose size, times, generation or extents changed. Reads the
//! image only; writes only the database (one transaction per batch of files, so a cancelled
//! snapshot leaves no half snapshot behind: the row is removed).

use super::ext4::Kind;
use super::store::{DIGEST_LEN, ExtentRow, Snapshots};
use super::{Extent, ExtentKind, FileRec, Problem, Volume};
use crate::engine::job::{CancelFlag, Error, Progress, ProgressFn, Stage, Throttle};
use rayon::prelude::*;
use rusqlite::params;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Clone, Debug, Default)]
pub struct CreateOpts {
    /// Image file or device (opened read-only).
    pub image: PathBuf,
    /// Byte offset of the file system; `None`: at 0 or the one partition holding a file
    /// system we read.
    pub offset: Option<u64>,
    /// The snapshot database (created if missing; a new snapshot is added otherwise).
    pub out: PathBuf,
    /// Record the map only: no digests, no SHA-256 (no reading of file data).
    pub map_only: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct CreateReport {
    pub snapshot_id: i64,
    /// The file system's type (`ext4`, `FAT32`, `NTFS` …).
    pub fs_type: super::FsType,
    pub fs_uuid: String,
    pub partition_offset: u64,
    /// Regular files recorded (hard links count once).
    pub files: u64,
    /// Paths recorded (hard links count once per path).
    pub paths: u64,
    pub dirs: u64,
    /// Bytes read from the image and hashed.
    pub bytes_hashed: u64,
    /// Files whose digests were read from the image.
    pub files_hashed: u64,
    /// Files unchanged since an earlier snapshot in the same database: digests copied, not
    /// re-read.
    pub files_reused: u64,
    /// The file system was not cleanly unmounted (or has a journal to replay): the snapshot
    /// may be incomplete.
    pub may_be_incomplete: bool,
    pub problems: Vec<Problem>,
    /// Things skipped on purpose (symlinks, devices).
    pub notes: Vec<String>,
}

/// Bytes read per request when hashing.
const CHUNK: u64 = 4 << 20;

/// Zero bytes (holes) beyond which a file's whole-file SHA-256 is not computed: a hostile or
/// extremely sparse size must not keep the snapshot hashing zeros for hours.
const MAX_HOLE_BYTES: u64 = 64 << 30;

/// Files hashed and committed together; bounds the digests held in memory.
const BATCH_BYTES: u64 = 256 << 20;

/// What one file contributes to the database.
struct Fingerprint {
    sha256: Option<[u8; 32]>,
    /// Per run, the packed digests (empty for unwritten runs or when not fingerprinted).
    digests: Vec<Vec<u8>>,
    inline: Option<Vec<u8>>,
    problems: Vec<Problem>,
}

/// A file of the earlier snapshot, to reuse when nothing changed.
struct Prev {
    generation: u32,
    size: u64,
    mtime_ns: i64,
    ctime_ns: i64,
    sha256: Option<Vec<u8>>,
    extents: Vec<ExtentRow>,
}

pub fn create(
    opts: &CreateOpts,
    cancel: &CancelFlag,
    progress: ProgressFn<'_>,
) -> Result<CreateReport, Error> {
    let vol = super::open(&opts.image, opts.offset)?;
    create_from(vol.as_ref(), opts, cancel, progress)
}

/// [`create`] on a volume already open.
pub fn create_from(
    fs: &dyn Volume,
    opts: &CreateOpts,
    cancel: &CancelFlag,
    progress: ProgressFn<'_>,
) -> Result<CreateReport, Error> {
    let vi = fs.info().clone();
    progress(Progress {
        stage: Stage::Snapshotting,
        bytes_done: 0,
        bytes_total: 0,
        items: 0,
    });
    let tree = fs.walk(cancel)?;
    let mut problems = tree.problems.clone();
    let files: Vec<&FileRec> = tree.files.iter().collect();
    let mut db = Snapshots::open_or_create(&opts.out)?;
    let uuid = vi.uuid.clone();
    let prev = if opts.map_only {
        HashMap::new()
    } else {
        previous(&db, &uuid, vi.offset)?
    };
    let bs = vi.block_size;
    let reusable = |rec: &FileRec| -> Option<&Prev> {
        let p = prev.get(&rec.id)?;
        let runs = &rec.extents;
        let same = p.generation == rec.generation
            && p.size == rec.size
            && p.mtime_ns == rec.mtime_ns
            && p.ctime_ns == rec.ctime_ns
            && p.sha256.is_some()
            && p.extents.len() == runs.len()
            && p.extents.iter().zip(runs).all(|(e, r)| {
                e.logical == r.logical
                    && e.physical == r.physical
                    && e.length == r.len
                    && e.kind == r.kind
                    && (r.kind == ExtentKind::Unwritten
                        || e.digests.len() == r.len as usize * DIGEST_LEN)
            });
        same.then_some(p)
    };
    let to_hash = |rec: &FileRec| -> u64 {
        if opts.map_only || rec.inline.is_some() || reusable(rec).is_some() {
            0
        } else {
            read_bytes(&rec.extents, bs)
        }
    };
    let total: u64 = files.iter().map(|r| to_hash(r)).sum();
    let done = AtomicU64::new(0);
    let items = AtomicU64::new(0);
    let throttle = Mutex::new(Throttle::default());
    let report = |force: bool| {
        let p = Progress {
            stage: Stage::Snapshotting,
            bytes_done: done.load(Ordering::Relaxed),
            bytes_total: total,
            items: items.load(Ordering::Relaxed),
        };
        if force {
            progress(p);
        } else if let Ok(mut t) = throttle.lock() {
            t.report(progress, p);
        }
    };

    let taken_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let tx = db.conn.transaction().map_err(super::store::db(&opts.out))?;
    tx.execute(
        "INSERT INTO snapshot (taken_at, image, fs_uuid, block_size, blocks_count,
             partition_offset, label, features, clean_unmount, mode, unit_blocks, fs_type,
             block_origin)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1, ?11, ?12)",
        params![
            taken_at,
            // Absolute, so the app can find the image again from anywhere.
            std::fs::canonicalize(&opts.image)
                .unwrap_or_else(|_| opts.image.clone())
                .to_string_lossy(),
            uuid,
            bs as i64,
            vi.blocks_count as i64,
            vi.offset as i64,
            vi.label,
            vi.features.join(" "),
            vi.clean,
            if opts.map_only {
                "map-only"
            } else {
                "fingerprinted"
            },
            vi.fs_type.name(),
            vi.block_origin as i64,
        ],
    )
    .map_err(super::store::db(&opts.out))?;
    let id = tx.last_insert_rowid();
    tx.commit().map_err(super::store::db(&opts.out))?;

    let result = (|| -> Result<(u64, u64, u64), Error> {
        let (mut hashed, mut reused, mut bytes_hashed) = (0u64, 0u64, 0u64);
        let mut start = 0;
        while start < files.len() {
            // A batch: files up to BATCH_BYTES of data to hash (at least one file).
            let mut end = start;
            let mut batch_bytes = 0;
            while end < files.len() && (end == start || batch_bytes < BATCH_BYTES) {
                batch_bytes += to_hash(files[end]);
                end += 1;
            }
            let batch = &files[start..end];
            let prints: Vec<Result<Fingerprint, Error>> = batch
                .par_iter()
                .map(|rec| {
                    if let Some(p) = (!opts.map_only).then(|| reusable(rec)).flatten() {
                        items.fetch_add(1, Ordering::Relaxed);
                        return Ok(Fingerprint {
                            sha256: p.sha256.as_deref().and_then(|s| s.try_into().ok()),
                            digests: p.extents.iter().map(|e| e.digests.clone()).collect(),
                            inline: None,
                            problems: Vec::new(),
                        });
                    }
                    let f = fingerprint(fs, rec, opts.map_only, cancel, &|n| {
                        done.fetch_add(n, Ordering::Relaxed);
                        report(false);
                    });
                    items.fetch_add(1, Ordering::Relaxed);
                    f
                })
                .collect();
            let tx = db.conn.transaction().map_err(super::store::db(&opts.out))?;
            {
                let e = super::store::db(&opts.out);
                let mut ins_inode = tx
                    .prepare_cached(
                        "INSERT INTO inode (snapshot_id, ino, generation, kind, size, mode, nlink,
                             mtime_ns, ctime_ns, flags, sha256, inline_data)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                    )
                    .map_err(&e)?;
                let mut ins_path = tx
                    .prepare_cached("INSERT INTO path (snapshot_id, path, ino) VALUES (?1, ?2, ?3)")
                    .map_err(&e)?;
                let mut ins_extent = tx
                    .prepare_cached(
                        "INSERT INTO extent (snapshot_id, ino, logical, physical, length, kind, digests)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    )
                    .map_err(&e)?;
                let mut ins_map = tx
                    .prepare_cached(
                        "INSERT OR IGNORE INTO map_block (snapshot_id, ino, physical, kind) VALUES (?1, ?2, ?3, ?4)",
                    )
                    .map_err(&e)?;
                for (rec, fp) in batch.iter().zip(prints) {
                    let fp = fp?;
                    let was_reused = !opts.map_only && reusable(rec).is_some();
                    if was_reused {
                        reused += 1;
                    } else if !opts.map_only && rec.inline.is_none() {
                        hashed += 1;
                        bytes_hashed += read_bytes(&rec.extents, bs);
                    }
                    problems.extend(fp.problems);
                    let ino = rec.id as i64;
                    ins_inode
                        .execute(params![
                            id,
                            ino,
                            rec.generation,
                            Kind::File.name(),
                            rec.size as i64,
                            rec.mode,
                            rec.nlink,
                            rec.mtime_ns,
                            rec.ctime_ns,
                            rec.flags,
                            fp.sha256.as_ref().map(|s| s.as_slice()),
                            fp.inline,
                        ])
                        .map_err(&e)?;
                    for p in &rec.paths {
                        ins_path.execute(params![id, p, ino]).map_err(&e)?;
                    }
                    for (r, d) in rec.extents.iter().zip(&fp.digests) {
                        ins_extent
                            .execute(params![
                                id,
                                ino,
                                r.logical as i64,
                                r.physical as i64,
                                r.len as i64,
                                r.kind.name(),
                                (!d.is_empty()).then_some(d.as_slice()),
                            ])
                            .map_err(&e)?;
                    }
                    for b in &rec.meta {
                        ins_map
                            .execute(params![id, ino, *b as i64, rec.meta_kind])
                            .map_err(&e)?;
                    }
                }
            }
            tx.commit().map_err(super::store::db(&opts.out))?;
            start = end;
        }
        Ok((hashed, reused, bytes_hashed))
    })();
    let (files_hashed, files_reused, bytes_hashed) = match result {
        Ok(r) => r,
        Err(e) => {
            // Cancelled or failed: remove the partial snapshot.
            let _ = delete(&db, id);
            return Err(e);
        }
    };
    let paths: u64 = files.iter().map(|r| r.paths.len() as u64).sum();
    let bytes: u64 = files.iter().map(|r| r.size).sum();
    {
        let e = super::store::db(&opts.out);
        let tx = db.conn.transaction().map_err(&e)?;
        tx.execute(
            "UPDATE snapshot SET files = ?2, bytes = ?3 WHERE id = ?1",
            params![id, files.len() as i64, bytes as i64],
        )
        .map_err(&e)?;
        let mut st = tx
            .prepare_cached(
                "INSERT INTO problem (snapshot_id, ino, what, place) VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(&e)?;
        for p in &problems {
            st.execute(params![id, p.ino as i64, p.what, p.place])
                .map_err(&e)?;
        }
        drop(st);
        tx.commit().map_err(&e)?;
    }
    report(true);
    Ok(CreateReport {
        snapshot_id: id,
        fs_type: vi.fs_type,
        fs_uuid: uuid,
        partition_offset: vi.offset,
        files: files.len() as u64,
        paths,
        dirs: tree.dirs,
        bytes_hashed,
        files_hashed,
        files_reused,
        may_be_incomplete: !vi.clean,
        problems,
        notes: tree.notes.clone(),
    })
}

fn delete(db: &Snapshots, id: i64) -> Result<(), rusqlite::Error> {
    for t in [
        "path",
        "extent",
        "map_block",
        "inode",
        "problem",
        "snapshot",
    ] {
        let col = if t == "snapshot" { "id" } else { "snapshot_id" };
        db.conn
            .execute(&format!("DELETE FROM {t} WHERE {col} = ?1"), params![id])?;
    }
    Ok(())
}

/// The latest fingerprinted snapshot of the same file system (same UUID and offset).
fn previous(db: &Snapshots, uuid: &str, offset: u64) -> Result<HashMap<u64, Prev>, Error> {
    let Some(last) = db
        .list()?
        .into_iter()
        .rev()
        .find(|s| s.fs_uuid == uuid && s.partition_offset == offset && s.fingerprinted)
    else {
        return Ok(HashMap::new());
    };
    let e = db.err();
    let mut out: HashMap<u64, Prev> = HashMap::new();
    let mut st = db
        .conn
        .prepare("SELECT ino, generation, size, mtime_ns, ctime_ns, sha256 FROM inode WHERE snapshot_id = ?1")
        .map_err(&e)?;
    let mut rows = st.query(params![last.id]).map_err(&e)?;
    while let Some(r) = rows.next().map_err(&e)? {
        let ino: i64 = r.get(0).map_err(&e)?;
        out.insert(
            ino as u64,
            Prev {
                generation: r.get::<_, i64>(1).map_err(&e)? as u32,
                size: r.get::<_, i64>(2).map_err(&e)? as u64,
                mtime_ns: r.get(3).map_err(&e)?,
                ctime_ns: r.get(4).map_err(&e)?,
                sha256: r.get(5).map_err(&e)?,
                extents: Vec::new(),
            },
        );
    }
    let mut st = db
        .conn
        .prepare(
            "SELECT ino, logical, physical, length, kind, digests FROM extent WHERE snapshot_id = ?1
             ORDER BY ino, logical",
        )
        .map_err(&e)?;
    let mut rows = st.query(params![last.id]).map_err(&e)?;
    while let Some(r) = rows.next().map_err(&e)? {
        let ino: i64 = r.get(0).map_err(&e)?;
        if let Some(p) = out.get_mut(&(ino as u64)) {
            let kind = ExtentKind::from_name(&r.get::<_, String>(4).map_err(&e)?);
            p.extents.push(ExtentRow {
                logical: r.get::<_, i64>(1).map_err(&e)? as u64,
                physical: r.get::<_, i64>(2).map_err(&e)? as u64,
                length: r.get::<_, i64>(3).map_err(&e)? as u64,
                unwritten: kind == ExtentKind::Unwritten,
                kind,
                digests: r
                    .get::<_, Option<Vec<u8>>>(5)
                    .map_err(&e)?
                    .unwrap_or_default(),
            });
        }
    }
    Ok(out)
}

/// The 16-byte digest of one block's worth of a file's bytes.
pub fn block_digest(bytes: &[u8]) -> [u8; DIGEST_LEN] {
    let h = blake3::hash(bytes);
    let mut d = [0u8; DIGEST_LEN];
    d.copy_from_slice(&h.as_bytes()[..DIGEST_LEN]);
    d
}

/// Feed `n` zero bytes to a hasher.
pub(crate) fn feed_zeros(h: &mut Sha256, mut n: u64) {
    static ZEROS: [u8; 65536] = [0; 65536];
    while n > 0 {
        let k = n.min(ZEROS.len() as u64);
        h.update(&ZEROS[..k as usize]);
        n -= k;
    }
}

/// Bytes a fingerprint reads: every block of the runs that hold bytes on the disk.
fn read_bytes(runs: &[Extent], bs: u64) -> u64 {
    runs.iter()
        .filter(|r| r.kind != ExtentKind::Unwritten)
        .map(|r| r.len * bs)
        .sum()
}

/// Read a file's data once: per-block digests of each run on the disk and the whole-file
/// SHA-256 (holes and unwritten runs as zeros). Compressed runs get digests of their blocks
/// as they lie on the disk, and no whole-file SHA-256 (it would need decompressing). Inline
/// (resident) bytes are kept as they are. Map-only: inline content only.
fn fingerprint(
    fs: &dyn Volume,
    rec: &FileRec,
    map_only: bool,
    cancel: &CancelFlag,
    advance: &(dyn Fn(u64) + Sync),
) -> Result<Fingerprint, Error> {
    let runs = &rec.extents;
    let mut problems = Vec::new();
    if let Some(d) = &rec.inline {
        let zeros = rec.size.saturating_sub(d.len() as u64);
        let sha256 = (zeros <= MAX_HOLE_BYTES).then(|| {
            let mut sha = Sha256::new();
            sha.update(&d[..d.len().min(rec.size as usize)]);
            feed_zeros(&mut sha, zeros);
            sha.finalize().into()
        });
        if sha256.is_none() {
            problems.push(Problem::new(
                rec.id,
                "inline file claims an implausible size",
                "",
            ));
        }
        return Ok(Fingerprint {
            sha256,
            digests: Vec::new(),
            inline: Some(d.clone()),
            problems,
        });
    }
    if map_only {
        return Ok(Fingerprint {
            sha256: None,
            digests: vec![Vec::new(); runs.len()],
            inline: None,
            problems,
        });
    }
    let bs = fs.info().block_size;
    let size = rec.size;
    let data = read_bytes(runs, bs);
    if size.saturating_sub(data) > MAX_HOLE_BYTES {
        problems.push(Problem::new(
            rec.id,
            format!("{size} bytes, mostly holes: block digests kept, whole-file SHA-256 skipped"),
            "",
        ));
    }
    let covered: u64 = runs.iter().map(|r| r.len * bs).sum();
    let unknown_tail = !fs.gaps_are_holes() && covered < size;
    if unknown_tail {
        problems.push(Problem::new(
            rec.id,
            format!("only {covered} of its {size} bytes have clusters: the rest is unknown, so the file has no SHA-256"),
            rec.paths.first().map(|p| super::display_path(p)).unwrap_or_default(),
        ));
    }
    let compressed = runs.iter().any(|r| r.kind == ExtentKind::Compressed);
    if compressed {
        problems.push(Problem::new(
            rec.id,
            "compressed: its clusters are recorded as they lie on the disk, but the file cannot \
             be verified as a whole (no SHA-256)",
            rec.paths
                .first()
                .map(|p| super::display_path(p))
                .unwrap_or_default(),
        ));
    }
    let whole = size.saturating_sub(data) <= MAX_HOLE_BYTES && !compressed && !unknown_tail;
    let mut sha = Sha256::new();
    let mut pos = 0u64; // bytes of the file fed to `sha`
    let mut ok = true;
    let mut digests = Vec::with_capacity(runs.len());
    let mut buf = Vec::new();
    for r in runs {
        let start = r.logical * bs;
        if whole {
            feed_zeros(&mut sha, start.min(size) - pos.min(start.min(size)));
        }
        pos = pos.max(start.min(size));
        if r.kind == ExtentKind::Unwritten {
            let end = ((r.logical + r.len) * bs).min(size);
            if whole {
                feed_zeros(&mut sha, end.saturating_sub(pos));
            }
            pos = pos.max(end);
            digests.push(Vec::new());
            continue;
        }
        let mut d = Vec::with_capacity(r.len as usize * DIGEST_LEN);
        let mut done = 0u64;
        while done < r.len {
            cancel.check()?;
            let n = (r.len - done).min((CHUNK / bs).max(1));
            buf.resize((n * bs) as usize, 0);
            if let Err(e) = fs.read_blocks(r.physical + done, &mut buf) {
                problems.push(Problem::new(
                    rec.id,
                    format!("file data unreadable while snapshotting: {e}"),
                    format!("block {}", r.physical + done),
                ));
                ok = false;
                break;
            }
            // The file's own bytes in this chunk (the last block only up to `size`); a
            // compressed run's blocks are taken whole, as they lie on the disk.
            let first = (r.logical + done) * bs;
            let bytes = if r.kind == ExtentKind::Compressed {
                &buf[..]
            } else {
                &buf[..(size.saturating_sub(first)).min(n * bs) as usize]
            };
            // Block digests and the whole-file hash side by side: a big file keeps both
            // cores busy even when it is the last one left.
            let ((), ()) = rayon::join(
                || {
                    for block in bytes.chunks(bs as usize) {
                        d.extend_from_slice(&block_digest(block));
                    }
                },
                || {
                    if whole {
                        sha.update(bytes)
                    }
                },
            );
            pos = ((r.logical + done + n) * bs).min(size);
            advance(n * bs);
            done += n;
        }
        if !ok {
            digests.push(Vec::new());
            break;
        }
        digests.push(d);
    }
    digests.resize(runs.len(), Vec::new());
    if whole {
        feed_zeros(&mut sha, size.saturating_sub(pos));
    }
    Ok(Fingerprint {
        sha256: (ok && whole).then(|| sha.finalize().into()),
        digests,
        inline: None,
        problems,
    })
}
