//! `seqbox`: the command line (and, later, the desktop app) of SeqBox Studio.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
