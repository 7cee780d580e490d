//! The desktop app: a tab bar over the four tabs; each tab draws itself and owns its jobs.
//! The UI thread only draws and polls jobs: no file or database access happens here.

use super::decode_tab::DecodeTab;
use super::demo_tab::DemoTab;
use super::dialogs::{Choosers, Dialogs};
use super::encode_tab::EncodeTab;
use super::encode_tab::Protection;
use super::recover_tab::RecoverTab;
use super::scan_tab::{ScanAction, ScanTab};
use super::settings::{Saver, Settings};
use super::snapshot_tab::SnapshotTab;
use super::start::{self, Journey};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Tab {
    /// The start page: four journeys; shown first when nothing was opened.
    Start,
    Encode,
    Decode,
    Scan,
    Recover,
    Snapshot,
    Demo,
}

pub struct App {
    pub tab: Tab,
    pub encode: EncodeTab,
    pub decode: DecodeTab,
    pub scan: ScanTab,
    pub recover: RecoverTab,
    pub snapshot: SnapshotTab,
    pub demo: DemoTab,
    pub dialogs: Choosers,
    pub settings: Settings,
    /// The theme shown (light or dark).
    pub light: bool,
    /// The guided journey chosen on the start page, if any.
    pub journey: Option<Journey>,
    /// The journey step shown last frame: the tab follows the journey only when it moves on.
    journey_step: Option<usize>,
    /// Writes the settings when they change; none in tests that do not ask for it.
    saver: Option<Saver>,
}

impl App {
    /// The app with the user's saved settings.
    pub fn new(cc: &eframe::CreationContext<'_>, dialogs: Box<dyn Dialogs>) -> App {
        let file = Settings::file();
        let settings = file.as_deref().map(Settings::load).unwrap_or_default();
        App::with_settings(cc, dialogs, settings, file)
    }

    /// The app with these settings, saved to `file` when they change (never when `None`).
    pub fn with_settings(
        cc: &eframe::CreationContext<'_>,
        dialogs: Box<dyn Dialogs>,
        settings: Settings,
        file: Option<std::path::PathBuf>,
    ) -> App {
        let mut app = App {
            tab: Tab::Start,
            encode: EncodeTab::default(),
            decode: DecodeTab::default(),
            scan: ScanTab::default(),
            recover: RecoverTab::default(),
            snapshot: SnapshotTab::default(),
            demo: DemoTab::default(),
            dialogs: Choosers::new(dialogs),
            settings,
            saver: file.map(Saver::new),
            light: false,
            journey: None,
            journey_step: None,
        };
        app.light = app.settings.light_theme;
        let s = &app.settings;
        app.encode.out_dir = s.encode_out_dir.clone();
        app.decode.out_dir = s.decode_out_dir.clone();
        app.recover.out_dir = s.recover_out_dir.clone();
        app.snapshot.out_dir = s.snapshot_out_dir.clone();
        app.demo.parent = s.demo_dir.clone();
        app.encode.protection = match s.protection.as_str() {
            "standard" => Protection::Standard,
            "custom" => Protection::Custom,
            _ => Protection::Strong,
        };
        cc.egui_ctx.set_theme(if s.light_theme {
            egui::Theme::Light
        } else {
            egui::Theme::Dark
        });
        app
    }

    /// The settings as the tabs now have them; saved when they changed.
    fn remember(&mut self) {
        let now = Settings {
            light_theme: self.light,
            encode_out_dir: self.encode.out_dir.clone(),
            decode_out_dir: self.decode.out_dir.clone(),
            recover_out_dir: self.recover.out_dir.clone(),
            snapshot_out_dir: self.snapshot.out_dir.clone(),
            demo_dir: self.demo.parent.clone(),
            protection: match self.encode.protection {
                Protection::Standard => "standard",
                Protection::Strong => "strong",
                Protection::Custom => "custom",
            }
            .into(),
        };
        if now != self.settings {
            if let Some(saver) = &self.saver {
                saver.save(&now);
            }
            self.settings = now;
        }
    }

    /// Open a catalogue from an earlier scan: its map in Scan, its containers in Recover.
    pub fn open_catalog(&mut self, ctx: &egui::Context, catalog: std::path::PathBuf) {
        self.scan.open(ctx, catalog.clone());
        self.recover.open(ctx, catalog);
        self.tab = Tab::Scan;
    }

    /// Files given on the command line or by a file manager ("Open with"): snapshots
    /// (`*.snapshot.sqlite`) and ext2/3/4 disk images open in Snapshot, scan catalogues open
    /// their scan, containers (by name, or by their first block's header) go to Decode,
    /// anything else goes to Encode.
    pub fn open_paths(&mut self, ctx: &egui::Context, paths: Vec<std::path::PathBuf>) {
        let ext = |p: &std::path::Path| {
            p.extension()
                .map(|e| e.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default()
        };
        let mut containers = Vec::new();
        for p in paths {
            let snapshot = p.to_string_lossy().ends_with(".snapshot.sqlite");
            match ext(&p).as_str() {
                "sqlite" if snapshot => {
                    self.snapshot.open(ctx, p);
                    self.tab = Tab::Snapshot;
                }
                "sqlite" | "db3" => self.open_catalog(ctx, p),
                "sbx" | "ecsbx" => containers.push(p),
                // A few small reads (the superblock magic, partition tables).
                _ if crate::engine::fs::image::holds_fs(&p).is_some() => {
                    self.snapshot.image = Some(p);
                    self.tab = Tab::Snapshot;
                }
                // A container renamed or saved without its extension (one 16-byte read).
                _ if crate::engine::io::starts_with_sbx_block(&p) => containers.push(p),
                _ => {
                    self.encode.files.push(p);
                    self.tab = Tab::Encode;
                }
            }
        }
        if !containers.is_empty() {
            self.decode.add(ctx, containers);
            self.tab = Tab::Decode;
        }
    }

    /// While a journey runs: follow it to its current step's tab when it moves on, and show
    /// the guide bar. The user may still visit any tab; the bar offers the way back.
    fn guide(&mut self, ui: &mut egui::Ui) {
        let Some(journey) = self.journey else {
            return;
        };
        let current = journey.current(self);
        if self.journey_step != Some(current) {
            self.journey_step = Some(current);
            self.tab = journey.steps()[current].tab;
        }
        let mut tab = self.tab;
        let close = egui::Panel::top("guide")
            .show(ui, |ui| start::bar(ui, journey, current, &mut tab))
            .inner;
        self.tab = tab;
        if close {
            self.journey = None;
            self.journey_step = None;
            self.tab = Tab::Start;
        }
    }

    /// Whether any job is running (for tests and for the window title).
    pub fn busy(&self) -> bool {
        self.encode.busy()
            || self.decode.busy()
            || self.scan.busy()
            || self.recover.busy()
            || self.snapshot.busy()
            || self.demo.busy()
            || self.dialogs.busy()
            || self.scan.picker.busy()
            || self.snapshot.picker.busy()
    }
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        // Every job is drained every frame, shown or not (cheap: channel reads only).
        self.encode.poll(ui.ctx());
        self.decode.poll();
        if let Some(catalog) = self.scan.poll(ui.ctx()) {
            // A finished scan fills the Recover tab, with the password it was given.
            if self.recover.password.is_empty() {
                self.recover.password = self.scan.password.clone();
            }
            self.recover.open(ui.ctx(), catalog);
        }
        self.recover.poll();
        self.snapshot.poll(ui.ctx());
        self.demo.poll(ui.ctx());
        // Files dropped on the window go to the tab that takes files.
        let dropped: Vec<std::path::PathBuf> = ui.ctx().input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if !dropped.is_empty() {
            match self.tab {
                Tab::Decode => self.decode.add(ui.ctx(), dropped),
                Tab::Scan => self.scan.sources.extend(dropped),
                // On the Snapshot tab a dropped file is a snapshot or the disk image.
                Tab::Snapshot => {
                    for p in dropped {
                        if p.to_string_lossy().ends_with(".sqlite") {
                            self.snapshot.open(ui.ctx(), p);
                        } else {
                            self.snapshot.image = Some(p);
                        }
                    }
                }
                _ => {
                    self.tab = Tab::Encode;
                    self.encode.files.extend(dropped);
                }
            }
        }
        egui::Panel::top("tabs").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.heading("SeqBox Studio");
                ui.separator();
                for (tab, label) in [
                    (Tab::Start, "Start"),
                    (Tab::Encode, "Encode"),
                    (Tab::Decode, "Decode"),
                    (Tab::Scan, "Scan"),
                    (Tab::Recover, "Recover"),
                    (Tab::Snapshot, "Snapshot"),
                    (Tab::Demo, "Try the demo"),
                ] {
                    ui.selectable_value(&mut self.tab, tab, label);
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    let label = if self.light {
                        "Dark theme"
                    } else {
                        "Light theme"
                    };
                    if ui.button(label).clicked() {
                        self.light = !self.light;
                        ui.ctx().set_theme(if self.light {
                            egui::Theme::Light
                        } else {
                            egui::Theme::Dark
                        });
                    }
                });
                if self.busy() {
                    ui.separator();
                    ui.spinner();
                    ui.label("working…");
                }
            });
        });
        self.guide(ui);
        egui::CentralPanel::default_margins().show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| match self.tab {
                Tab::Start => {
                    if let Some(j) = start::page(ui) {
                        self.journey = Some(j);
                        self.journey_step = None;
                    }
                }
                Tab::Encode => self.encode.ui(ui, &mut self.dialogs),
                Tab::Decode => self.decode.ui(ui, &mut self.dialogs),
                Tab::Scan => {
                    match self.scan.ui(ui, &mut self.dialogs) {
                        Some(ScanAction::Focus(uid)) => {
                            // An SBX cell clicked on the map: that container, in Recover.
                            self.recover.focus(uid);
                            self.tab = Tab::Recover;
                        }
                        Some(ScanAction::Opened(catalog)) => self.recover.open(ui.ctx(), catalog),
                        None => {}
                    }
                }
                Tab::Snapshot => self.snapshot.ui(ui, &mut self.dialogs),
                Tab::Demo => self.demo.ui(ui, &mut self.dialogs),
                Tab::Recover => {
                    if let Some(uid) = self.recover.ui(ui, &mut self.dialogs) {
                        // A container picked in the table: its cells outlined on the map.
                        self.scan.map.highlight = Some(uid);
                        self.tab = Tab::Scan;
                    }
                }
            });
        });
        // The app's own chooser, when one is open, over everything.
        self.dialogs.ui(ui.ctx());
        self.remember();
    }
}
