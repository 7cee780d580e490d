//! `seqbox`: the desktop app when started without arguments, the command line otherwise.

mod cli;

use seqbox::gui;

fn main() {
    // Rust ignores SIGPIPE, so printing into a closed pipe (`seqbox … --json | head`) would
    // panic; like every Unix tool, end quietly instead.
    #[cfg(unix)]
    // SAFETY: called first thing, before any thread exists; SIG_DFL is a valid action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let code = if std::env::args_os().len() <= 1 {
        gui::run(Vec::new())
    } else {
        cli::main()
    };
    std::process::exit(code);
}
