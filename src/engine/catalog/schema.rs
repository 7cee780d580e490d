//! The catalogue's SQL: the schema a new catalogue gets, and the steps that bring an older
//! catalogue up to it when it is opened. Documented in docs/CATALOG.md; an upgrade never
//! drops data a recovery could use.

use crate::engine::sqlite::Upgrade;

/// Schema version stored in `PRAGMA user_version`.
pub const SCHEMA_VERSION: i64 = 3;

/// The source table (named `$name`): one row per scanned image or device.
macro_rules! source_table {
    ($name:literal) => {
        concat!(
            "CREATE TABLE ",
            $name,
            " (
    id          INTEGER PRIMARY KEY,
    path        BLOB NOT NULL,
    size        INTEGER NOT NULL,
    kind        INTEGER NOT NULL,
    device      INTEGER NOT NULL DEFAULT 0,
    inode       INTEGER NOT NULL DEFAULT 0,
    mtime_ns    INTEGER,
    fingerprint TEXT NOT NULL,
    scan_from   INTEGER NOT NULL DEFAULT 0,
    scanned_to  INTEGER NOT NULL DEFAULT 0,
    scan_end    INTEGER NOT NULL DEFAULT 0,
    complete    INTEGER NOT NULL DEFAULT 0,
    changed_during_scan INTEGER NOT NULL DEFAULT 0
);
"
        )
    };
}

/// The block-run table (named `$name`): runs of valid blocks lying one right after the
/// other that are consecutive slots of one container geometry (version, M, P, B; 1 + 0,
/// B = 0 puts sequence number n in slot n).
macro_rules! block_run_table {
    ($name:literal) => {
        concat!(
            "CREATE TABLE ",
            $name,
            " (
    source_id   INTEGER NOT NULL REFERENCES source(id),
    offset      INTEGER NOT NULL,
    end_offset  INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    uid         INTEGER NOT NULL,
    slot        INTEGER NOT NULL,
    data        INTEGER NOT NULL,
    parity      INTEGER NOT NULL,
    burst       INTEGER NOT NULL,
    password    INTEGER NOT NULL,
    PRIMARY KEY (source_id, offset)
) WITHOUT ROWID;
"
        )
    };
}

/// Indexes of the source table, and the table of damaged-block candidates: blocks with the
/// signature and a plausible header whose CRC fails, with what their header claims and the
/// evidence (0 = none yet) that they belonged to a container.
macro_rules! new_in_v2 {
    () => {
        "
CREATE INDEX source_by_path ON source (path);
CREATE INDEX source_by_file ON source (device, inode);
CREATE TABLE damaged_block (
    source_id   INTEGER NOT NULL REFERENCES source(id),
    offset      INTEGER NOT NULL,
    end_offset  INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    uid         INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    password    INTEGER NOT NULL,
    evidence    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (source_id, offset)
) WITHOUT ROWID;
CREATE INDEX damaged_block_by_uid ON damaged_block (uid);
"
    };
}

pub const SCHEMA: &str = concat!(
    source_table!("source"),
    "
",
    block_run_table!("block_run"),
    "
CREATE INDEX block_run_by_container ON block_run (uid, version);
CREATE TABLE metadata (
    source_id   INTEGER NOT NULL REFERENCES source(id),
    offset      INTEGER NOT NULL,
    uid         INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    payload     BLOB NOT NULL,
    file_name   TEXT,
    sbx_name    TEXT,
    file_size   INTEGER,
    file_time   INTEGER,
    sbx_time    INTEGER,
    rs_data     INTEGER,
    rs_parity   INTEGER,
    burst       INTEGER,
    PRIMARY KEY (source_id, offset)
) WITHOUT ROWID;
CREATE INDEX metadata_by_container ON metadata (uid, version);
CREATE TABLE layout_run (
    source_id    INTEGER NOT NULL REFERENCES source(id),
    start_sector INTEGER NOT NULL,
    sectors      INTEGER NOT NULL,
    class        INTEGER NOT NULL,
    uid          INTEGER,
    PRIMARY KEY (source_id, start_sector)
) WITHOUT ROWID;
",
    new_in_v2!()
);

/// Version 1 → 2: paths as raw bytes; sources identified by their file and a content
/// fingerprint instead of size + first/last MiB. Old rows keep their identity as the
/// fingerprint with kind 3 ("catalogued by version 1"), so a new scan of them starts afresh;
/// their layout runs (damaged ones too) stay as they were.
const V1_TO_V2: &str = concat!(
    source_table!("source_v2"),
    "
INSERT INTO source_v2 (id, path, size, kind, fingerprint, scan_from, scanned_to, scan_end, complete)
    SELECT id, CAST(path AS BLOB), size, 3, identity, scan_from, scanned_to, scan_end, complete
    FROM source;
DROP TABLE source;
ALTER TABLE source_v2 RENAME TO source;
",
    new_in_v2!()
);

/// Version 2 → 3: block runs become runs of container slots. A version-2 run of sequence
/// numbers n, n + 1, … is slots n, n + 1, … of the plain geometry (where slot = sequence
/// number); a run with another step becomes one row per block. Rows no scan writes (more
/// blocks than a run held then) are kept as they are, for the queries to call damaged.
/// Layout runs stay: classes 2–4 are drawn as stored, class 5 from the block runs.
const V2_TO_V3: &str = concat!(
    block_run_table!("block_run_v3"),
    "
INSERT INTO block_run_v3
    SELECT source_id, offset, end_offset, count, version, uid, seq, 1, 0, 0, password
    FROM block_run WHERE count = 1 OR (seq_step = 1 AND seq >= 1) OR count > 262144;
WITH RECURSIVE b(source_id, offset, size, version, uid, seq, step, left, password) AS (
        SELECT source_id, offset, (end_offset - offset) / count, version, uid, seq, seq_step,
            count, password
        FROM block_run WHERE count > 1 AND NOT (seq_step = 1 AND seq >= 1) AND count <= 262144
        UNION ALL
        SELECT source_id, offset + size, size, version, uid, seq + step, step, left - 1, password
        FROM b WHERE left > 1)
INSERT INTO block_run_v3
    SELECT source_id, offset, offset + size, 1, version, uid, seq, 1, 0, 0, password FROM b
    WHERE seq >= 0;
DROP TABLE block_run;
ALTER TABLE block_run_v3 RENAME TO block_run;
CREATE INDEX block_run_by_container ON block_run (uid, version);
"
);

pub const UPGRADES: &[Upgrade] = &[
    Upgrade {
        from: 1,
        sql: V1_TO_V2,
    },
    Upgrade {
        from: 2,
        sql: V2_TO_V3,
    },
];
