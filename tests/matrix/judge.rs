//! Run one case through the engine (decode and check of a container file or image; scan +
//! recover of images) and, for a sample, through the real binary with `--json`; compare
//! each outcome with the oracle's; and tally the table.

use super::art::{Artefact, UID};
use super::oracle::{self, Expect, Reader, show};
use super::scenario::{self, Scenario};
use super::{Case, Kind};
use seqbox::engine::CancelFlag;
use seqbox::engine::assemble::{Assembly, MissingRange};
use seqbox::engine::check::{self, CheckOpts};
use seqbox::engine::decode::{self, DecodeOpts};
use seqbox::engine::encode::Target;
use seqbox::engine::recover::{self, RecoverOpts, Selection};
use seqbox::engine::scan::{self, ScanOpts};
use seqbox::format::block::uid_hex;
use std::collections::BTreeMap;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use seqbox::engine::assemble::LIST_LIMIT;

/// How one path of one case came out.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// The maths allows it, and the file came back bit-exact with success.
    Exact,
    /// A failure that listed exactly the missing byte ranges.
    Reported,
    /// A failure where no exact answer exists.
    Refused,
    /// A plain container whose metadata left no trace came back as one made without
    /// metadata: every data block, the last one's padding kept, "no metadata" said.
    AsNoMeta,
    /// Where no exact answer exists for our file, an older version with the same UID came
    /// back whole instead (verified against its own metadata): a file that was on the disk,
    /// not a wrong one.
    OlderVersion,
    /// Anything else: `what` is silent (success with wrong bytes), lost (the maths allows it,
    /// the tool failed), inexact (missing ranges not the oracle's), error, or panic.
    Wrong { what: &'static str, detail: String },
}

fn wrong(what: &'static str, detail: impl Into<String>) -> Outcome {
    Outcome::Wrong {
        what,
        detail: detail.into(),
    }
}

pub struct PathRun {
    pub path: String,
    pub expect: Expect,
    pub outcome: Outcome,
}

pub struct CaseResult {
    pub case: Case,
    pub runs: Vec<PathRun>,
}

/// Run `case` on every path it has; `cli` adds the real binary; `verbose` prints where every
/// block copy lies.
pub fn run(case: &Case, cli: bool, verbose: bool) -> CaseResult {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sc = scenario::build(case, d);
    let mut runs = Vec::new();
    let files: Vec<PathBuf> = sc.artefacts.iter().map(|a| a.write(d)).collect();
    if verbose {
        println!("artefacts in {}", d.display());
        for a in &sc.artefacts {
            println!("{}", a.describe());
        }
    }
    // Two versions in one image are two containers for a reader of the image: only scan +
    // recover gets to choose.
    if case.kind != Kind::ImageStale {
        let aligned = sc
            .artefacts
            .iter()
            .zip(&files)
            .filter(|(a, _)| !a.misaligned);
        for (i, (a, f)) in aligned.enumerate() {
            let c = oracle::copies(&sc.new, &[a], Reader::Aligned);
            let expect = oracle::expect(&sc.new, &c);
            let out = d.join(format!("decoded-{i}"));
            let mut push = |path: &str, outcome: Outcome| {
                runs.push(PathRun {
                    path: format!("{path} {}", a.name),
                    expect: expect.clone(),
                    outcome,
                });
            };
            push("decode", judge_decode(&sc, &expect, f, &out));
            push("check", judge_check(&sc, &expect, f));
            if cli && !case.kind.on_images() {
                push("cli decode", cli_decode(&sc, &expect, f, d));
            }
        }
    }
    if case.kind.on_images() {
        let arts: Vec<&Artefact> = sc.artefacts.iter().collect();
        let c = oracle::copies(&sc.new, &arts, Reader::Anywhere);
        let expect = oracle::expect(&sc.new, &c);
        let outcome = judge_recover(&sc, &expect, &files, d);
        runs.push(PathRun {
            path: "scan+recover".into(),
            expect: expect.clone(),
            outcome,
        });
        if cli {
            let outcome = cli_recover(&sc, &expect, &files, d);
            runs.push(PathRun {
                path: "cli scan+recover".into(),
                expect,
                outcome,
            });
        }
    }
    if verbose {
        // Keep the files, and the originals, for a closer look.
        std::fs::write(d.join("original.bin"), &sc.new.data).unwrap();
        std::fs::write(d.join("original.sbx"), &sc.new.bytes).unwrap();
        if let Some(old) = &sc.old {
            std::fs::write(d.join("older.sbx"), &old.bytes).unwrap();
        }
        let _ = dir.keep();
    }
    CaseResult {
        case: case.clone(),
        runs,
    }
}

/// Run engine code, turning a panic into an error message.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into())
    })
}

/// The engine's missing ranges, merged.
fn merged(list: &[MissingRange]) -> Vec<Range<u64>> {
    let mut r: Vec<Range<u64>> = list.iter().map(|m| m.byte_start..m.byte_end).collect();
    r.sort_by_key(|r| r.start);
    let mut out: Vec<Range<u64>> = Vec::new();
    for x in r {
        match out.last_mut() {
            Some(last) if last.end >= x.start => last.end = last.end.max(x.end),
            _ => out.push(x),
        }
    }
    out
}

/// Compare a failure's account with the oracle's missing ranges.
fn judge_missing(want: &[Range<u64>], a: &Assembly, payload: u64) -> Outcome {
    let got = merged(&a.missing);
    let blocks: u64 = want
        .iter()
        .map(|r| r.end.div_ceil(payload) - r.start / payload)
        .sum();
    // Lists stop at LIST_LIMIT entries (every block is still counted).
    let listed = if a.missing.len() >= LIST_LIMIT {
        &want[..got.len().min(want.len())]
    } else {
        want
    };
    if got == listed && a.missing_blocks == blocks {
        Outcome::Reported
    } else {
        wrong(
            "inexact",
            format!(
                "missing {} ({} blocks), oracle {} ({blocks} blocks)",
                show(&got),
                a.missing_blocks,
                show(want)
            ),
        )
    }
}

/// The verdict on a run that ended in `success` with `bytes` written (if any).
fn judge_end(
    sc: &Scenario,
    expect: &Expect,
    success: bool,
    bytes: Option<Vec<u8>>,
    account: impl FnOnce() -> Outcome,
    what: impl Fn() -> String,
) -> Outcome {
    let data = &sc.new.data;
    let exact = success && bytes.as_deref() == Some(&data[..]);
    match expect {
        _ if exact => Outcome::Exact,
        Expect::LikeNoMeta if success && bytes.as_deref().is_some_and(|b| like_no_meta(sc, b)) => {
            Outcome::AsNoMeta
        }
        Expect::LikeNoMeta if !success => Outcome::Refused,
        _ if success => {
            let older = sc
                .old
                .as_ref()
                .is_some_and(|o| bytes.as_deref() == Some(&o.data[..]));
            match expect {
                Expect::Refuse(_, false) if older => Outcome::OlderVersion,
                Expect::Refuse(_, true) if older => wrong(
                    "silent",
                    format!(
                        "the older version came back, and ours — whole too — is not mentioned: {}",
                        what()
                    ),
                ),
                _ => wrong("silent", format!("success with wrong bytes: {}", what())),
            }
        }
        Expect::Exact => wrong("lost", what()),
        Expect::Missing(_) => account(),
        Expect::Refuse(..) => Outcome::Refused,
        Expect::LikeNoMeta => wrong("silent", format!("success with wrong bytes: {}", what())),
    }
}

/// What a container without metadata decodes to: every payload whole — the file's bytes,
/// then whatever its last block holds past the file's end (padding, or an older encoding's
/// bytes where only its copy of that block is left: without the size, no reader can know).
fn like_no_meta(sc: &Scenario, got: &[u8]) -> bool {
    let payload = sc.new.layout.version.payload_size();
    let data = &sc.new.data;
    got.len() == data.len().div_ceil(payload) * payload && got.starts_with(data)
}

fn judge_decode(sc: &Scenario, expect: &Expect, file: &Path, out: &Path) -> Outcome {
    let opts = DecodeOpts {
        output: Target::File(out.to_path_buf()),
        ..DecodeOpts::new(file)
    };
    let r = match guarded(|| decode::run(&opts, &CancelFlag::new(), &|_| {})) {
        Err(p) => return wrong("panic", p),
        Ok(Err(e)) if matches!(expect, Expect::Refuse(..) | Expect::LikeNoMeta) => {
            let _ = e;
            return Outcome::Refused;
        }
        Ok(Err(e)) => return wrong("error", e.to_string()),
        Ok(Ok(r)) => r,
    };
    let bytes = r.output.as_ref().map(|p| std::fs::read(p).unwrap());
    let payload = sc.new.layout.version.payload_size() as u64;
    judge_end(
        sc,
        expect,
        r.success(),
        bytes,
        || match expect {
            Expect::Missing(want) => judge_missing(want, &r.assembly, payload),
            _ => unreachable!(),
        },
        || describe(&format!("{:?}", r.status), &r.assembly, &r.notes),
    )
}

fn judge_check(sc: &Scenario, expect: &Expect, file: &Path) -> Outcome {
    let opts = CheckOpts::new(file);
    let r = match guarded(|| check::run(&opts, &CancelFlag::new(), &|_| {})) {
        Err(p) => return wrong("panic", p),
        Ok(Err(_)) if matches!(expect, Expect::Refuse(..) | Expect::LikeNoMeta) => {
            return Outcome::Refused;
        }
        Ok(Err(e)) => return wrong("error", e.to_string()),
        Ok(Ok(r)) => r,
    };
    let payload = sc.new.layout.version.payload_size() as u64;
    // Check writes nothing: "the data is safe" is a complete reassembly whose hash matched;
    // `ok` (nothing damaged at all) must never be said of data that is not.
    let safe = r.assembly.complete() && r.assembly.hash_ok();
    let what = || describe(&format!("ok {}", r.ok), &r.assembly, &[]);
    match expect {
        // Where no exact answer had to exist, a verified hash still proves the data right
        // (an older parity block in its place that nothing needed, say).
        Expect::Exact | Expect::Refuse(..) if safe => Outcome::Exact,
        Expect::LikeNoMeta if r.success() => Outcome::AsNoMeta,
        Expect::LikeNoMeta => Outcome::Refused,
        Expect::Exact => wrong("lost", what()),
        _ if r.ok => wrong("silent", format!("check ok: {}", what())),
        Expect::Missing(want) => judge_missing(want, &r.assembly, payload),
        Expect::Refuse(..) => Outcome::Refused,
    }
}

fn describe(status: &str, a: &Assembly, notes: &[String]) -> String {
    format!(
        "{status}; missing {} ({} blocks); hash {:?}; repaired {} failed {} sets; misplaced {}, duplicates {}, damaged {}; {}",
        show(&merged(&a.missing)),
        a.missing_blocks,
        a.hash,
        a.repaired_sets,
        a.failed_sets,
        a.misplaced_blocks,
        a.duplicate_blocks,
        a.damaged_blocks,
        notes.join(" | ")
    )
}

fn judge_recover(sc: &Scenario, expect: &Expect, images: &[PathBuf], d: &Path) -> Outcome {
    let catalog = d.join("scan.sqlite");
    let out = d.join("recovered");
    let scan_opts = ScanOpts {
        sources: images.to_vec(),
        catalog: catalog.clone(),
        ..Default::default()
    };
    let recover_opts = RecoverOpts {
        catalog,
        out_dir: out,
        select: Selection::All,
        partial: true,
        password: None,
    };
    let r = guarded(|| {
        scan::run(&scan_opts, &CancelFlag::new(), &|_| {})?;
        recover::run(&recover_opts, &CancelFlag::new(), &|_| {})
    });
    let report = match r {
        Err(p) => return wrong("panic", p),
        Ok(Err(_)) if matches!(expect, Expect::Refuse(..) | Expect::LikeNoMeta) => {
            return Outcome::Refused;
        }
        Ok(Err(e)) => return wrong("error", e.to_string()),
        Ok(Ok(r)) => r,
    };
    let uid = uid_hex(&UID);
    let mine: Vec<_> = report.results.iter().filter(|r| r.uid == uid).collect();
    let Some(res) = mine.first().filter(|_| mine.len() == 1) else {
        return match expect {
            Expect::Refuse(..) | Expect::LikeNoMeta if mine.is_empty() => Outcome::Refused,
            _ => wrong("lost", format!("{} results for the UID", mine.len())),
        };
    };
    let bytes = res.output.as_ref().map(|p| std::fs::read(p).unwrap());
    let payload = sc.new.layout.version.payload_size() as u64;
    let what = || {
        format!(
            "{:?} {:?}; conflicts {}; metadata conflict {}; {}",
            res.status,
            res.reason,
            res.conflicts.len(),
            res.metadata_conflict,
            describe("", &res.assembly, &res.notes)
        )
    };
    judge_end(
        sc,
        expect,
        report.success(),
        bytes.clone(),
        || {
            let Expect::Missing(want) = expect else {
                unreachable!()
            };
            let mut a = res.assembly.clone();
            a.missing = res.missing.clone();
            let verdict = judge_missing(want, &a, payload);
            // The partial file (holes zero-filled) must hold the right bytes everywhere else.
            match (&verdict, bytes) {
                (Outcome::Reported, Some(b)) => partial_bytes_right(&sc.new.data, &b, want),
                _ => verdict,
            }
        },
        what,
    )
}

fn partial_bytes_right(data: &[u8], got: &[u8], holes: &[Range<u64>]) -> Outcome {
    if got.len() != data.len() {
        return wrong(
            "silent",
            format!("partial file of {} bytes, not {}", got.len(), data.len()),
        );
    }
    let mut at = 0usize;
    for h in holes.iter().chain(std::iter::once(&(data.len() as u64..0))) {
        let end = h.start as usize;
        if let Some(i) = (at..end).find(|&i| got[i] != data[i]) {
            return wrong(
                "silent",
                format!("the partial file differs at byte {i}, outside the missing ranges"),
            );
        }
        at = h.end as usize;
    }
    Outcome::Reported
}

fn cli(args: &[&str], d: &Path) -> (Option<i32>, serde_json::Value) {
    let out = crate::common::seqbox(args, d, &[]);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code(), doc)
}

/// Exit 0 exactly when the file came back bit-exact; the JSON says the same.
fn judge_exit(
    sc: &Scenario,
    expect: &Expect,
    code: Option<i32>,
    doc: &serde_json::Value,
    out: &Path,
) -> Outcome {
    let bytes = std::fs::read(out).ok();
    if doc["ok"].as_bool() != Some(code == Some(0)) {
        return wrong("error", format!("exit {code:?} but JSON ok {}", doc["ok"]));
    }
    judge_end(
        sc,
        expect,
        code == Some(0),
        bytes,
        || {
            if code == Some(2) {
                Outcome::Reported
            } else {
                wrong("error", format!("exit {code:?}"))
            }
        },
        || format!("exit {code:?}"),
    )
}

fn cli_decode(sc: &Scenario, expect: &Expect, file: &Path, d: &Path) -> Outcome {
    let out = d.join("cli-decoded");
    let (code, doc) = cli(
        &[
            "decode",
            "--json",
            "-o",
            out.to_str().unwrap(),
            file.to_str().unwrap(),
        ],
        d,
    );
    judge_exit(sc, expect, code, &doc, &out)
}

fn cli_recover(sc: &Scenario, expect: &Expect, images: &[PathBuf], d: &Path) -> Outcome {
    let catalog = d.join("cli.sqlite");
    let out = d.join("cli-recovered");
    let mut args = vec!["scan", "--catalog", catalog.to_str().unwrap()];
    args.extend(images.iter().map(|p| p.to_str().unwrap()));
    let (code, _) = cli(&args, d);
    if code != Some(0) {
        return wrong("error", format!("scan exit {code:?}"));
    }
    let (code, doc) = cli(
        &[
            "recover",
            "--json",
            "--catalog",
            catalog.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        d,
    );
    // Without metadata the file is named after the UID: take whatever one file came back.
    let file = std::fs::read_dir(&out)
        .ok()
        .and_then(|d| d.flatten().map(|e| e.path()).find(|p| p.is_file()))
        .unwrap_or_else(|| out.join("file.bin"));
    judge_exit(sc, expect, code, &doc, &file)
}

/// Outcomes by case kind × version.
#[derive(Default)]
pub struct Table {
    rows: BTreeMap<(Kind, u8), [u64; 8]>,
    /// Cases where an older version came back (not wrong; listed for the report).
    pub older: Vec<String>,
    pub wrong: Vec<String>,
}

impl Table {
    pub fn add(&mut self, r: &CaseResult) {
        let row = self
            .rows
            .entry((r.case.kind, r.case.geometry.version.byte()))
            .or_default();
        row[0] += 1;
        for run in &r.runs {
            row[1] += 1;
            let col = match &run.outcome {
                Outcome::Exact => 2,
                Outcome::Reported => 3,
                Outcome::Refused => 4,
                Outcome::OlderVersion => {
                    self.older
                        .push(format!("{} — {}", r.case.label(), run.path));
                    5
                }
                Outcome::AsNoMeta => 7,
                Outcome::Wrong { what, detail } => {
                    self.wrong.push(format!(
                        "{} — {}: expected {}, got {what}: {detail}",
                        r.case.label(),
                        run.path,
                        run.expect.label(),
                    ));
                    6
                }
            };
            row[col] += 1;
        }
    }

    pub fn render(&self) -> String {
        let line = |a: &str, b: &str, c: [String; 8]| {
            format!(
                "{a:<26} {b:>3} {:>6} {:>5} {:>6} {:>9} {:>8} {:>6} {:>8} {:>6}\n",
                c[0], c[1], c[2], c[3], c[4], c[5], c[7], c[6]
            )
        };
        let heads = [
            "cases", "runs", "exact", "reported", "refused", "older", "WRONG", "no-meta",
        ];
        let mut s = line("case kind", "ver", heads.map(String::from));
        let mut total = [0u64; 8];
        for ((kind, v), row) in &self.rows {
            s += &line(kind.label(), &v.to_string(), row.map(|x| x.to_string()));
            for (t, x) in total.iter_mut().zip(row) {
                *t += x;
            }
        }
        s += &line("total", "", total.map(|x| x.to_string()));
        s += "runs: decode + check of each container file or image (+ `seqbox decode` for a sample), scan + recover of images (+ the binary for a sample)\n";
        s += "exact: bit-exact with success; reported: failed, listing exactly the missing bytes; refused: failed where no exact answer exists; older: an older version with the same UID came back whole where ours could not; no-meta: a plain container whose metadata left no trace came back as one made without metadata (padding kept, said in a note)\n";
        s
    }
}
