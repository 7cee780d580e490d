//! The command line's arguments: clap structures for every command, and the parsers of
//! their values (SBX version, hash kind). Only what clap reads; what a command does with
//! its arguments is in `commands.rs`. Never runs a job.

use super::password::PasswordArgs;
use super::snapshot::SnapshotCommand;
use clap::{Args, Parser, Subcommand};
use seqbox::engine::encode;
use seqbox::format::{HashKind, Version};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "seqbox",
    version,
    about = "SeqBox Studio: make files survive the loss of their file system",
    long_about = "SeqBox Studio writes and reads SBX containers: a file cut into self-identifying \
blocks that can be found and put back together even when the file system is gone.\n\n\
Exit codes: 0 everything succeeded and verified, 1 bad usage, 2 an operation failed."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Encode files into SBX containers.
    Encode(EncodeArgs),
    /// Decode SBX containers back into the original files, verified against their hash.
    Decode(DecodeArgs),
    /// Show what a container says about itself (name, size, dates, hash, version, UID).
    Info(InfoArgs),
    /// Check every block's CRC and the stored hash, without writing anything.
    Check(CheckArgs),
    /// Rebuild damaged blocks of a Reed–Solomon container (versions 17–19).
    Repair(RepairArgs),
    /// Show the container size and the damage a configuration survives, in plain words.
    Calc(CalcArgs),
    /// Scan disk images or devices (read-only) for SBX blocks into a catalogue.
    Scan(ScanArgs),
    /// Turn the databases of the original SBXScan (sbxscan.py) into a catalogue, checking
    /// every block they list against the image.
    Import(ImportArgs),
    /// Rebuild the containers a scan found into a folder.
    Recover(RecoverArgs),
    /// List the containers in a catalogue: name, size, UID, version, blocks found / expected.
    Catalog(CatalogArgs),
    /// Snapshots of ext2/3/4, FAT and NTFS disks: record where every file lies, recover it
    /// verified later.
    #[command(subcommand)]
    Snapshot(SnapshotCommand),
    /// Show what losing the file system does to files, on a generated floppy image: carving
    /// against SBX recovery.
    // The long help sits on the variant: a variant's doc comment would replace one on the args.
    #[command(
        long_about = "Puts files and their SBX copies on a generated 1.44 MB FAT12 floppy that \
earlier deletions left fragmented, then wipes its file system and scrambles its sectors. Each \
stage is written as an image with its scan catalogue (open one with `seqbox gui` to see its \
block map); then a signature carver and an SBX recovery try to get the files back, and the \
results are compared with the originals. Never touches a real disk.\n\n\
Exit codes: 0 every file came back from its SBX copy bit-exact, 1 bad arguments, 2 otherwise \
(some file did not come back, or the demo could not run: output folder not empty, files too \
big, a write error)."
    )]
    Demo(DemoArgs),
    /// Open the desktop app (what `seqbox` alone does) with these files open in it.
    Gui(GuiArgs),
    /// Print a completion script for a shell: `source <(seqbox completions bash)`.
    #[command(
        long_about = "Prints a completion script for SHELL on standard output, made from the same \
    definitions as the options themselves. Load it for this session with \
    `source <(seqbox completions bash)`, or install it where the shell looks: \
    /usr/share/bash-completion/completions/seqbox, \
    /usr/share/zsh/vendor-completions/_seqbox, \
    /usr/share/fish/vendor_completions.d/seqbox.fish (the .deb does)."
    )]
    Completions(CompletionsArgs),
    /// Write the man pages (seqbox.1 and one per command) into a folder.
    Manpages(ManpagesArgs),
}

#[derive(Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    pub shell: clap_complete::Shell,
}

#[derive(Args)]
pub struct ManpagesArgs {
    /// Folder for seqbox.1 and the seqbox-COMMAND.1 pages (created if needed).
    pub dir: PathBuf,
}

#[derive(Args)]
pub struct DemoArgs {
    /// A new or empty folder for the stage images, their catalogues, and the originals,
    /// carved and recovered files.
    #[arg(long)]
    pub out: PathBuf,
    /// Picks the samples, the fragmentation and the scramble: the same seed gives
    /// byte-identical images.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
    /// Files to use instead of the generated samples; with their SBX copies they must fit on
    /// the 1.44 MB floppy.
    pub files: Vec<PathBuf>,
}

#[derive(Args)]
pub struct GuiArgs {
    /// Files to open: a snapshot (.snapshot.sqlite) or an ext2/3/4, FAT or NTFS disk image opens in
    /// Snapshot, a scan catalogue (.sqlite) shows its map and containers, SBX containers
    /// (.sbx, .ecsbx) go to Decode, other files to Encode.
    pub paths: Vec<PathBuf>,
}

#[derive(Args)]
pub struct ScanArgs {
    /// The catalogue file (SQLite) to write; a scan into an existing one resumes or adds.
    #[arg(long)]
    pub catalog: PathBuf,
    #[command(flatten)]
    pub password: PasswordArgs,
    /// Scan from this byte offset of every source.
    #[arg(long)]
    pub from: Option<u64>,
    /// Scan up to this byte offset.
    #[arg(long)]
    pub to: Option<u64>,
    /// Record only the blocks of these containers (UIDs, up to 12 hex digits).
    #[arg(long = "uid")]
    pub uids: Vec<String>,
    /// Print one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
    /// Disk images or block devices, opened read-only.
    #[arg(required = true)]
    pub sources: Vec<PathBuf>,
}

#[derive(Args)]
pub struct ImportArgs {
    /// The catalogue file (SQLite) to write; an import into an existing one adds its sources
    /// (a source a scan already read is left as the scan found it).
    #[arg(long)]
    pub catalog: PathBuf,
    /// The folder the original's scan ran in (its source names are relative to it); default:
    /// the folder of each database.
    #[arg(long)]
    pub base: Option<PathBuf>,
    #[command(flatten)]
    pub password: PasswordArgs,
    /// Print one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
    /// The original's databases (sbxscan.db3): several when it was run once per version.
    #[arg(required = true)]
    pub databases: Vec<PathBuf>,
}

#[derive(Args)]
pub struct RecoverArgs {
    #[arg(long)]
    pub catalog: PathBuf,
    /// Folder the recovered files go into (created if needed).
    #[arg(long)]
    pub out: PathBuf,
    /// Every container in the catalogue (the default).
    #[arg(long, conflicts_with_all = ["uid", "name"])]
    pub all: bool,
    /// Only these containers (UIDs).
    #[arg(long, num_args = 1..)]
    pub uid: Vec<String>,
    /// Only containers whose stored file name matches one of these patterns (* and ?).
    #[arg(long, num_args = 1..)]
    pub name: Vec<String>,
    /// Also write files that cannot be completed, with the missing parts zero-filled.
    #[arg(long)]
    pub partial: bool,
    #[command(flatten)]
    pub password: PasswordArgs,
    /// Print one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct CatalogArgs {
    /// The catalogue file.
    pub catalog: PathBuf,
    /// Print one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}

/// How a file is protected: version and Reed–Solomon settings.
#[derive(Args)]
pub struct Protection {
    /// SBX version: 17, 18, 19 (512, 128, 4096-byte blocks with Reed–Solomon parity) or
    /// 1, 2, 3 (the original SeqBox's, without parity).
    #[arg(long = "sbx-version", default_value_t = 17, value_parser = parse_version)]
    pub sbx_version: u8,
    /// Reed–Solomon data shards per block set (versions 17–19).
    #[arg(long = "rs-data", default_value_t = 10)]
    pub rs_data: usize,
    /// Reed–Solomon parity shards per block set: damaged blocks each set survives.
    #[arg(long = "rs-parity", default_value_t = 2)]
    pub rs_parity: usize,
    /// Burst resistance: runs of up to this many consecutive damaged blocks cost each block
    /// set at most one shard (0 = no interleaving, max 1000).
    #[arg(long, default_value_t = 12)]
    pub burst: u32,
}

impl Protection {
    pub fn version(&self) -> Version {
        Version::from_byte(self.sbx_version).expect("validated by clap")
    }

    pub fn rs(&self) -> encode::RsParams {
        encode::RsParams {
            data: self.rs_data,
            parity: self.rs_parity,
            burst: self.burst,
        }
    }
}

#[derive(Args)]
pub struct RepairArgs {
    /// Where the repaired copy goes (default: NAME.repaired.EXT beside the container).
    #[arg(short, long, conflicts_with = "in_place")]
    pub output: Option<PathBuf>,
    /// Rewrite only the damaged blocks of the container itself.
    #[arg(long)]
    pub in_place: bool,
    /// Do not ask before repairing in place.
    #[arg(long)]
    pub yes: bool,
    /// Burst level, when the container does not store it and inference is wrong.
    #[arg(long)]
    pub burst: Option<u32>,
    /// Replace an existing output file.
    #[arg(long)]
    pub overwrite: bool,
    /// Print one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
    pub container: PathBuf,
}

#[derive(Args)]
pub struct CalcArgs {
    /// File size: bytes, or with a unit (64K, 1.5M, 2G; KB/MB/GB are powers of 1000).
    pub size: String,
    #[command(flatten)]
    pub protection: Protection,
    /// Print one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct EncodeArgs {
    #[command(flatten)]
    pub protection: Protection,
    #[command(flatten)]
    pub password: PasswordArgs,
    /// Container UID, up to 12 hex digits (default: random).
    #[arg(long)]
    pub uid: Option<String>,
    /// Hash stored in the metadata: sha1, sha256, sha512, blake2b-256, blake2b-512,
    /// blake2s-128, blake2s-256.
    #[arg(long, default_value = "sha256", value_parser = parse_hash)]
    pub hash: HashKind,
    /// Write no metadata block (no name, size or hash is stored).
    #[arg(long)]
    pub no_meta: bool,
    /// Output file, or an existing folder (default: FILE.sbx beside each FILE).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// The file name stored in the container (default: the input's name; none when reading
    /// standard input).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Replace existing output files.
    #[arg(long)]
    pub overwrite: bool,
    /// Print one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
    /// Files to encode; `-` reads standard input (with -o OUT.sbx), e.g.
    /// `tar c photos | seqbox encode -o photos.tar.sbx -`.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Args)]
pub struct DecodeArgs {
    /// Output file, or an existing folder (default: the stored name, beside the container).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub password: PasswordArgs,
    /// Burst level of RS containers, when they do not store it and inference is wrong.
    #[arg(long)]
    pub burst: Option<u32>,
    /// Replace existing output files.
    #[arg(long)]
    pub overwrite: bool,
    /// Print one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
    /// Containers to decode.
    #[arg(required = true)]
    pub containers: Vec<PathBuf>,
}

#[derive(Args)]
pub struct InfoArgs {
    #[command(flatten)]
    pub password: PasswordArgs,
    /// Burst level of RS containers, when they do not store it and inference is wrong.
    #[arg(long)]
    pub burst: Option<u32>,
    /// Print one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
    #[arg(required = true)]
    pub containers: Vec<PathBuf>,
}

#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub password: PasswordArgs,
    /// Burst level of RS containers, when they do not store it and inference is wrong.
    #[arg(long)]
    pub burst: Option<u32>,
    /// Print one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
    #[arg(required = true)]
    pub containers: Vec<PathBuf>,
}

fn parse_version(s: &str) -> Result<u8, String> {
    match s.parse::<u8>().ok().and_then(Version::from_byte) {
        Some(v) => Ok(v.byte()),
        _ => Err("supported versions are 1, 2, 3, 17, 18 and 19".into()),
    }
}

fn parse_hash(s: &str) -> Result<HashKind, String> {
    HashKind::from_name(s).ok_or_else(|| {
        let names: Vec<_> = HashKind::ALL.iter().map(|k| k.name()).collect();
        format!("unknown hash; choose one of {}", names.join(", "))
    })
}
