//! The command line: clap arguments → engine options, progress bars on a terminal, a text
//! or `--json` report, and the exit code (0 all good, 1 bad usage, 2 an operation failed).
//!
//! - `args.rs`: the clap structures; `commands.rs`: one `run_*` per command; `shell.rs`:
//!   completions and man pages made from the clap structures;
//! - here: [`main`], and the two ways a command reports — `for_each` (one result per input)
//!   and `single` (one report) — which derive the exit code from the same verdicts the
//!   text or JSON shows.

mod args;
mod commands;
mod password;
mod print;
mod progress;
mod shell;
mod snapshot;

use args::{Cli, Command};
use clap::Parser;
use commands::{
    run_calc, run_catalog, run_check, run_decode, run_demo, run_encode, run_import, run_info,
    run_recover, run_repair, run_scan,
};
use seqbox::engine::Error;
use seqbox::engine::words::{self, Said, Verdict};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Exit codes live with the verdicts they follow (engine::words).
pub use seqbox::engine::words::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};

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
        Command::Import(a) => run_import(a),
        Command::Recover(a) => run_recover(a),
        Command::Catalog(a) => run_catalog(a),
        Command::Snapshot(c) => snapshot::run(c),
        Command::Demo(a) => run_demo(a),
        Command::Gui(a) => seqbox::gui::run(a.paths),
        Command::Completions(a) => shell::run_completions(a),
        Command::Manpages(a) => shell::run_manpages(a),
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
