//! The command line: clap arguments → engine options, progress bars on a terminal, a text
//! or `--json` report, and the exit code (0 all good, 1 bad usage, 2 an operation failed).

mod password;
mod print;
mod progress;
mod snapshot;

use clap::{Args, Parser, Subcommand};
use password::PasswordArgs;
use seqbox::engine::catalog::Catalog;
use seqbox::engine::encode::{EncodeOpts, Target};
use seqbox::engine::words::{self, Said, Verdict};
use seqbox::engine::{
    CancelFlag, Error, calc, check, decode, demo, encode, info, recover, repair, scan,
};
use seqbox::format::block::parse_uid;
use seqbox::format::{HashKind, Version};
use serde::Serialize;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Exit codes live with the verdicts they follow (engine::words).
pub use seqbox::engine::words::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};

#[derive(Parser)]
#[command(
    name = "seqbox",
    version,
    about = "SeqBox Studio: make files survive the loss of their file system",
    long_about = "SeqBox Studio writes and reads SBX containers: a file cut into self-identifying \
blocks that can be found and put back together even when the file system is gone.\n\n\
Exit codes: 0 everything succeeded and verified, 1 bad usage, 2 an operation failed."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
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
    /// Rebuild the containers a scan found into a folder.
    Recover(RecoverArgs),
    /// List the containers in a catalogue: name, size, UID, version, blocks found / expected.
    Catalog(CatalogArgs),
    /// ext4 snapshots: record a file system's files, recover them verified later.
    #[command(subcommand)]
    Snapshot(snapshot::SnapshotCommand),
    /// Show what losing the file system does to files, on a generated floppy image: carving
    /// against SBX recovery.
    Demo(DemoArgs),
    /// Open the desktop app (what `seqbox` alone does) with these files open in it.
    Gui(GuiArgs),
}

#[derive(Args)]
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
struct DemoArgs {
    /// A new or empty folder for the stage images, their catalogues, and the originals,
    /// carved and recovered files.
    #[arg(long)]
    out: PathBuf,
    /// Picks the samples, the fragmentation and the scramble: the same seed gives
    /// byte-identical images.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
    /// Files to use instead of the generated samples; with their SBX copies they must fit on
    /// the 1.44 MB floppy.
    files: Vec<PathBuf>,
}

#[derive(Args)]
struct GuiArgs {
    /// Files to open: a scan catalogue (.sqlite) shows its map and containers, SBX containers
    /// (.sbx, .ecsbx) go to Decode, other files to Encode.
    paths: Vec<PathBuf>,
}

#[derive(Args)]
struct ScanArgs {
    /// The catalogue file (SQLite) to write; a scan into an existing one resumes or adds.
    #[arg(long)]
    catalog: PathBuf,
    #[command(flatten)]
    password: PasswordArgs,
    /// Scan from this byte offset of every source.
    #[arg(long)]
    from: Option<u64>,
    /// Scan up to this byte offset.
    #[arg(long)]
    to: Option<u64>,
    /// Record only the blocks of these containers (UIDs, up to 12 hex digits).
    #[arg(long = "uid")]
    uids: Vec<String>,
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
    /// Disk images or block devices, opened read-only.
    #[arg(required = true)]
    sources: Vec<PathBuf>,
}

#[derive(Args)]
struct RecoverArgs {
    #[arg(long)]
    catalog: PathBuf,
    /// Folder the recovered files go into (created if needed).
    #[arg(long)]
    out: PathBuf,
    /// Every container in the catalogue (the default).
    #[arg(long, conflicts_with_all = ["uid", "name"])]
    all: bool,
    /// Only these containers (UIDs).
    #[arg(long, num_args = 1..)]
    uid: Vec<String>,
    /// Only containers whose stored file name matches one of these patterns (* and ?).
    #[arg(long, num_args = 1..)]
    name: Vec<String>,
    /// Also write files that cannot be completed, with the missing parts zero-filled.
    #[arg(long)]
    partial: bool,
    #[command(flatten)]
    password: PasswordArgs,
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct CatalogArgs {
    /// The catalogue file.
    catalog: PathBuf,
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
}

/// How a file is protected: version and Reed–Solomon settings.
#[derive(Args)]
struct Protection {
    /// SBX version: 17, 18, 19 (512, 128, 4096-byte blocks with Reed–Solomon parity) or
    /// 1, 2, 3 (the original SeqBox's, without parity).
    #[arg(long = "sbx-version", default_value_t = 17, value_parser = parse_version)]
    sbx_version: u8,
    /// Reed–Solomon data shards per block set (versions 17–19).
    #[arg(long = "rs-data", default_value_t = 10)]
    rs_data: usize,
    /// Reed–Solomon parity shards per block set: damaged blocks each set survives.
    #[arg(long = "rs-parity", default_value_t = 2)]
    rs_parity: usize,
    /// Burst resistance: runs of up to this many consecutive damaged blocks cost each block
    /// set at most one shard (0 = no interleaving, max 1000).
    #[arg(long, default_value_t = 12)]
    burst: u32,
}

impl Protection {
    fn version(&self) -> Version {
        Version::from_byte(self.sbx_version).expect("validated by clap")
    }

    fn rs(&self) -> encode::RsParams {
        encode::RsParams {
            data: self.rs_data,
            parity: self.rs_parity,
            burst: self.burst,
        }
    }
}

#[derive(Args)]
struct RepairArgs {
    /// Where the repaired copy goes (default: NAME.repaired.EXT beside the container).
    #[arg(short, long, conflicts_with = "in_place")]
    output: Option<PathBuf>,
    /// Rewrite only the damaged blocks of the container itself.
    #[arg(long)]
    in_place: bool,
    /// Do not ask before repairing in place.
    #[arg(long)]
    yes: bool,
    /// Burst level, when the container does not store it and inference is wrong.
    #[arg(long)]
    burst: Option<u32>,
    /// Replace an existing output file.
    #[arg(long)]
    overwrite: bool,
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
    container: PathBuf,
}

#[derive(Args)]
struct CalcArgs {
    /// File size: bytes, or with a unit (64K, 1.5M, 2G; KB/MB/GB are powers of 1000).
    size: String,
    #[command(flatten)]
    protection: Protection,
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct EncodeArgs {
    #[command(flatten)]
    protection: Protection,
    #[command(flatten)]
    password: PasswordArgs,
    /// Container UID, up to 12 hex digits (default: random).
    #[arg(long)]
    uid: Option<String>,
    /// Hash stored in the metadata: sha1, sha256, sha512, blake2b-256, blake2b-512,
    /// blake2s-128, blake2s-256.
    #[arg(long, default_value = "sha256", value_parser = parse_hash)]
    hash: HashKind,
    /// Write no metadata block (no name, size or hash is stored).
    #[arg(long)]
    no_meta: bool,
    /// Output file, or an existing folder (default: FILE.sbx beside each FILE).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Replace existing output files.
    #[arg(long)]
    overwrite: bool,
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
    /// Files to encode.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Args)]
struct DecodeArgs {
    /// Output file, or an existing folder (default: the stored name, beside the container).
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    password: PasswordArgs,
    /// Burst level of RS containers, when they do not store it and inference is wrong.
    #[arg(long)]
    burst: Option<u32>,
    /// Replace existing output files.
    #[arg(long)]
    overwrite: bool,
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
    /// Containers to decode.
    #[arg(required = true)]
    containers: Vec<PathBuf>,
}

#[derive(Args)]
struct InfoArgs {
    #[command(flatten)]
    password: PasswordArgs,
    /// Burst level of RS containers, when they do not store it and inference is wrong.
    #[arg(long)]
    burst: Option<u32>,
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
    #[arg(required = true)]
    containers: Vec<PathBuf>,
}

#[derive(Args)]
struct CheckArgs {
    #[command(flatten)]
    password: PasswordArgs,
    /// Burst level of RS containers, when they do not store it and inference is wrong.
    #[arg(long)]
    burst: Option<u32>,
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
    #[arg(required = true)]
    containers: Vec<PathBuf>,
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

/// Run the CLI; returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    let Some(command) = cli.command else {
        // Only options (no subcommand): show what the CLI can do.
        let mut cmd = <Cli as clap::CommandFactory>::command();
        let _ = cmd.print_help();
        println!();
        return EXIT_OK;
    };
    match command {
        Command::Encode(a) => run_encode(a),
        Command::Decode(a) => run_decode(a),
        Command::Info(a) => run_info(a),
        Command::Check(a) => run_check(a),
        Command::Repair(a) => run_repair(a),
        Command::Calc(a) => run_calc(a),
        Command::Scan(a) => run_scan(a),
        Command::Recover(a) => run_recover(a),
        Command::Catalog(a) => run_catalog(a),
        Command::Snapshot(c) => snapshot::run(c),
        Command::Demo(a) => run_demo(a),
        Command::Gui(a) => crate::gui::run(a.paths),
    }
}

/// One input's result in a JSON document.
#[derive(Serialize)]
struct Item<R: Serialize> {
    input: PathBuf,
    ok: bool,
    /// The verdict and its words (commands that give files back).
    #[serde(skip_serializing_if = "Option::is_none")]
    verdict: Option<Verdict>,
    #[serde(skip_serializing_if = "Option::is_none")]
    words: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<R>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
struct Document<R: Serialize> {
    command: &'static str,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
    results: Vec<Item<R>>,
}

/// How a command's results are judged: by a verdict per item (decode, check, repair), or
/// only by whether the job ran (encode, info).
type Judge<R> = Option<fn(&R) -> Said>;

/// Run `job` on every input, print each result as text (or all as one JSON document) and
/// return the exit code, which `words` derives from the same verdicts the text shows.
fn for_each<R: Serialize>(
    command: &'static str,
    inputs: &[PathBuf],
    json: bool,
    mut job: impl FnMut(&Path) -> Result<R, Error>,
    judge: Judge<R>,
    text: impl Fn(&R),
) -> i32 {
    let mut results = Vec::new();
    let mut verdicts = Vec::new();
    for input in inputs {
        let item = match job(input) {
            Ok(r) => {
                let said = judge.map(|j| j(&r));
                if !json {
                    text(&r);
                }
                if let Some(s) = &said {
                    verdicts.push(s.verdict);
                }
                Item {
                    input: input.clone(),
                    ok: said.as_ref().is_none_or(|s| s.verdict.is_safe()),
                    verdict: said.as_ref().map(|s| s.verdict),
                    words: said.map(|s| s.line),
                    report: Some(r),
                    error: None,
                }
            }
            Err(e) => {
                if !json {
                    eprintln!("seqbox {command}: {e}");
                }
                let said = judge.map(|_| words::failed(input, &e));
                if let Some(s) = &said {
                    verdicts.push(s.verdict);
                }
                Item {
                    input: input.clone(),
                    ok: false,
                    verdict: said.as_ref().map(|s| s.verdict),
                    words: said.map(|s| s.line),
                    report: None,
                    error: Some(e.to_string()),
                }
            }
        };
        results.push(item);
    }
    let (code, summary) = if judge.is_some() {
        (
            words::exit_code(&verdicts),
            Some(words::summary(&verdicts, "containers")),
        )
    } else if results.iter().all(|r| r.ok) {
        (EXIT_OK, None)
    } else {
        (EXIT_FAILED, None)
    };
    if json {
        let doc = Document {
            command,
            ok: code == EXIT_OK,
            summary,
            results,
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).expect("reports serialise")
        );
    } else if let Some(line) = summary.filter(|_| inputs.len() > 1) {
        println!("{line}");
    }
    code
}

/// `-o`: an existing folder, or (for a single input) a file path.
fn target(output: Option<PathBuf>, inputs: usize) -> Result<Target, String> {
    match output {
        None => Ok(Target::Beside),
        Some(p) if p.is_dir() => Ok(Target::Folder(p)),
        Some(_) if inputs > 1 => Err("with several inputs, -o must be an existing folder".into()),
        Some(p) => Ok(Target::File(p)),
    }
}

fn usage(msg: &str) -> i32 {
    eprintln!("seqbox: {msg}");
    EXIT_USAGE
}

fn run_encode(a: EncodeArgs) -> i32 {
    let output = match target(a.output, a.files.len()) {
        Ok(t) => t,
        Err(m) => return usage(&m),
    };
    let uid = match a.uid.as_deref().map(parse_uid).transpose() {
        Ok(u) => u,
        Err(m) => return usage(&m),
    };
    let password = match a.password.resolve() {
        Ok(p) => p,
        Err(m) => return usage(&m),
    };
    let sbx_time = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(s) => match s.trim().parse::<i64>() {
            Ok(t) => Some(t),
            Err(_) => return usage("SOURCE_DATE_EPOCH must be a whole number of seconds"),
        },
        Err(_) => None,
    };
    let version = a.protection.version();
    let rs = a.protection.rs();
    let cancel = CancelFlag::new();
    for_each(
        "encode",
        &a.files,
        a.json,
        |file| {
            let opts = EncodeOpts {
                input: file.to_path_buf(),
                output: output.clone(),
                version,
                rs,
                uid,
                hash: a.hash,
                no_meta: a.no_meta,
                password: password.clone(),
                overwrite: a.overwrite,
                sbx_time,
            };
            progress::Bar::new(file).run(|p| encode::run(&opts, &cancel, p))
        },
        None,
        print::encode,
    )
}

fn run_decode(a: DecodeArgs) -> i32 {
    let output = match target(a.output, a.containers.len()) {
        Ok(t) => t,
        Err(m) => return usage(&m),
    };
    let from_env = a.password.only_from_env();
    let password = match a.password.resolve() {
        Ok(p) => p,
        Err(m) => return usage(&m),
    };
    let cancel = CancelFlag::new();
    for_each(
        "decode",
        &a.containers,
        a.json,
        |c| {
            password::env_fallback(&password, from_env, |password| {
                let opts = decode::DecodeOpts {
                    container: c.to_path_buf(),
                    output: output.clone(),
                    password,
                    burst: a.burst,
                    overwrite: a.overwrite,
                };
                progress::Bar::new(c).run(|p| decode::run(&opts, &cancel, p))
            })
        },
        Some(words::decode),
        print::decode,
    )
}

fn run_info(a: InfoArgs) -> i32 {
    let password = match a.password.resolve() {
        Ok(p) => p,
        Err(m) => return usage(&m),
    };
    let from_env = a.password.only_from_env();
    for_each(
        "info",
        &a.containers,
        a.json,
        |c| {
            password::env_fallback(&password, from_env, |pw| {
                info::run_with(c, pw.as_deref(), a.burst)
            })
        },
        None,
        print::info,
    )
}

fn run_check(a: CheckArgs) -> i32 {
    let password = match a.password.resolve() {
        Ok(p) => p,
        Err(m) => return usage(&m),
    };
    let from_env = a.password.only_from_env();
    let cancel = CancelFlag::new();
    for_each(
        "check",
        &a.containers,
        a.json,
        |c| {
            password::env_fallback(&password, from_env, |password| {
                let opts = check::CheckOpts {
                    container: c.to_path_buf(),
                    password,
                    burst: a.burst,
                };
                progress::Bar::new(c).run(|p| check::run(&opts, &cancel, p))
            })
        },
        Some(words::check),
        print::check,
    )
}

fn run_repair(a: RepairArgs) -> i32 {
    if a.in_place && !a.yes {
        if !std::io::stdin().is_terminal() {
            return usage("--in-place rewrites the container: confirm with --yes");
        }
        eprint!(
            "Rewrite the damaged blocks of {} in place? [y/N] ",
            a.container.display()
        );
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("seqbox repair: nothing changed");
            return EXIT_FAILED;
        }
    }
    let cancel = CancelFlag::new();
    for_each(
        "repair",
        std::slice::from_ref(&a.container),
        a.json,
        |c| {
            let opts = repair::RepairOpts {
                container: c.to_path_buf(),
                output: a.output.clone(),
                in_place: a.in_place,
                burst: a.burst,
                overwrite: a.overwrite,
            };
            progress::Bar::new(c).run(|p| repair::run(&opts, &cancel, p))
        },
        Some(words::repair),
        print::repair,
    )
}

fn run_calc(a: CalcArgs) -> i32 {
    let size = match calc::parse_size(&a.size) {
        Ok(s) => s,
        Err(m) => return usage(&m),
    };
    let opts = EncodeOpts {
        version: a.protection.version(),
        rs: a.protection.rs(),
        ..EncodeOpts::new("")
    };
    match calc::run(size, &opts) {
        Ok(r) => {
            if a.json {
                println!("{}", serde_json::to_string_pretty(&r).expect("serialises"));
            } else {
                print::calc(&r);
            }
            EXIT_OK
        }
        Err(m) => usage(&m),
    }
}

/// Print one report as text or as a JSON document; return the exit code. `judge` gives
/// the verdict of each item the report holds (recover, snapshot recover): exit 0 only when
/// all are safe, and the JSON carries them with the summary line. Reports without items
/// (scan, catalog, demo) are judged by `ok`. A job that could not run exits 2.
fn single<R: Serialize>(
    command: &'static str,
    result: Result<R, Error>,
    json: bool,
    judge: impl Fn(&R) -> Option<(Vec<Said>, String)>,
    ok: impl Fn(&R) -> bool,
    text: impl Fn(&R),
) -> i32 {
    match result {
        Ok(r) => {
            let judged = judge(&r);
            let good = match &judged {
                Some((items, _)) => {
                    words::all_safe(&items.iter().map(|s| s.verdict).collect::<Vec<_>>())
                }
                None => ok(&r),
            };
            if json {
                let doc = match judged {
                    Some((items, summary)) => serde_json::json!({
                        "command": command, "ok": good, "summary": summary,
                        "items": items, "report": r
                    }),
                    None => serde_json::json!({ "command": command, "ok": good, "report": r }),
                };
                println!(
                    "{}",
                    serde_json::to_string_pretty(&doc).expect("serialises")
                );
            } else {
                text(&r);
            }
            if good { EXIT_OK } else { EXIT_FAILED }
        }
        Err(e) => {
            if json {
                let doc =
                    serde_json::json!({ "command": command, "ok": false, "error": e.to_string() });
                println!(
                    "{}",
                    serde_json::to_string_pretty(&doc).expect("serialises")
                );
            } else {
                eprintln!("seqbox {command}: {e}");
            }
            EXIT_FAILED
        }
    }
}

/// No verdicts: the report is judged as a whole.
fn unjudged<R>(_: &R) -> Option<(Vec<Said>, String)> {
    None
}

fn run_scan(a: ScanArgs) -> i32 {
    let password = match a.password.resolve() {
        Ok(p) => p,
        Err(m) => return usage(&m),
    };
    let uids = match a
        .uids
        .iter()
        .map(|u| parse_uid(u))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(u) => u,
        Err(m) => return usage(&m),
    };
    let opts = scan::ScanOpts {
        sources: a.sources.clone(),
        catalog: a.catalog.clone(),
        password,
        from: a.from,
        to: a.to,
        uids,
    };
    let cancel = CancelFlag::new();
    let r = progress::Bar::counting(&a.catalog, "SBX blocks found")
        .run(|p| scan::run(&opts, &cancel, p));
    single("scan", r, a.json, unjudged, |_| true, print::scan)
}

fn run_recover(a: RecoverArgs) -> i32 {
    let password = match a.password.resolve() {
        Ok(p) => p,
        Err(m) => return usage(&m),
    };
    let select = if !a.uid.is_empty() {
        match a
            .uid
            .iter()
            .map(|u| parse_uid(u))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(u) => recover::Selection::Uids(u),
            Err(m) => return usage(&m),
        }
    } else if !a.name.is_empty() {
        recover::Selection::Names(a.name.clone())
    } else {
        recover::Selection::All
    };
    let opts = recover::RecoverOpts {
        catalog: a.catalog.clone(),
        out_dir: a.out.clone(),
        select,
        partial: a.partial,
        password,
    };
    let cancel = CancelFlag::new();
    let r = progress::Bar::new(&a.out).run(|p| recover::run(&opts, &cancel, p));
    single(
        "recover",
        r,
        a.json,
        |r: &recover::RecoverReport| {
            let items: Vec<Said> = r.results.iter().map(words::recovered).collect();
            let v: Vec<_> = items.iter().map(|s| s.verdict).collect();
            Some((items, words::summary(&v, "files")))
        },
        |_| false,
        print::recover,
    )
}

fn run_demo(a: DemoArgs) -> i32 {
    let opts = demo::DemoOpts {
        out_dir: a.out.clone(),
        seed: a.seed,
        files: a.files,
    };
    let cancel = CancelFlag::new();
    let r = progress::Bar::new(&a.out).run(|p| demo::run(&opts, &cancel, p));
    single(
        "demo",
        r,
        a.json,
        unjudged,
        demo::DemoReport::success,
        print::demo,
    )
}

fn run_catalog(a: CatalogArgs) -> i32 {
    let r = Catalog::open_existing(&a.catalog).and_then(|c| Ok((c.sources()?, c.containers()?)));
    single(
        "catalog",
        r.map(|(sources, containers)| {
            serde_json::json!({ "sources": sources, "containers": containers })
        }),
        a.json,
        unjudged,
        |_| true,
        print::catalog,
    )
}
