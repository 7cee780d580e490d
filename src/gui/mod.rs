//! The desktop app (eframe/egui): Encode, Decode, Scan, Recover and Snapshot tabs over the
//! engine.
//! Every long job runs on a worker thread; the UI thread only draws and polls.

pub mod app;
pub mod block_map;
pub mod chooser;
pub mod decode_rows;
pub mod decode_tab;
pub mod demo_tab;
pub mod dialogs;
pub mod disk_picker;
pub mod encode_existing;
pub mod encode_list;
pub mod encode_tab;
pub mod jobs;
pub mod map_hover;
pub mod map_legend;
pub mod map_view;
pub mod palette;
pub mod problem;
pub mod recover_tab;
pub mod scan_tab;
pub mod settings;
pub mod snapshot_tab;
pub mod snapshot_tree;
pub mod start;
pub mod when;

pub use app::App;

/// The application id: the .desktop file, the icon name and the window class share it.
pub const APP_ID: &str = "io.github.seqbox.SeqBoxStudio";

/// Open the main window with `paths` open in it (see `App::open_paths`); returns the process
/// exit code.
pub fn run(paths: Vec<std::path::PathBuf>) -> i32 {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("SeqBox Studio")
            // One id for the desktop entry, the icon and the running window (WM_CLASS).
            .with_app_id(APP_ID)
            .with_inner_size([1200.0, 740.0])
            // Fits a 1280×800 screen with its panels; everything is usable down to 800×600.
            .with_min_inner_size([640.0, 480.0])
            .with_icon(
                eframe::icon_data::from_png_bytes(include_bytes!("../../assets/icon-256.png"))
                    .unwrap_or_default(),
            ),
        ..Default::default()
    };
    let result = eframe::run_native(
        "SeqBox Studio",
        options,
        Box::new(|cc| {
            let mut app = App::new(cc, Box::<dialogs::NativeDialogs>::default());
            app.open_paths(&cc.egui_ctx, paths);
            Ok(Box::new(app))
        }),
    );
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("seqbox: cannot open the window: {e}");
            eprintln!("(on a machine without a display, use the command line: seqbox --help)");
            2
        }
    }
}
