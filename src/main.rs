//! `seqbox`: the desktop app when started without arguments, the command line otherwise.

mod cli;
mod gui;

fn main() {
    let code = if std::env::args_os().len() <= 1 {
        gui::run(Vec::new())
    } else {
        cli::main()
    };
    std::process::exit(code);
}
