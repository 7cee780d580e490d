//! Opening our SQLite files (scan catalogues, ext4 snapshot databases) one way: WAL, batched
//! commits, the schema created in a new file, an older file upgraded in one transaction and
//! its version checked, so a file of another kind or a newer version is refused with a plain
//! message instead of misread.

use super::job::Error;
use rusqlite::{Connection, TransactionBehavior};
use std::path::Path;

/// SQL that brings a file of schema version `from` to `from + 1`.
pub struct Upgrade {
    pub from: i64,
    pub sql: &'static str,
}

/// One kind of database this program writes.
pub struct Kind {
    /// What people call it: "catalogue", "snapshot database".
    pub name: &'static str,
    pub schema: &'static str,
    /// `PRAGMA user_version` of `schema`.
    pub version: i64,
    pub foreign_keys: bool,
    /// The steps from older versions, oldest first (none: older files are refused).
    pub upgrades: &'static [Upgrade],
}

/// Turn an SQLite error on `path` into an engine error that says which file it was.
pub fn error<'a>(kind: &'a Kind, path: &'a Path) -> impl Fn(rusqlite::Error) -> Error + 'a {
    move |e| Error::Invalid(format!("{} {}: {e}", kind.name, path.display()))
}

/// Open `path` as a database of `kind`, creating it (with its schema) when it is new and
/// upgrading it when it is of an older version that `kind` knows how to upgrade.
pub fn open(path: &Path, kind: &Kind) -> Result<Connection, Error> {
    let err = error(kind, path);
    let mut conn = Connection::open(path).map_err(&err)?;
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
            // The schema and its version are written in one transaction: a process killed
            // while creating the file leaves an empty file, never tables without a version
            // (which would be refused as "not a catalogue" ever after). The check is repeated
            // under the write lock in case another process created it first.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(&err)?;
            let (tables, now): (i64, i64) = tx
                .query_row(
                    "SELECT (SELECT count(*) FROM sqlite_master), (SELECT user_version FROM pragma_user_version)",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(&err)?;
            if now == 0 {
                if tables > 0 {
                    return Err(Error::Invalid(format!(
                        "{} is an SQLite file but not a {}",
                        path.display(),
                        kind.name
                    )));
                }
                tx.execute_batch(kind.schema).map_err(&err)?;
                tx.pragma_update(None, "user_version", kind.version)
                    .map_err(&err)?;
            }
            tx.commit().map_err(&err)?;
            drop(conn);
            return open(path, kind);
        }
        v if v == kind.version => {}
        v if v > 0 && v < kind.version && kind.upgrades.iter().any(|u| u.from == v) => {
            upgrade(&mut conn, kind).map_err(&err)?;
        }
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

/// Run the upgrade steps from the file's version to `kind.version` in one transaction, so a
/// crash leaves the old version whole. Foreign keys are off meanwhile: a step may rebuild a
/// table others refer to. The version is read again under the write lock, in case another
/// process upgraded the file first.
fn upgrade(conn: &mut Connection, kind: &Kind) -> rusqlite::Result<()> {
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut v: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    while v < kind.version {
        let Some(step) = kind.upgrades.iter().find(|u| u.from == v) else {
            return Err(rusqlite::Error::InvalidQuery);
        };
        tx.execute_batch(step.sql)?;
        v += 1;
    }
    let broken: Option<String> = tx
        .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
        .ok();
    if let Some(table) = broken {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT),
            Some(format!("upgrade left rows in {table} without their parent")),
        ));
    }
    tx.pragma_update(None, "user_version", v)?;
    tx.commit()?;
    if kind.foreign_keys {
        conn.pragma_update(None, "foreign_keys", "ON")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Kind = Kind {
        name: "test database",
        schema: "CREATE TABLE t (x INTEGER);",
        version: 3,
        foreign_keys: true,
        upgrades: &[],
    };

    /// A file whose creation stopped half-way (here: a schema that fails at its second
    /// statement; in life: a scan killed while creating its catalogue) is left empty, so the
    /// next open creates it whole instead of refusing it as "not a catalogue".
    #[test]
    fn creating_the_schema_is_all_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.sqlite");
        let broken = Kind {
            schema: "CREATE TABLE t (x INTEGER); CREATE TABLE t (y INTEGER);",
            ..A
        };
        assert!(open(&p, &broken).is_err());
        let c = open(&p, &A).expect("the half-created file is created again");
        c.execute("INSERT INTO t VALUES (1)", []).unwrap();
    }

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

    #[test]
    fn an_older_file_is_upgraded_in_one_transaction_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.sqlite");
        open(&p, &A)
            .unwrap()
            .execute("INSERT INTO t VALUES (7)", [])
            .unwrap();
        // A step that fails half-way leaves the file as it was.
        let broken = Kind {
            version: 5,
            upgrades: &[
                Upgrade {
                    from: 3,
                    sql: "ALTER TABLE t ADD COLUMN z INTEGER NOT NULL DEFAULT 1;",
                },
                Upgrade {
                    from: 4,
                    sql: "CREATE TABLE u (a); INSERT INTO nowhere VALUES (1);",
                },
            ],
            ..A
        };
        assert!(open(&p, &broken).is_err());
        let c = open(&p, &A).expect("still version 3");
        let cols: i64 = c
            .query_row("SELECT count(*) FROM pragma_table_info('t')", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(cols, 1);
        drop(c);

        let good = Kind {
            version: 4,
            upgrades: &broken.upgrades[..1],
            ..A
        };
        let c = open(&p, &good).unwrap();
        let row: (i64, i64) = c
            .query_row("SELECT x, z FROM t", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert_eq!(row, (7, 1));
        let v: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 4);
        let fk: i64 = c
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1, "foreign keys are on again");
    }
}
