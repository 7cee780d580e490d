//! What a shell and `man` need, generated from the clap definitions in `args.rs` so they never
//! drift from the real options: `seqbox completions SHELL` prints a completion script,
//! `seqbox manpages DIR` writes `seqbox.1` and one page per command. Touches nothing but
//! standard output and the folder it is given.

use super::args::{Cli, CompletionsArgs, ManpagesArgs};
use super::{EXIT_FAILED, EXIT_OK};
use clap::CommandFactory;

/// The name completions are registered for: the installed binary's.
const BIN: &str = "seqbox";

pub fn run_completions(a: CompletionsArgs) -> i32 {
    let mut cmd = Cli::command();
    clap_complete::generate(a.shell, &mut cmd, BIN, &mut std::io::stdout());
    EXIT_OK
}

pub fn run_manpages(a: ManpagesArgs) -> i32 {
    let written = std::fs::create_dir_all(&a.dir)
        .and_then(|()| clap_mangen::generate_to(Cli::command(), &a.dir));
    match written {
        Ok(()) => {
            println!("man pages written to {}", a.dir.display());
            EXIT_OK
        }
        Err(e) => {
            eprintln!("seqbox manpages: {}: {e}", a.dir.display());
            EXIT_FAILED
        }
    }
}
