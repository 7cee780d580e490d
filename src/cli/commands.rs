//! One function per command (encode, decode, info, check, repair, calc, scan, import, recover,
//! demo, catalog): its arguments → engine options, the job run with a progress bar, and
//! the result handed to `for_each` / `single` for printing and the exit code. Bad usage
//! exits 1 here, before any job runs.

use super::args::{
    CalcArgs, CatalogArgs, CheckArgs, DecodeArgs, DemoArgs, EncodeArgs, ImportArgs, InfoArgs,
    RecoverArgs, RepairArgs, ScanArgs,
};
use super::{
    EXIT_FAILED, EXIT_OK, EXIT_USAGE, for_each, password, print, progress, single, unjudged,
};
use seqbox::engine::catalog::Catalog;
use seqbox::engine::encode::{EncodeOpts, Target};
use seqbox::engine::words::{self, Said};
use seqbox::engine::{
    CancelFlag, calc, check, decode, demo, encode, import, info, recover, repair, scan,
};
use seqbox::format::block::parse_uid;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

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

pub fn run_encode(a: EncodeArgs) -> i32 {
    let stdin = a.files.iter().any(|f| f.as_os_str() == "-");
    if stdin && a.files.len() > 1 {
        return usage("`-` (standard input) must be the only input");
    }
    if stdin && a.output.is_none() {
        return usage("reading standard input needs the output named: -o OUT.sbx");
    }
    if a.name.is_some() && a.files.len() > 1 {
        return usage("--name names one input: give one file");
    }
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
                stdin,
                name: a.name.clone(),
            };
            progress::Bar::new(file).run(|p| encode::run(&opts, &cancel, p))
        },
        None,
        print::encode,
    )
}

pub fn run_decode(a: DecodeArgs) -> i32 {
    let stdout = a.output.as_deref().is_some_and(|o| o.as_os_str() == "-");
    if stdout && a.containers.len() > 1 {
        return usage("-o - (standard output) takes one container");
    }
    if stdout && a.json {
        return usage("-o - writes the file to standard output: --json cannot share it");
    }
    let output = match target(a.output.filter(|_| !stdout), a.containers.len()) {
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
                    stdout,
                    ..decode::DecodeOpts::new(c)
                };
                progress::Bar::new(c).run(|p| decode::run(&opts, &cancel, p))
            })
        },
        Some(words::decode),
        // With the file on standard output, the words go to standard error.
        if stdout {
            print::decode_to_stderr
        } else {
            print::decode
        },
    )
}

pub fn run_info(a: InfoArgs) -> i32 {
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

pub fn run_check(a: CheckArgs) -> i32 {
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

pub fn run_repair(a: RepairArgs) -> i32 {
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

pub fn run_calc(a: CalcArgs) -> i32 {
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

pub fn run_scan(a: ScanArgs) -> i32 {
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

pub fn run_import(a: ImportArgs) -> i32 {
    let password = match a.password.resolve() {
        Ok(p) => p,
        Err(m) => return usage(&m),
    };
    let opts = import::ImportOpts {
        databases: a.databases.clone(),
        catalog: a.catalog.clone(),
        base: a.base.clone(),
        password,
    };
    let cancel = CancelFlag::new();
    let r = progress::Bar::counting(&a.catalog, "SBX blocks imported")
        .run(|p| import::run(&opts, &cancel, p));
    let r = r.map(|report| print::Imported {
        summary: words::imported(&report),
        report,
    });
    single(
        "import",
        r,
        a.json,
        unjudged,
        |d| d.report.all_imported(),
        print::import,
    )
}

pub fn run_recover(a: RecoverArgs) -> i32 {
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

pub fn run_demo(a: DemoArgs) -> i32 {
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

pub fn run_catalog(a: CatalogArgs) -> i32 {
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
