//! A progress bar on stderr when it is a terminal; nothing otherwise.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use seqbox::engine::Progress;
use std::io::IsTerminal;
use std::path::Path;

pub struct Bar(ProgressBar);

impl Bar {
    pub fn new(what: &Path) -> Bar {
        let bar = if std::io::stderr().is_terminal() {
            ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        let name = what
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        bar.set_message(name);
        Bar(bar)
    }

    pub fn update(&self, p: Progress) {
        self.0.set_length(p.bytes_total);
        self.0.set_position(p.bytes_done);
    }

    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}
