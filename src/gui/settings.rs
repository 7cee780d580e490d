//! What the app remembers between runs: theme, last folders, protection choice. Kept as a
//! small JSON file in the user's configuration folder; read once at start, written by one
//! background thread when something changed (the UI thread does no I/O), newest value last.

use crate::engine::output::AtomicFile;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

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

    pub fn load(file: &Path) -> Settings {
        std::fs::read(file)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }
}

/// The one writer of the settings file: a background thread fed through a channel. Writes
/// happen in the order the values were given and a burst of changes is written once, as its
/// newest value, so an older value can never land last. Dropping the saver waits for the
/// last write (the app's exit).
pub struct Saver {
    tx: Option<mpsc::Sender<Settings>>,
    thread: Option<JoinHandle<()>>,
}

impl Saver {
    pub fn new(file: PathBuf) -> Saver {
        let (tx, rx) = mpsc::channel::<Settings>();
        let thread = std::thread::Builder::new()
            .name("settings".into())
            .spawn(move || {
                while let Ok(mut newest) = rx.recv() {
                    while let Ok(newer) = rx.try_recv() {
                        newest = newer;
                    }
                    // Best effort: settings are a convenience, never an error.
                    let _ = write(&file, &newest);
                }
            })
            .ok();
        Saver {
            tx: Some(tx),
            thread,
        }
    }

    /// Have `settings` written (soon, on the saver's thread).
    pub fn save(&self, settings: &Settings) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(settings.clone());
        }
    }
}

impl Drop for Saver {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Write `settings` to `file` as a whole: a temporary file, flushed, then renamed.
fn write(file: &Path, settings: &Settings) -> Result<(), Box<dyn std::error::Error>> {
    let json = serde_json::to_vec_pretty(settings)?;
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut out = AtomicFile::create(file, true)?;
    out.file().write_all(&json)?;
    out.commit(true)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn numbered(i: usize) -> Settings {
        Settings {
            protection: format!("p{i}"),
            light_theme: i % 2 == 0,
            ..Default::default()
        }
    }

    #[test]
    fn many_rapid_saves_leave_the_last_settings_on_disk() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("cfg").join("settings.json");
        let saver = Saver::new(file.clone());
        for i in 0..300 {
            saver.save(&numbered(i));
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Settings::load(&file) != numbered(299) {
            assert!(Instant::now() < deadline, "{:?}", Settings::load(&file));
            std::thread::sleep(Duration::from_millis(10));
        }
        // Nothing older lands after it.
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(Settings::load(&file), numbered(299));
        saver.save(&numbered(1000));
        drop(saver);
        assert_eq!(Settings::load(&file), numbered(1000), "dropping waits");
        let names: Vec<_> = std::fs::read_dir(file.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec!["settings.json"], "no temporary file left");
    }
}
