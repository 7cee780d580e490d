//! The snapshot database (SQLite, schema in docs/SNAPSHOT.md, version in `PRAGMA
//! user_version`): opening and creating it, and the queries the CLI, the GUI and recovery
//! read — snapshots, files under a path, which file owns a region of the disk. Never writes
//! to an image.

use crate::engine::job::Error;
use crate::engine::sqlite;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Schema version stored in `PRAGMA user_version`.
pub const SCHEMA_VERSION: i64 = 2;

/// Bytes of one block digest (BLAKE3 truncated).
pub const DIGEST_LEN: usize = 16;

/// The extent table (named `$name`): one written by the schema, one by the upgrade that
/// rebuilds it.
macro_rules! extent_table {
    ($name:literal) => {
        concat!(
            "CREATE TABLE ",
            $name,
            " (
    snapshot_id INTEGER NOT NULL REFERENCES snapshot(id),
    ino         INTEGER NOT NULL,
    logical     INTEGER NOT NULL,
    physical    INTEGER NOT NULL,
    length      INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('data', 'unwritten', 'compressed')),
    digests     BLOB,
    PRIMARY KEY (snapshot_id, ino, logical)
) WITHOUT ROWID;
"
        )
    };
}

const SCHEMA: &str = concat!(
    "
CREATE TABLE snapshot (
    id               INTEGER PRIMARY KEY,
    taken_at         INTEGER NOT NULL,
    image            TEXT NOT NULL,
    fs_uuid          TEXT NOT NULL,
    block_size       INTEGER NOT NULL,
    blocks_count     INTEGER NOT NULL,
    partition_offset INTEGER NOT NULL,
    label            TEXT NOT NULL,
    features         TEXT NOT NULL,
    clean_unmount    INTEGER NOT NULL,
    mode             TEXT NOT NULL CHECK (mode IN ('map-only', 'fingerprinted')),
    unit_blocks      INTEGER NOT NULL DEFAULT 1,
    files            INTEGER NOT NULL DEFAULT 0,
    bytes            INTEGER NOT NULL DEFAULT 0,
    fs_type          TEXT NOT NULL DEFAULT 'ext4',
    block_origin     INTEGER
);
CREATE TABLE inode (
    snapshot_id INTEGER NOT NULL REFERENCES snapshot(id),
    ino         INTEGER NOT NULL,
    generation  INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    mode        INTEGER NOT NULL,
    nlink       INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    ctime_ns    INTEGER NOT NULL,
    flags       INTEGER NOT NULL,
    sha256      BLOB,
    inline_data BLOB,
    PRIMARY KEY (snapshot_id, ino)
) WITHOUT ROWID;
CREATE TABLE path (
    snapshot_id INTEGER NOT NULL REFERENCES snapshot(id),
    path        BLOB NOT NULL,
    ino         INTEGER NOT NULL,
    PRIMARY KEY (snapshot_id, path)
) WITHOUT ROWID;
CREATE INDEX path_by_ino ON path (snapshot_id, ino);
",
    extent_table!("extent"),
    "CREATE INDEX extent_by_physical ON extent (snapshot_id, physical);
CREATE TABLE map_block (
    snapshot_id INTEGER NOT NULL REFERENCES snapshot(id),
    ino         INTEGER NOT NULL,
    physical    INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('extent', 'indirect')),
    PRIMARY KEY (snapshot_id, ino, physical)
) WITHOUT ROWID;
CREATE TABLE problem (
    snapshot_id INTEGER NOT NULL REFERENCES snapshot(id),
    ino         INTEGER NOT NULL,
    what        TEXT NOT NULL,
    place       TEXT NOT NULL
);
"
);

/// Version 1 → 2: the file-system type (every version-1 snapshot is ext2/3/4), the byte
/// offset of block 0 (FAT numbers its clusters from its data area), and compressed extents
/// (NTFS). The extent table is rebuilt because SQLite cannot change a CHECK constraint.
const UPGRADE_1: &str = concat!(
    "
ALTER TABLE snapshot ADD COLUMN fs_type TEXT NOT NULL DEFAULT 'ext4';
ALTER TABLE snapshot ADD COLUMN block_origin INTEGER;
UPDATE snapshot SET block_origin = partition_offset;
",
    extent_table!("extent_v2"),
    "INSERT INTO extent_v2 SELECT snapshot_id, ino, logical, physical, length, kind, digests FROM extent;
DROP TABLE extent;
ALTER TABLE extent_v2 RENAME TO extent;
CREATE INDEX extent_by_physical ON extent (snapshot_id, physical);
"
);

/// One snapshot, as listed.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub id: i64,
    /// Seconds since 1970.
    pub taken_at: i64,
    pub image: PathBuf,
    /// The file system's type (`ext4` for every snapshot taken before it was recorded).
    pub fs_type: super::FsType,
    pub fs_uuid: String,
    pub label: String,
    pub block_size: u64,
    pub blocks_count: u64,
    pub partition_offset: u64,
    /// Image byte offset of block 0 (`partition_offset` on ext4 and NTFS; FAT's data area).
    pub block_origin: u64,
    pub features: String,
    pub clean_unmount: bool,
    /// Block digests and SHA-256 were recorded (`false`: map only).
    pub fingerprinted: bool,
    pub unit_blocks: u64,
    pub files: u64,
    pub bytes: u64,
}

/// A file (one of its paths) in a snapshot.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FileEntry {
    pub path: Vec<u8>,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i64,
    pub kind: super::ext4::Kind,
}

/// What a run of the disk holds for a file.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    Data,
    /// Preallocated, reads as zeros.
    Unwritten,
    /// An extent-tree or indirect block of the file.
    Mapping,
    /// A file-system structure (boot sector, FAT, directory, `$MFT` …); `path` names it.
    Structure,
}

/// A region of the image (byte offsets including the partition offset) owned by a file.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct OwnerRun {
    pub byte_start: u64,
    pub byte_len: u64,
    pub path: Vec<u8>,
    pub kind: RunKind,
}

/// An extent row with its digests, as recovery reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtentRow {
    pub logical: u64,
    pub physical: u64,
    pub length: u64,
    /// Reads as zeros (`kind` = `unwritten`).
    pub unwritten: bool,
    pub kind: super::ExtentKind,
    /// `DIGEST_LEN` bytes per block; empty when not fingerprinted.
    pub digests: Vec<u8>,
}

/// An inode row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InodeRow {
    pub ino: u64,
    pub generation: u32,
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub sha256: Option<Vec<u8>>,
    pub inline_data: Option<Vec<u8>>,
    /// The inode's flags (i_flags) when the snapshot was taken.
    pub flags: u32,
}

/// An open snapshot database.
pub struct Snapshots {
    pub(crate) conn: Connection,
    pub path: PathBuf,
}

const KIND: sqlite::Kind = sqlite::Kind {
    name: "snapshot database",
    schema: SCHEMA,
    version: SCHEMA_VERSION,
    foreign_keys: false,
    upgrades: &[sqlite::Upgrade {
        from: 1,
        sql: UPGRADE_1,
    }],
};

pub(crate) fn db(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    sqlite::error(&KIND, path)
}

fn u(v: i64) -> u64 {
    v.max(0) as u64
}

impl Snapshots {
    /// Open an existing snapshot database.
    pub fn open(path: &Path) -> Result<Snapshots, Error> {
        if !path.is_file() {
            return Err(Error::Invalid(format!(
                "no snapshot database at {} (take a snapshot first)",
                path.display()
            )));
        }
        Snapshots::open_or_create(path)
    }

    /// Open the database at `path`, creating it when it does not exist.
    pub fn open_or_create(path: &Path) -> Result<Snapshots, Error> {
        Ok(Snapshots {
            conn: sqlite::open(path, &KIND)?,
            path: path.to_path_buf(),
        })
    }

    pub(crate) fn err(&self) -> impl Fn(rusqlite::Error) -> Error + '_ {
        db(&self.path)
    }

    /// Every snapshot, oldest first.
    pub fn list(&self) -> Result<Vec<SnapshotInfo>, Error> {
        let mut st = self
            .conn
            .prepare(
                "SELECT id, taken_at, image, fs_uuid, label, block_size, blocks_count,
                        partition_offset, features, clean_unmount, mode, unit_blocks, files, bytes,
                        fs_type, coalesce(block_origin, partition_offset)
                 FROM snapshot ORDER BY id",
            )
            .map_err(self.err())?;
        let rows = st
            .query_map([], |r| {
                Ok(SnapshotInfo {
                    id: r.get(0)?,
                    taken_at: r.get(1)?,
                    image: PathBuf::from(r.get::<_, String>(2)?),
                    fs_uuid: r.get(3)?,
                    label: r.get(4)?,
                    block_size: u(r.get(5)?),
                    blocks_count: u(r.get(6)?),
                    partition_offset: u(r.get(7)?),
                    features: r.get(8)?,
                    clean_unmount: r.get(9)?,
                    fingerprinted: r.get::<_, String>(10)? == "fingerprinted",
                    unit_blocks: u(r.get(11)?),
                    files: u(r.get(12)?),
                    bytes: u(r.get(13)?),
                    fs_type: super::FsType::from_name(&r.get::<_, String>(14)?),
                    block_origin: u(r.get(15)?),
                })
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// One snapshot by id, or the latest with `None`.
    pub fn info(&self, id: Option<i64>) -> Result<SnapshotInfo, Error> {
        let all = self.list()?;
        let found = match id {
            Some(id) => all.into_iter().find(|s| s.id == id),
            None => all.into_iter().last(),
        };
        found.ok_or_else(|| {
            Error::Invalid(match id {
                Some(id) => format!("{} has no snapshot {id}", self.path.display()),
                None => format!("{} holds no snapshot", self.path.display()),
            })
        })
    }

    /// Files whose path is `prefix` or lies under the folder `prefix` (empty or `/`: all),
    /// sorted by path; a hard-linked file appears once per path.
    pub fn files(&self, snapshot_id: i64, prefix: &[u8]) -> Result<Vec<FileEntry>, Error> {
        let mut st = self
            .conn
            .prepare(
                "SELECT p.path, p.ino, i.size, i.mtime_ns, i.kind FROM path p
                 JOIN inode i ON i.snapshot_id = p.snapshot_id AND i.ino = p.ino
                 WHERE p.snapshot_id = ?1 AND p.path >= ?2 ORDER BY p.path",
            )
            .map_err(self.err())?;
        let mut rows = st.query(params![snapshot_id, prefix]).map_err(self.err())?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(self.err())? {
            let path: Vec<u8> = r.get(0).map_err(self.err())?;
            if !path.starts_with(prefix) {
                break;
            }
            if !under(&path, prefix) {
                continue;
            }
            out.push(FileEntry {
                path,
                ino: u(r.get(1).map_err(self.err())?),
                size: u(r.get(2).map_err(self.err())?),
                mtime_ns: r.get(3).map_err(self.err())?,
                kind: super::ext4::Kind::from_name(&r.get::<_, String>(4).map_err(self.err())?),
            });
        }
        Ok(out)
    }

    /// Every region of the image a file of the snapshot owns (data, unwritten and mapping
    /// blocks), sorted by `byte_start`; a hard-linked file is named by its first path.
    pub fn owner_runs(&self, snapshot_id: i64) -> Result<Vec<OwnerRun>, Error> {
        let s = self.info(Some(snapshot_id))?;
        let names = self.first_paths(snapshot_id)?;
        let mut out = Vec::new();
        let mut st = self
            .conn
            .prepare(
                "SELECT ino, physical, length, kind FROM extent WHERE snapshot_id = ?1
                 UNION ALL SELECT ino, physical, 1, 'mapping' FROM map_block WHERE snapshot_id = ?1",
            )
            .map_err(self.err())?;
        let mut rows = st.query(params![snapshot_id]).map_err(self.err())?;
        while let Some(r) = rows.next().map_err(self.err())? {
            let ino: i64 = r.get(0).map_err(self.err())?;
            let kind = match r.get::<_, String>(3).map_err(self.err())?.as_str() {
                "data" | "compressed" => RunKind::Data,
                "unwritten" => RunKind::Unwritten,
                _ => RunKind::Mapping,
            };
            out.push(OwnerRun {
                byte_start: s.block_origin + u(r.get(1).map_err(self.err())?) * s.block_size,
                byte_len: u(r.get(2).map_err(self.err())?) * s.block_size,
                path: names.get(&ino).cloned().unwrap_or_default(),
                kind,
            });
        }
        out.sort_by_key(|r| r.byte_start);
        Ok(out)
    }

    fn first_paths(
        &self,
        snapshot_id: i64,
    ) -> Result<std::collections::HashMap<i64, Vec<u8>>, Error> {
        let mut st = self
            .conn
            .prepare("SELECT ino, min(path) FROM path WHERE snapshot_id = ?1 GROUP BY ino")
            .map_err(self.err())?;
        let rows = st
            .query_map(params![snapshot_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// The file owning image byte `byte_offset` and the offset within that file.
    pub fn owner_at(
        &self,
        snapshot_id: i64,
        byte_offset: u64,
    ) -> Result<Option<(Vec<u8>, u64)>, Error> {
        let s = self.info(Some(snapshot_id))?;
        let Some(rel) = byte_offset.checked_sub(s.block_origin) else {
            return Ok(None);
        };
        let block = rel / s.block_size;
        let row: Option<(i64, i64, i64, i64)> = self
            .conn
            .query_row(
                "SELECT ino, logical, physical, length FROM extent
                 WHERE snapshot_id = ?1 AND physical <= ?2 AND kind != 'compressed'
                 ORDER BY physical DESC LIMIT 1",
                params![snapshot_id, block as i64],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(self.err())?;
        let Some((ino, logical, physical, length)) = row else {
            return Ok(None);
        };
        if block >= u(physical) + u(length) {
            return Ok(None);
        }
        let path: Vec<u8> = self
            .conn
            .query_row(
                "SELECT min(path) FROM path WHERE snapshot_id = ?1 AND ino = ?2",
                params![snapshot_id, ino],
                |r| r.get(0),
            )
            .map_err(self.err())?;
        let file_offset = (u(logical) + block - u(physical)) * s.block_size + rel % s.block_size;
        Ok(Some((path, file_offset)))
    }

    /// An inode row of a snapshot.
    pub fn inode(&self, snapshot_id: i64, ino: u64) -> Result<Option<InodeRow>, Error> {
        self.conn
            .query_row(
                "SELECT ino, generation, size, mtime_ns, ctime_ns, sha256, inline_data, flags
                 FROM inode WHERE snapshot_id = ?1 AND ino = ?2",
                params![snapshot_id, ino as i64],
                |r| {
                    Ok(InodeRow {
                        ino: u(r.get(0)?),
                        generation: r.get::<_, i64>(1)? as u32,
                        size: u(r.get(2)?),
                        mtime_ns: r.get(3)?,
                        ctime_ns: r.get(4)?,
                        sha256: r.get(5)?,
                        inline_data: r.get(6)?,
                        flags: r.get::<_, i64>(7)? as u32,
                    })
                },
            )
            .optional()
            .map_err(self.err())
    }

    /// The extents of an inode, by logical block.
    pub fn extents(&self, snapshot_id: i64, ino: u64) -> Result<Vec<ExtentRow>, Error> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT logical, physical, length, kind, digests FROM extent
                 WHERE snapshot_id = ?1 AND ino = ?2 ORDER BY logical",
            )
            .map_err(self.err())?;
        let rows = st
            .query_map(params![snapshot_id, ino as i64], |r| {
                Ok(ExtentRow {
                    logical: u(r.get(0)?),
                    physical: u(r.get(1)?),
                    length: u(r.get(2)?),
                    unwritten: r.get::<_, String>(3)? == "unwritten",
                    kind: super::ExtentKind::from_name(&r.get::<_, String>(3)?),
                    digests: r.get::<_, Option<Vec<u8>>>(4)?.unwrap_or_default(),
                })
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// Problems recorded while the snapshot was taken, in words.
    pub fn problems(&self, snapshot_id: i64) -> Result<Vec<super::Problem>, Error> {
        let mut st = self
            .conn
            .prepare("SELECT ino, what, place FROM problem WHERE snapshot_id = ?1 ORDER BY rowid")
            .map_err(self.err())?;
        let rows = st
            .query_map(params![snapshot_id], |r| {
                Ok(super::Problem::new(
                    u(r.get(0)?),
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }
}

/// `path` is `prefix` itself or lies in the folder `prefix`.
pub fn under(path: &[u8], prefix: &[u8]) -> bool {
    let prefix = if prefix.len() > 1 {
        prefix.strip_suffix(b"/").unwrap_or(prefix)
    } else {
        prefix
    };
    if prefix.is_empty() || prefix == b"/" {
        return true;
    }
    path == prefix || (path.starts_with(prefix) && path.get(prefix.len()) == Some(&b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_1_database_is_upgraded_as_ext4_with_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.snapshot.sqlite");
        {
            // Version 1 as it was: no fs_type, no block_origin, extents data|unwritten only.
            let v1 = SCHEMA
                .replace(",\n    fs_type          TEXT NOT NULL DEFAULT 'ext4',\n    block_origin     INTEGER", "")
                .replace(", 'compressed'", "");
            assert!(!v1.contains("fs_type") && !v1.contains("compressed"));
            let c = Connection::open(&path).unwrap();
            c.execute_batch(&v1).unwrap();
            c.execute_batch(
                "INSERT INTO snapshot (taken_at, image, fs_uuid, block_size, blocks_count,
                     partition_offset, label, features, clean_unmount, mode)
                 VALUES (1, '/x.img', 'u', 1024, 100, 1048576, 'l', '', 1, 'fingerprinted');
                 INSERT INTO extent VALUES (1, 12, 0, 40, 3, 'data', NULL);
                 PRAGMA user_version = 1;",
            )
            .unwrap();
        }
        let db = Snapshots::open(&path).unwrap();
        let s = db.info(None).unwrap();
        assert_eq!(s.fs_type, crate::engine::fs::FsType::Ext4);
        assert_eq!((s.partition_offset, s.block_origin), (1048576, 1048576));
        let e = db.extents(1, 12).unwrap();
        assert_eq!((e[0].physical, e[0].length, e[0].unwritten), (40, 3, false));
        db.conn
            .execute(
                "INSERT INTO extent VALUES (1, 13, 0, 50, 16, 'compressed', NULL)",
                [],
            )
            .unwrap();
        let v: i64 = db
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
    }

    #[test]
    fn prefixes_are_folders_not_string_prefixes() {
        assert!(under(b"/a/b", b"/a"));
        assert!(under(b"/a/b", b"/a/"));
        assert!(under(b"/a", b"/a"));
        assert!(!under(b"/ab", b"/a"));
        assert!(under(b"/x", b""));
        assert!(under(b"/x", b"/"));
    }
}
