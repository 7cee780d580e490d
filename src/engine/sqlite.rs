//! Opening our SQLite files (scan catalogues, ext4 snapshot databases) one way: WAL, batched
//! commits, the schema created in a new file and its version checked in an old one, so a file
//! of another kind or a newer version is refused with a plain message instead of misread.

use super::job::Error;
use rusqlite::Connection;
use std::path::Path;

/// One kind of database this program writes.
pub struct Kind {
    /// What people call it: "catalogue", "snapshot database".
    pub name: &'static str,
    pub schema: &'static str,
    /// `PRAGMA user_version` of `schema`.
    pub version: i64,
    pub foreign_keys: bool,
}

/// Turn an SQLite error on `path` into an engine error that says which file it was.
pub fn error<'a>(kind: &'a Kind, path: &'a Path) -> impl Fn(rusqlite::Error) -> Error + 'a {
    move |e| Error::Invalid(format!("{} {}: {e}", kind.name, path.display()))
}

/// Open `path` as a database of `kind`, creating it (with its schema) when it is new.
pub fn open(path: &Path, kind: &Kind) -> Result<Connection, Error> {
    let err = error(kind, path);
    let conn = Connection::open(path).map_err(&err)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(&err)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(&err)?;
    if kind.foreign_keys {
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(&err)?;
    }
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(&err)?;
    match version {
        0 => {
            let tables: i64 = conn
                .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
                .map_err(&err)?;
            if tables > 0 {
                return Err(Error::Invalid(format!(
                    "{} is an SQLite file but not a {}",
                    path.display(),
                    kind.name
                )));
            }
            conn.execute_batch(kind.schema).map_err(&err)?;
            conn.pragma_update(None, "user_version", kind.version)
                .map_err(&err)?;
        }
        v if v == kind.version => {}
        v => {
            return Err(Error::Invalid(format!(
                "{} is a {} of schema version {v}; this program knows version {}",
                path.display(),
                kind.name,
                kind.version
            )));
        }
    }
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Kind = Kind {
        name: "test database",
        schema: "CREATE TABLE t (x INTEGER);",
        version: 3,
        foreign_keys: true,
    };

    #[test]
    fn new_files_get_the_schema_and_other_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.sqlite");
        let c = open(&p, &A).unwrap();
        c.execute("INSERT INTO t VALUES (1)", []).unwrap();
        drop(c);
        assert!(open(&p, &A).is_ok(), "reopened");

        let newer = Kind { version: 4, ..A };
        let e = open(&p, &newer).unwrap_err().to_string();
        assert!(
            e.contains("schema version 3; this program knows version 4"),
            "{e}"
        );

        // Some other program's SQLite file.
        let q = dir.path().join("other.sqlite");
        Connection::open(&q)
            .unwrap()
            .execute_batch("CREATE TABLE mine (y TEXT);")
            .unwrap();
        let e = open(&q, &A).unwrap_err().to_string();
        assert!(e.contains("not a test database"), "{e}");
    }
}
