//! The README's command reference matches the real CLI: every subcommand `seqbox --help`
//! lists is in the table, and every option a row shows is accepted by that command.

use std::process::Command;

fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_seqbox"))
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "seqbox {args:?} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

/// The table rows: the command words after `seqbox` and the whole row's text.
fn rows() -> Vec<(Vec<String>, String)> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = readme
        .split("### Command reference")
        .nth(1)
        .expect("a Command reference section");
    table
        .lines()
        .skip_while(|l| !l.starts_with("| `seqbox "))
        .take_while(|l| l.starts_with("| `seqbox "))
        .map(|l| {
            let usage = l.split('`').nth(1).unwrap();
            let words: Vec<String> = usage
                .split_whitespace()
                .skip(1)
                .take_while(|w| w.chars().all(|c| c.is_ascii_lowercase()))
                .map(String::from)
                .collect();
            (words, usage.to_string())
        })
        .collect()
}

#[test]
fn every_command_of_the_cli_is_in_the_readme_table() {
    let rows = rows();
    assert!(rows.len() >= 12, "{} rows", rows.len());
    let top = help(&[]);
    let commands: Vec<&str> = top
        .split("Commands:")
        .nth(1)
        .unwrap()
        .split("Options:")
        .next()
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 12, "{commands:?}");
    for c in commands {
        assert!(
            rows.iter()
                .any(|(w, _)| w.first().map(String::as_str) == Some(c)),
            "`seqbox {c}` is missing from the README's command reference"
        );
    }
}

#[test]
fn every_option_in_the_readme_table_exists() {
    for (words, usage) in rows() {
        let args: Vec<&str> = words.iter().map(String::as_str).collect();
        let text = help(&args);
        for opt in usage
            .split(|c: char| c.is_whitespace() || "[]|".contains(c))
            .filter(|w| w.starts_with('-'))
        {
            let opt = opt.trim_end_matches("...");
            assert!(
                text.contains(&format!("{opt} "))
                    || text.contains(&format!("{opt},"))
                    || text.contains(&format!("{opt}\n")),
                "README shows `{opt}` for `seqbox {}`, but its --help does not know it:\n{text}",
                words.join(" ")
            );
        }
    }
}
