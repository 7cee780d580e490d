//! The start page and the guided journeys: four plain choices ("Protect files", "Get files
//! back…", "Recover deleted files…", "See how it works") that each lead through their steps
//! in order, over the same tabs an expert uses directly.
//!
//! A journey's current step is not stored: it is the first step whose work is not done yet,
//! read from the tabs' state each frame (cheap field checks, no I/O), so a journey can never
//! disagree with what the tabs show, and going back (removing the files, say) is just that.

use super::app::{App, Tab};

/// The journeys offered on the start page.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Journey {
    Protect,
    Rescue,
    Snapshot,
    Demo,
}

/// One step: what the user does, on which tab, and when it counts as done.
pub struct Step {
    pub title: &'static str,
    pub tab: Tab,
    pub done: fn(&App) -> bool,
}

impl Journey {
    pub const ALL: [Journey; 4] = [
        Journey::Protect,
        Journey::Rescue,
        Journey::Snapshot,
        Journey::Demo,
    ];

    /// The button on the start page.
    pub fn label(self) -> &'static str {
        match self {
            Journey::Protect => "Protect files",
            Journey::Rescue => "Get files back from a damaged or wiped disk",
            Journey::Snapshot => "Recover deleted files from a disk: ext4, FAT or NTFS (snapshot)",
            Journey::Demo => "See how it works (demo)",
        }
    }

    /// One sentence under the button: when to choose it.
    pub fn blurb(self) -> &'static str {
        match self {
            Journey::Protect => {
                "Make a protected copy (.sbx) of your photos or documents. Even if the disk's \
                 file table is lost later, the copy can be found and rebuilt exactly."
            }
            Journey::Rescue => {
                "The disk was formatted, its files vanished or it is failing: search it for \
                 protected copies and get them back, checked byte for byte."
            }
            Journey::Snapshot => {
                "Note where every file of a disk (ext4, FAT or NTFS) lies now; after files are deleted, get \
                 them back from that note and check that they are unchanged."
            }
            Journey::Demo => {
                "Watch a small disk get scrambled, and see why protected files come back when \
                 ordinary undelete tools fail. Nothing of yours is touched."
            }
        }
    }

    pub fn steps(self) -> &'static [Step] {
        match self {
            Journey::Protect => &PROTECT,
            Journey::Rescue => &RESCUE,
            Journey::Snapshot => &SNAPSHOT,
            Journey::Demo => &DEMO,
        }
    }

    /// The step to do now: the first one not done (the last one once all are).
    pub fn current(self, app: &App) -> usize {
        let steps = self.steps();
        steps
            .iter()
            .position(|s| !(s.done)(app))
            .unwrap_or(steps.len() - 1)
    }
}

// The last step of each journey shows the result; it is done when the user closes the guide.
const PROTECT: [Step; 3] = [
    Step {
        title: "Choose the files or folders to protect",
        tab: Tab::Encode,
        done: |a| !a.encode.files.is_empty(),
    },
    Step {
        title: "Choose the protection and where the copies go, then press \"Encode files\"",
        tab: Tab::Encode,
        done: |a| !a.encode.results.is_empty() && !a.encode.busy(),
    },
    Step {
        title: "Done: keep the .sbx files on the disk you want to protect against loss",
        tab: Tab::Encode,
        done: |_| false,
    },
];

const RESCUE: [Step; 4] = [
    Step {
        title: "Choose the disk or disk image to search (it is only read, never written)",
        tab: Tab::Scan,
        done: |a| !a.scan.sources.is_empty() || a.recover.catalog.is_some(),
    },
    Step {
        title: "Press \"Start scan\" and wait for it to finish",
        tab: Tab::Scan,
        // A finished scan, or an earlier scan opened instead of scanning.
        done: |a| {
            !a.scan.busy()
                && (matches!(a.scan.report, Some(Ok(_)))
                    || (a.scan.sources.is_empty() && a.recover.catalog.is_some()))
        },
    },
    Step {
        title: "Tick the files to get back, choose where to save them, press \"Recover selected\"",
        tab: Tab::Recover,
        done: |a| a.recover.report.is_some() && !a.recover.busy(),
    },
    Step {
        title: "Done: each file says whether it came back complete and verified",
        tab: Tab::Recover,
        done: |_| false,
    },
];

const SNAPSHOT: [Step; 4] = [
    Step {
        title: "Choose the disk or disk image (ext4, FAT or NTFS), then take a snapshot (or open an earlier one)",
        tab: Tab::Snapshot,
        done: |a| a.snapshot.loaded.is_some(),
    },
    Step {
        title: "Pick the files or folders to get back",
        tab: Tab::Snapshot,
        done: |a| !a.snapshot.picked.is_empty(),
    },
    Step {
        title: "Choose where to save them and press \"Recover picked files\"",
        tab: Tab::Snapshot,
        done: |a| a.snapshot.report.is_some() && !a.snapshot.busy(),
    },
    Step {
        title: "Done: each file says whether it came back unchanged",
        tab: Tab::Snapshot,
        done: |_| false,
    },
];

const DEMO: [Step; 2] = [
    Step {
        title: "Press \"Run the demo\"",
        tab: Tab::Demo,
        done: |a| a.demo.report.is_some() && !a.demo.busy(),
    },
    Step {
        title: "Step through what happened to the disk and compare the two results",
        tab: Tab::Demo,
        done: |_| false,
    },
];

/// The start page; returns the journey the user chose.
pub fn page(ui: &mut egui::Ui) -> Option<Journey> {
    let mut chosen = None;
    ui.add_space(8.0);
    ui.heading("What would you like to do?");
    ui.label(
        "SeqBox Studio keeps files safe even when a disk's file system is lost, and gets them \
         back afterwards. Choose one; the app leads you through it. The tabs above are there \
         if you already know what you want.",
    );
    ui.add_space(8.0);
    let width = ui.available_width().min(720.0);
    for j in Journey::ALL {
        ui.add_space(6.0);
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(width);
            let button = egui::Button::new(egui::RichText::new(j.label()).heading())
                .min_size(egui::vec2(width, 0.0));
            if ui.add(button).clicked() {
                chosen = Some(j);
            }
            ui.label(j.blurb());
        });
    }
    chosen
}

/// The guide bar over the tabs while a journey runs: its steps, the current one marked.
/// Returns `true` when the user closes the guide.
pub fn bar(ui: &mut egui::Ui, journey: Journey, current: usize, tab: &mut Tab) -> bool {
    let steps = journey.steps();
    let mut close = false;
    ui.horizontal_wrapped(|ui| {
        ui.strong(journey.label());
        ui.separator();
        for (i, s) in steps.iter().enumerate() {
            let n = i + 1;
            let text = if i < current {
                egui::RichText::new(format!("{n} done")).weak()
            } else if i == current {
                egui::RichText::new(format!("Step {n} of {}: {}", steps.len(), s.title)).strong()
            } else {
                egui::RichText::new(format!("{n}")).weak()
            };
            ui.label(text);
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button("Close guide").clicked() {
                close = true;
            }
            let step = &steps[current];
            if *tab != step.tab && ui.button("Back to this step").clicked() {
                *tab = step.tab;
            }
        });
    });
    close
}
