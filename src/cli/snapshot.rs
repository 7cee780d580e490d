//! `seqbox snapshot create | list | recover`: snapshots of ext2/3/4, FAT and NTFS volumes
//! from the command line. Exit codes as everywhere: 0 done (recover: every selected file identical), 1 bad usage, 2
//! otherwise (some file not identical, or an error such as a snapshot of a different disk).

use super::progress::Bar;
use clap::{Args, Subcommand};
use seqbox::engine::CancelFlag;
use seqbox::engine::ext4::recover::{self, RecoverOpts, RecoverReport};
use seqbox::engine::ext4::snapshot::{self, CreateOpts, CreateReport};
use seqbox::engine::ext4::{FileEntry, SnapshotInfo, Snapshots, display_path};
use seqbox::engine::words::{self, Said, Verdict};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum SnapshotCommand {
    /// Record every file of an ext2/3/4, FAT or NTFS image or device: paths, extents and
    /// block digests.
    Create(CreateArgs),
    /// List the snapshots in a snapshot file, and the files under PATH.
    List(ListArgs),
    /// Recover files from an image as they were at a snapshot, verified block by block.
    Recover(RecoverArgs),
}

#[derive(Args)]
pub struct CreateArgs {
    /// Disk image, partition image or device (opened read-only).
    image: PathBuf,
    /// The snapshot file (SQLite); a snapshot is added when it exists.
    #[arg(short, long)]
    output: PathBuf,
    /// Byte offset of the file system (default: 0, or the one Linux partition of a disk).
    #[arg(long)]
    offset: Option<u64>,
    /// Record only where files are, without reading them (fast; cannot verify later).
    #[arg(long)]
    map_only: bool,
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ListArgs {
    snapshot_file: PathBuf,
    /// List the files at or under this path (`/` for all).
    path: Option<String>,
    /// Which snapshot (default: the latest).
    #[arg(long)]
    id: Option<i64>,
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct RecoverArgs {
    snapshot_file: PathBuf,
    /// The image or device to recover from (opened read-only).
    image: PathBuf,
    /// A file or folder to recover (repeat for several; default: everything).
    #[arg(long = "path")]
    paths: Vec<String>,
    /// Folder the files go into, under their snapshot paths (use another disk).
    #[arg(long)]
    out: PathBuf,
    /// Which snapshot (default: the latest).
    #[arg(long)]
    id: Option<i64>,
    /// Byte offset of the file system in the image.
    #[arg(long)]
    offset: Option<u64>,
    /// Also read the whole image looking for moved copies of changed blocks.
    #[arg(long)]
    search_moved: bool,
    /// Replace existing files in the output folder (default: new unique names).
    #[arg(long)]
    overwrite: bool,
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: SnapshotCommand) -> i32 {
    match cmd {
        SnapshotCommand::Create(a) => create(a),
        SnapshotCommand::List(a) => list(a),
        SnapshotCommand::Recover(a) => recover_cmd(a),
    }
}

fn create(a: CreateArgs) -> i32 {
    let opts = CreateOpts {
        image: a.image.clone(),
        offset: a.offset,
        out: a.output.clone(),
        map_only: a.map_only,
    };
    let cancel = CancelFlag::new();
    let r = Bar::counting(&a.image, "files").run(|p| snapshot::create(&opts, &cancel, p));
    super::single(
        "snapshot create",
        r,
        a.json,
        super::unjudged,
        |_| true,
        print_create,
    )
}

fn print_create(r: &CreateReport) {
    println!(
        "snapshot {} of {} file system {}: {} files ({} paths) in {} folders; {} bytes read and fingerprinted ({} files), {} files unchanged since the last snapshot",
        r.snapshot_id,
        r.fs_type,
        r.fs_uuid,
        r.files,
        r.paths,
        r.dirs,
        r.bytes_hashed,
        r.files_hashed,
        r.files_reused
    );
    if r.partition_offset > 0 {
        println!("  file system at byte {} of the image", r.partition_offset);
    }
    if r.may_be_incomplete {
        println!(
            "  warning: the file system was not cleanly unmounted; the snapshot may be incomplete"
        );
    }
    for n in &r.notes {
        println!("  note: {n}");
    }
    for p in &r.problems {
        println!("  problem: {p}");
    }
}

#[derive(Serialize)]
struct Listing {
    snapshots: Vec<SnapshotInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    files: Option<Vec<FileRow>>,
}

#[derive(Serialize)]
struct FileRow {
    path: String,
    ino: u64,
    size: u64,
    mtime_ns: i64,
}

impl From<FileEntry> for FileRow {
    fn from(f: FileEntry) -> FileRow {
        FileRow {
            path: display_path(&f.path),
            ino: f.ino,
            size: f.size,
            mtime_ns: f.mtime_ns,
        }
    }
}

fn list(a: ListArgs) -> i32 {
    let r = (|| {
        let s = Snapshots::open(&a.snapshot_file)?;
        let snapshots = s.list()?;
        let files = match &a.path {
            Some(p) => {
                let id = s.info(a.id)?.id;
                Some(
                    s.files(id, p.as_bytes())?
                        .into_iter()
                        .map(FileRow::from)
                        .collect(),
                )
            }
            None => None,
        };
        Ok(Listing { snapshots, files })
    })();
    super::single(
        "snapshot list",
        r,
        a.json,
        super::unjudged,
        |_| true,
        |l: &Listing| {
            for s in &l.snapshots {
                println!(
                    "snapshot {}: taken {} (unix time), {} file system {}{}, {} files, {} bytes, {} blocks, {}{}",
                    s.id,
                    s.taken_at,
                    s.fs_type,
                    s.fs_uuid,
                    if s.label.is_empty() {
                        String::new()
                    } else {
                        format!(" \"{}\"", s.label)
                    },
                    s.files,
                    s.bytes,
                    if s.block_size % 1024 == 0 {
                        format!("{} KiB", s.block_size / 1024)
                    } else {
                        format!("{}-byte", s.block_size)
                    },
                    if s.fingerprinted {
                        "fingerprinted"
                    } else {
                        "map only"
                    },
                    if s.clean_unmount {
                        ""
                    } else {
                        " (not cleanly unmounted: may be incomplete)"
                    }
                );
            }
            for f in l.files.iter().flatten() {
                println!("{:>14}  {}", f.size, f.path);
            }
        },
    )
}

fn recover_cmd(a: RecoverArgs) -> i32 {
    let opts = RecoverOpts {
        snapshot: a.snapshot_file.clone(),
        snapshot_id: a.id,
        image: a.image.clone(),
        offset: a.offset,
        paths: a.paths.iter().map(|p| p.as_bytes().to_vec()).collect(),
        out_dir: a.out.clone(),
        search_moved: a.search_moved,
        overwrite: a.overwrite,
    };
    let cancel = CancelFlag::new();
    let r = Bar::new(&a.out).run(|p| recover::run(&opts, &cancel, p));
    super::single(
        "snapshot recover",
        r,
        a.json,
        |r: &RecoverReport| {
            let items = said(r);
            let v: Vec<_> = items.iter().map(|s| s.verdict).collect();
            Some((items, words::summary(&v, "files")))
        },
        |_| false,
        print_recover,
    )
}

/// Every selected file's verdict; a path that is not in the snapshot is one that failed.
fn said(r: &RecoverReport) -> Vec<Said> {
    r.files
        .iter()
        .map(words::snapshot_file)
        .chain(r.not_found.iter().map(|p| Said {
            verdict: Verdict::Failed,
            line: format!("{p}: failed — not in the snapshot"),
            details: Vec::new(),
        }))
        .collect()
}

fn print_recover(r: &RecoverReport) {
    let items = said(r);
    for s in &items {
        super::print::said(s);
    }
    let v: Vec<_> = items.iter().map(|s| s.verdict).collect();
    println!("{}", words::summary(&v, "files"));
}
