//! The original SBXScan's database (`sbxscan.py`, 2017), read-only: its four tables
//! (`sbx_source(id, name)`, `sbx_uids(uid, ver)`, `sbx_meta(...)`, `sbx_blocks(uid, num,
//! fileid, pos)`, no keys), the sources it lists with their names as its command line gave
//! them, and each source's listed blocks as one stream in offset order, merged over several
//! databases. Values are taken as they are stored and judged by the caller: a value no scan
//! writes (text, a negative offset, a UID wider than 48 bits) is a row to drop, never a panic.
//! Never writes to the database (it is opened read-only, without its journal settings changed).

use crate::engine::job::Error;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, Rows, Statement, params};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The tables (and the columns read) that make a file one of the original's databases.
const TABLES: [(&str, &str); 4] = [
    ("sbx_source", "id, name"),
    ("sbx_uids", "uid, ver"),
    (
        "sbx_meta",
        "uid, size, name, sbxname, datetime, sbxdatetime, fileid",
    ),
    ("sbx_blocks", "uid, num, fileid, pos"),
];

/// One of the original's databases, open read-only.
pub struct Original {
    pub path: PathBuf,
    conn: Connection,
}

/// A source the database lists: its id there and its name as the scan's command line gave it
/// (raw bytes: the original stored what Python made of the argument).
#[derive(Clone, Debug)]
pub struct Listed {
    pub id: i64,
    pub name: Vec<u8>,
}

/// One row of `sbx_blocks` for a source, as stored: `None` for a value that is not an
/// integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    pub uid: Option<i64>,
    pub num: Option<i64>,
    pub pos: Option<i64>,
}

impl Original {
    /// Open `path` read-only and check that it is a database the original SBXScan made.
    pub fn open(path: &Path) -> Result<Original, Error> {
        if !path.is_file() {
            return Err(Error::Invalid(format!(
                "no scan database at {}",
                path.display()
            )));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| not_sbxscan(path, e))?;
        let ours: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'block_run')",
                [],
                |r| r.get(0),
            )
            .map_err(|e| not_sbxscan(path, e))?;
        if ours {
            return Err(Error::Invalid(format!(
                "{} is a SeqBox Studio catalogue, not a database of the original SBXScan: \
                 use it as it is (`seqbox recover --catalog {}`)",
                path.display(),
                path.display()
            )));
        }
        for (table, columns) in TABLES {
            conn.prepare(&format!("SELECT {columns} FROM {table} LIMIT 0"))
                .map_err(|e| not_sbxscan(path, e))?;
        }
        Ok(Original {
            path: path.to_path_buf(),
            conn,
        })
    }

    /// The sources listed, by id (the first name of an id listed twice).
    pub fn sources(&self) -> Result<Vec<Listed>, Error> {
        let mut st = self
            .conn
            .prepare("SELECT id, name FROM sbx_source ORDER BY rowid")
            .map_err(self.err())?;
        let rows = st
            .query_map([], |r| {
                let id = match r.get_ref(0)? {
                    ValueRef::Integer(i) => Some(i),
                    _ => None,
                };
                let name = match r.get_ref(1)? {
                    ValueRef::Text(t) | ValueRef::Blob(t) => Some(t.to_vec()),
                    _ => None,
                };
                Ok(id.zip(name))
            })
            .map_err(self.err())?;
        let mut out: Vec<Listed> = Vec::new();
        for row in rows {
            if let Some((id, name)) = row.map_err(self.err())?
                && !name.is_empty()
                && !out.iter().any(|l| l.id == id)
            {
                out.push(Listed { id, name });
            }
        }
        Ok(out)
    }

    /// The block version of each container (`sbx_uids`), as stored.
    pub fn versions(&self) -> Result<HashMap<i64, i64>, Error> {
        let mut st = self
            .conn
            .prepare("SELECT uid, ver FROM sbx_uids")
            .map_err(self.err())?;
        let rows = st
            .query_map([], |r| match (r.get_ref(0)?, r.get_ref(1)?) {
                (ValueRef::Integer(u), ValueRef::Integer(v)) => Ok(Some((u, v))),
                _ => Ok(None),
            })
            .map_err(self.err())?;
        let mut out = HashMap::new();
        for row in rows {
            if let Some((u, v)) = row.map_err(self.err())? {
                out.entry(u).or_insert(v);
            }
        }
        Ok(out)
    }

    /// Rows of `sbx_blocks` whose source is none the database lists: nowhere to check them.
    pub fn unplaced(&self) -> Result<u64, Error> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM sbx_blocks WHERE fileid IS NULL
                 OR fileid NOT IN (SELECT id FROM sbx_source WHERE id IS NOT NULL)",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n.max(0) as u64)
            .map_err(self.err())
    }

    /// The statement that lists a source's blocks in offset order (SQLite sorts them, in
    /// temporary storage: memory does not grow with the table).
    pub fn blocks_statement(&self) -> Result<Statement<'_>, Error> {
        self.conn
            .prepare("SELECT uid, num, pos FROM sbx_blocks WHERE fileid = ?1 ORDER BY pos")
            .map_err(self.err())
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> Error + '_ {
        move |e| {
            Error::Invalid(format!(
                "cannot read the scan database {}: {e}",
                self.path.display()
            ))
        }
    }
}

fn not_sbxscan(path: &Path, e: rusqlite::Error) -> Error {
    Error::Invalid(format!(
        "{} is not a database made by the original SBXScan (sbxscan.py): {e}",
        path.display()
    ))
}

/// The rows of one source over several databases, merged in offset order.
pub struct Merged<'s> {
    streams: Vec<(Rows<'s>, Option<Row>)>,
    path: PathBuf,
}

impl<'s> Merged<'s> {
    /// Start the streams: `statements[i]` lists source `ids[i]`'s rows (of database `path`s).
    pub fn new(
        statements: &'s mut [Statement<'_>],
        ids: &[i64],
        path: &Path,
    ) -> Result<Merged<'s>, Error> {
        let mut streams = Vec::new();
        for (st, id) in statements.iter_mut().zip(ids) {
            let rows = st.query(params![id]).map_err(read_err(path))?;
            streams.push((rows, None));
        }
        let mut m = Merged {
            streams,
            path: path.to_path_buf(),
        };
        for i in 0..m.streams.len() {
            m.advance(i)?;
        }
        Ok(m)
    }

    fn advance(&mut self, i: usize) -> Result<(), Error> {
        let (rows, head) = &mut self.streams[i];
        *head = rows.next().map_err(read_err(&self.path))?.map(|r| Row {
            uid: int(r.get_ref(0)),
            num: int(r.get_ref(1)),
            pos: int(r.get_ref(2)),
        });
        Ok(())
    }

    /// The next row in offset order (rows without an integer offset first), or `None`.
    pub fn next_row(&mut self) -> Result<Option<Row>, Error> {
        let best = self
            .streams
            .iter()
            .enumerate()
            .filter_map(|(i, (_, h))| h.map(|h| (h.pos, i)))
            .min();
        let Some((_, i)) = best else { return Ok(None) };
        let row = self.streams[i].1;
        self.advance(i)?;
        Ok(row)
    }
}

fn int(v: rusqlite::Result<ValueRef<'_>>) -> Option<i64> {
    match v {
        Ok(ValueRef::Integer(i)) => Some(i),
        _ => None,
    }
}

fn read_err(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |e| {
        Error::Invalid(format!(
            "cannot read the scan database {}: {e}",
            path.display()
        ))
    }
}
