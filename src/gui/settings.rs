//! What the app remembers between runs: theme, last folders, protection choice. Kept as a
//! small JSON file in the user's configuration folder; read once at start, written on a
//! background thread when something changed (the UI thread does no I/O).

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub light_theme: bool,
    pub encode_out_dir: Option<PathBuf>,
    pub decode_out_dir: Option<PathBuf>,
    pub recover_out_dir: Option<PathBuf>,
    pub snapshot_out_dir: Option<PathBuf>,
    pub demo_dir: Option<PathBuf>,
    /// "standard", "strong" or "custom".
    pub protection: String,
}

impl Settings {
    /// Where settings live: `$XDG_CONFIG_HOME/seqbox-studio` (or `~/.config/…`, or
    /// `%APPDATA%\seqbox-studio`).
    pub fn file() -> Option<PathBuf> {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let base = env("XDG_CONFIG_HOME")
            .or_else(|| env("APPDATA"))
            .or_else(|| env("HOME").map(|h| h.join(".config")))?;
        Some(base.join("seqbox-studio").join("settings.json"))
    }

    pub fn load(file: &std::path::Path) -> Settings {
        std::fs::read(file)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Write to `file` in the background (best effort: settings are a convenience, never an
    /// error).
    pub fn save_in_background(&self, file: PathBuf) {
        let Ok(json) = serde_json::to_vec_pretty(self) else {
            return;
        };
        std::thread::spawn(move || {
            if let Some(dir) = file.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let tmp = file.with_extension("json.part");
            if std::fs::write(&tmp, json).is_ok() {
                let _ = std::fs::rename(&tmp, &file);
            }
        });
    }
}
