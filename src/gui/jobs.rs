//! Long work off the UI thread: a job runs an engine function on its own thread, sends its
//! progress (the engine throttles it to ~10 Hz) and its result, and wakes the UI when it does.
//! The UI drains it with `poll` at the top of each frame; it never waits.

use crate::engine::{CancelFlag, Error, Progress};
use std::sync::mpsc::{Receiver, channel};
use std::time::Instant;

enum Event<R> {
    Progress(Progress),
    Done(Result<R, Error>),
}

pub struct Job<R> {
    rx: Receiver<Event<R>>,
    pub cancel: CancelFlag,
    pub progress: Option<Progress>,
    pub started: Instant,
}

impl<R: Send + 'static> Job<R> {
    /// Start `work` on a new thread; `ctx` is asked to repaint whenever the job reports.
    pub fn spawn(
        ctx: &egui::Context,
        work: impl FnOnce(&CancelFlag, &(dyn Fn(Progress) + Sync)) -> Result<R, Error> + Send + 'static,
    ) -> Job<R> {
        let (tx, rx) = channel();
        let cancel = CancelFlag::new();
        let (ctx, flag) = (ctx.clone(), cancel.clone());
        std::thread::spawn(move || {
            let progress_tx = std::sync::Mutex::new(tx.clone());
            let repaint = ctx.clone();
            let report = move |p: Progress| {
                if let Ok(tx) = progress_tx.lock() {
                    let _ = tx.send(Event::Progress(p));
                }
                repaint.request_repaint();
            };
            let result = work(&flag, &report);
            let _ = tx.send(Event::Done(result));
            ctx.request_repaint();
        });
        Job {
            rx,
            cancel,
            progress: None,
            started: Instant::now(),
        }
    }

    /// Take what the job sent since the last frame; `Some` once it has finished.
    pub fn poll(&mut self) -> Option<Result<R, Error>> {
        while let Ok(event) = self.rx.try_recv() {
            match event {
                Event::Progress(p) => self.progress = Some(p),
                Event::Done(r) => return Some(r),
            }
        }
        None
    }
}

/// Draw a job's progress: a bar with bytes, rate and time left, and a button labelled `stop`
/// ("Cancel", or "Pause" where starting again resumes). Returns true when it was clicked.
pub fn progress_ui<R>(ui: &mut egui::Ui, job: &Job<R>, what: &str, stop: &str) -> bool {
    let p = job.progress;
    let (done, total) = p.map_or((0, 0), |p| (p.bytes_done, p.bytes_total));
    let fraction = if total > 0 {
        done as f32 / total as f32
    } else {
        0.0
    };
    let secs = job.started.elapsed().as_secs_f64().max(1e-3);
    let rate = done as f64 / secs;
    let eta = if rate > 0.0 && total > done {
        format!(", about {:.0} s left", (total - done) as f64 / rate)
    } else {
        String::new()
    };
    let mut cancel = false;
    ui.horizontal(|ui| {
        ui.add(
            egui::ProgressBar::new(fraction)
                .desired_width(260.0)
                .show_percentage(),
        );
        ui.label(format!(
            "{what}: {} of {} at {}/s{eta}",
            human(done),
            human(total),
            human(rate as u64)
        ));
        if ui.button(stop).clicked() {
            cancel = true;
        }
    });
    cancel
}

pub fn human(bytes: u64) -> String {
    crate::engine::calc::human(bytes)
}
