//! The catalogue's sources: paths kept as raw bytes, what identifies a source, and the one
//! decision a scan starts with — is this the source of a row we have (resume, or nothing to
//! do), the same file under a new path (resume there), a source changed since its scan (drop
//! its rows, scan afresh), or a new one. Two different images are never merged.

use super::{Catalog, SECTOR, db};
use crate::engine::job::Error;
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use serde::{Serialize, Serializer};
use std::path::{Path, PathBuf};

/// What a source is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum SourceKind {
    File = 0,
    BlockDevice = 1,
    /// Anything else that reads like a file (a character device, a pipe).
    Other = 2,
    /// Catalogued by schema version 1, which kept only size + first/last MiB: it cannot be
    /// told from another image, so a new scan of it starts afresh.
    Legacy = 3,
}

impl SourceKind {
    fn from_code(c: i64) -> SourceKind {
        match c {
            0 => SourceKind::File,
            1 => SourceKind::BlockDevice,
            2 => SourceKind::Other,
            _ => SourceKind::Legacy,
        }
    }
}

/// What identifies a source, taken when its scan starts (see `scan::identity`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceKey {
    pub kind: SourceKind,
    /// The device a file is on (`st_dev`), or a block device's own number (`st_rdev`).
    pub device: u64,
    /// The file's inode (0 for devices).
    pub inode: u64,
    pub size: u64,
    /// Last modification of a file, in nanoseconds since 1970 (devices have none).
    pub mtime_ns: Option<i64>,
    /// SHA-256 (first 128 bits, hex) over the size, the device's serial if any, and samples
    /// of the content spread over the whole source.
    pub fingerprint: String,
}

impl SourceKey {
    pub fn other(size: u64) -> SourceKey {
        SourceKey {
            kind: SourceKind::Other,
            device: 0,
            inode: 0,
            size,
            mtime_ns: None,
            fingerprint: String::new(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct SourceRow {
    pub id: i64,
    /// Absolute, byte for byte (JSON shows bytes that are not UTF-8 as `\xNN`).
    #[serde(serialize_with = "path_text")]
    pub path: PathBuf,
    pub size: u64,
    pub kind: SourceKind,
    pub fingerprint: String,
    pub scan_from: u64,
    pub scanned_to: u64,
    pub scan_end: u64,
    /// Scanned to the end of its range, and the source did not change meanwhile.
    pub complete: bool,
    /// Its size or content changed between the start and the end of its last scan, so the
    /// catalogue may mix old and new contents: the next scan starts afresh.
    pub changed_during_scan: bool,
}

/// How a scan of a source starts.
#[derive(Clone, Debug)]
pub struct SourceStart {
    pub id: i64,
    /// Where to scan from: later than `from` when an earlier scan is resumed.
    pub start: u64,
    pub changed_since_last_scan: bool,
    /// The path the source had in the catalogue when it was found under a new one.
    pub moved_from: Option<PathBuf>,
    /// Why the source is scanned afresh, or resumed, in plain words.
    pub notes: Vec<String>,
}

/// What the catalogue knows of a path.
enum Known {
    /// A row with this path whose file is the one found there now.
    Same(SourceRow),
    /// A row with this path whose file changed (or cannot be compared).
    Changed(SourceRow, String),
    /// A row of this very file under another path.
    Moved(SourceRow),
    New,
}

impl Catalog {
    /// Decide how to scan the source at `path` (absolute) with `key` over `from..end`, and
    /// prepare its row: one transaction, so a kill leaves the catalogue as before or after.
    pub fn start_source(
        &mut self,
        path: &Path,
        key: &SourceKey,
        from: u64,
        end: u64,
    ) -> Result<SourceStart, Error> {
        let e = db(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&e)?;
        let start = prepare(&tx, path, key, from, end).map_err(&e)?;
        tx.commit().map_err(&e)?;
        Ok(start)
    }

    pub fn source_by_id(&self, id: i64) -> Result<SourceRow, Error> {
        self.conn
            .query_row(
                &format!("SELECT {SOURCE_COLUMNS} FROM source WHERE id = ?1"),
                params![id],
                source_row,
            )
            .map_err(self.err())
    }

    pub fn sources(&self) -> Result<Vec<SourceRow>, Error> {
        let mut st = self
            .conn
            .prepare(&format!("SELECT {SOURCE_COLUMNS} FROM source ORDER BY id"))
            .map_err(self.err())?;
        let rows = st.query_map([], source_row).map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// The key a source's scan started with.
    pub fn source_key(&self, id: i64) -> Result<SourceKey, Error> {
        self.conn
            .query_row(
                "SELECT kind, device, inode, size, mtime_ns, fingerprint FROM source WHERE id = ?1",
                params![id],
                key_row,
            )
            .map_err(self.err())
    }
}

const SOURCE_COLUMNS: &str = "id, path, size, kind, fingerprint, scan_from, scanned_to, scan_end, complete, changed_during_scan";

/// Find or make the row of the source at `path` and say where its scan starts.
fn prepare(
    tx: &Transaction<'_>,
    path: &Path,
    key: &SourceKey,
    from: u64,
    end: u64,
) -> rusqlite::Result<SourceStart> {
    let mut start = SourceStart {
        id: 0,
        start: from,
        changed_since_last_scan: false,
        moved_from: None,
        notes: Vec::new(),
    };
    let row = match known(tx, path, key)? {
        Known::Same(row) => row,
        Known::Moved(row) => {
            tx.execute(
                "UPDATE source SET path = ?2 WHERE id = ?1",
                params![row.id, path_bytes(path)],
            )?;
            start.moved_from = Some(row.path.clone());
            row
        }
        Known::Changed(row, why) => {
            start.id = row.id;
            start.changed_since_last_scan = row.kind != SourceKind::Legacy;
            start.notes.push(why);
            begin_afresh(tx, row.id, key, from, end)?;
            return Ok(start);
        }
        Known::New => {
            tx.execute(
                "INSERT INTO source (path, size, kind, fingerprint) VALUES (?1, ?2, ?3, '')",
                params![path_bytes(path), key.size as i64, key.kind as u8],
            )?;
            start.id = tx.last_insert_rowid();
            begin_afresh(tx, start.id, key, from, end)?;
            return Ok(start);
        }
    };
    // The source the row describes: resume its scan of the same range, else start over.
    start.id = row.id;
    if row.scan_from == from && row.scan_end == end && row.scanned_to > from {
        start.start = row.scanned_to;
        drop_after(tx, row.id, row.scanned_to)?;
    } else {
        if row.scanned_to > row.scan_from {
            start
                .notes
                .push("another byte range than last time: scanned afresh".into());
        }
        begin_afresh(tx, row.id, key, from, end)?;
    }
    Ok(start)
}

/// What the catalogue knows of the source at `path` with `key`.
fn known(tx: &Transaction<'_>, path: &Path, key: &SourceKey) -> rusqlite::Result<Known> {
    let by_path = tx
        .query_row(
            &format!(
                "SELECT {SOURCE_COLUMNS} FROM source WHERE path = ?1 ORDER BY id DESC LIMIT 1"
            ),
            params![path_bytes(path)],
            source_row,
        )
        .optional()?;
    if let Some(row) = by_path {
        let stored = tx.query_row(
            "SELECT kind, device, inode, size, mtime_ns, fingerprint FROM source WHERE id = ?1",
            params![row.id],
            key_row,
        )?;
        let why = if row.kind == SourceKind::Legacy {
            "catalogued by an older version, which cannot tell whether the image changed: scanned afresh"
        } else if row.changed_during_scan {
            "it changed while it was last scanned: scanned afresh"
        } else if stored != *key {
            "it changed since it was last scanned (other size, time or content): its old findings are dropped and it is scanned afresh"
        } else {
            return Ok(Known::Same(row));
        };
        return Ok(Known::Changed(row, why.to_string()));
    }
    // The same file under another path: same device and inode, same size, time and sampled
    // content. Content alone never suffices: two images can agree wherever the samples fall.
    if key.kind == SourceKind::File || key.kind == SourceKind::BlockDevice {
        let mut st = tx.prepare(&format!(
            "SELECT {SOURCE_COLUMNS} FROM source WHERE device = ?1 AND inode = ?2 AND kind = ?3
             AND changed_during_scan = 0 ORDER BY id"
        ))?;
        let rows: Vec<SourceRow> = st
            .query_map(
                params![key.device as i64, key.inode as i64, key.kind as u8],
                source_row,
            )?
            .collect::<Result<_, _>>()?;
        for row in rows {
            let stored = tx.query_row(
                "SELECT kind, device, inode, size, mtime_ns, fingerprint FROM source WHERE id = ?1",
                params![row.id],
                key_row,
            )?;
            if stored == *key {
                return Ok(Known::Moved(row));
            }
        }
    }
    Ok(Known::New)
}

/// Drop what a resumed scan will find again: everything recorded at or after `offset`.
fn drop_after(tx: &Transaction<'_>, id: i64, offset: u64) -> rusqlite::Result<()> {
    for (table, column, at) in [
        ("block_run", "offset", offset),
        ("metadata", "offset", offset),
        ("damaged_block", "offset", offset),
        ("layout_run", "start_sector", offset / SECTOR),
    ] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE source_id = ?1 AND {column} >= ?2"),
            params![id, at as i64],
        )?;
    }
    Ok(())
}

/// Forget every finding of source `id` and record `key` and the range about to be scanned.
fn begin_afresh(
    tx: &Transaction<'_>,
    id: i64,
    key: &SourceKey,
    from: u64,
    end: u64,
) -> rusqlite::Result<()> {
    for table in ["block_run", "metadata", "damaged_block", "layout_run"] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE source_id = ?1"),
            params![id],
        )?;
    }
    tx.execute(
        "UPDATE source SET size = ?2, kind = ?3, device = ?4, inode = ?5, mtime_ns = ?6,
            fingerprint = ?7, scan_from = ?8, scanned_to = ?8, scan_end = ?9, complete = 0,
            changed_during_scan = 0
         WHERE id = ?1",
        params![
            id,
            key.size as i64,
            key.kind as u8,
            key.device as i64,
            key.inode as i64,
            key.mtime_ns,
            key.fingerprint,
            from as i64,
            end as i64
        ],
    )?;
    Ok(())
}

fn source_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SourceRow> {
    Ok(SourceRow {
        id: r.get(0)?,
        path: path_from_bytes(r.get::<_, Vec<u8>>(1)?),
        size: r.get::<_, i64>(2)? as u64,
        kind: SourceKind::from_code(r.get(3)?),
        fingerprint: r.get(4)?,
        scan_from: r.get::<_, i64>(5)? as u64,
        scanned_to: r.get::<_, i64>(6)? as u64,
        scan_end: r.get::<_, i64>(7)? as u64,
        complete: r.get::<_, i64>(8)? != 0,
        changed_during_scan: r.get::<_, i64>(9)? != 0,
    })
}

fn key_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SourceKey> {
    Ok(SourceKey {
        kind: SourceKind::from_code(r.get(0)?),
        device: r.get::<_, i64>(1)? as u64,
        inode: r.get::<_, i64>(2)? as u64,
        size: r.get::<_, i64>(3)? as u64,
        mtime_ns: r.get(4)?,
        fingerprint: r.get(5)?,
    })
}

/// A path as stored: its raw bytes on Unix (any bytes but NUL), UTF-8 elsewhere.
pub fn path_bytes(p: &Path) -> Vec<u8> {
    #[cfg(unix)]
    {
        std::os::unix::ffi::OsStrExt::as_bytes(p.as_os_str()).to_vec()
    }
    #[cfg(not(unix))]
    {
        p.to_string_lossy().into_owned().into_bytes()
    }
}

pub fn path_from_bytes(b: Vec<u8>) -> PathBuf {
    #[cfg(unix)]
    {
        PathBuf::from(<std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(b))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(&b).into_owned())
    }
}

/// A path in JSON: UTF-8 where it is, `\xNN` for the other bytes.
pub fn path_text<P: AsRef<Path>, S: Serializer>(p: &P, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::engine::ext4::display_path(&path_bytes(p.as_ref())))
}

/// [`path_text`] for a path that may be absent.
pub fn opt_path_text<S: Serializer>(p: &Option<PathBuf>, s: S) -> Result<S::Ok, S::Error> {
    match p {
        Some(p) => path_text(p, s),
        None => s.serialize_none(),
    }
}
