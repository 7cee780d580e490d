//! A progress bar on stderr when it is a terminal; nothing otherwise.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use seqbox::engine::Progress;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

pub struct Bar {
    bar: ProgressBar,
    name: String,
    /// What `Progress::items` counts, when it is worth showing ("SBX blocks found").
    items: Option<&'static str>,
    /// The total is not known (a pipe): bytes and rate only, no bar.
    open_ended: AtomicBool,
}

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
        bar.set_message(name.clone());
        Bar {
            bar,
            name,
            items: None,
            open_ended: AtomicBool::new(false),
        }
    }

    /// A bar that also shows the item count of each progress report.
    pub fn counting(what: &Path, items: &'static str) -> Bar {
        Bar {
            items: Some(items),
            ..Bar::new(what)
        }
    }

    pub fn update(&self, p: Progress) {
        if p.bytes_done > p.bytes_total && !self.open_ended.swap(true, Ordering::Relaxed) {
            self.bar.set_style(
                ProgressStyle::with_template("{msg} {bytes} {bytes_per_sec}")
                    .expect("valid template"),
            );
        }
        self.bar.set_length(p.bytes_total.max(p.bytes_done));
        self.bar.set_position(p.bytes_done);
        if let Some(noun) = self.items {
            self.bar
                .set_message(format!("{}: {} {noun}", self.name, p.items));
        }
    }

    /// Run `job` with this bar showing its progress, then clear the bar.
    pub fn run<R>(self, job: impl FnOnce(&(dyn Fn(Progress) + Sync)) -> R) -> R {
        let result = job(&|p| self.update(p));
        self.finish();
        result
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
