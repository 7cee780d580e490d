//! One container's row in the Decode tab: its name, what it holds in one line (dates in
//! local time), the exact facts (UID, block sets, command lines) under *Details*, its own
//! password box when it needs one, and its result with *Open folder*. Rows stack their text
//! at the full width, so nothing is squeezed into a column at 800 px. Never touches the disk
//! on the UI thread: `read_info` runs on a worker.

use super::decode_tab::{Outcome, Row};
use super::dialogs::Choosers;
use super::jobs::human;
use super::problem::{Problem, said_ui};
use crate::engine::Error;
use crate::engine::info::{self, InfoReport};
use crate::engine::io::file_name_of as name;
use std::path::Path;

/// What a container says about itself, said once when it is read (not every frame).
#[derive(Clone, Debug)]
pub struct RowInfo {
    pub report: InfoReport,
    /// "photo.jpg — 48.8 KiB — made 23 Nov 2026, 08:10 — with parity (version 17, …)"
    pub line: String,
    /// UID, layout, hash, offsets, command lines.
    pub details: Vec<String>,
}

/// Read a container (on a worker). The error says whether a password may open it: a
/// container with none that shows no SBX block may have been stored with one.
pub fn read_info(c: &Path, password: Option<&str>) -> Result<RowInfo, (Problem, bool)> {
    match info::run(c, password) {
        Ok(report) => Ok(RowInfo {
            line: describe(&report),
            details: details(&report),
            report,
        }),
        Err(e) => {
            let may_need = matches!(
                e,
                Error::NotSbx {
                    password_given: false,
                    ..
                }
            );
            Err((Problem::new(&e), may_need))
        }
    }
}

/// What a row asks the tab to do.
#[derive(Default)]
pub struct RowAction {
    pub remove: bool,
    /// Read the container again with the password typed in its row.
    pub try_password: bool,
}

/// Draw one container's row; `idle` is false while a decode runs (the list stays as it is).
pub fn row_ui(
    ui: &mut egui::Ui,
    i: usize,
    path: &Path,
    row: &mut Row,
    result: Option<&Outcome>,
    idle: bool,
    dialogs: &mut Choosers,
) -> RowAction {
    let mut act = RowAction::default();
    let file = name(path);
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.horizontal(|ui| {
            if idle
                && ui
                    .small_button("Remove")
                    .on_hover_text("Take this container off the list")
                    .clicked()
            {
                act.remove = true;
            }
            ui.add(egui::Label::new(egui::RichText::new(&file).strong()).truncate())
                .on_hover_text(path.display().to_string());
        });
        match &row.info {
            None => {
                ui.weak("reading…");
            }
            Some(Ok(info)) => {
                ui.label(&info.line);
                egui::CollapsingHeader::new("Details")
                    .id_salt(("container details", i, path))
                    .show(ui, |ui| {
                        for d in &info.details {
                            ui.label(d);
                        }
                    });
            }
            // Perhaps only locked: said in the warning colour, with the box to unlock it.
            Some(Err(p)) if row.asks_password => {
                ui.colored_label(ui.visuals().warn_fg_color, &p.sentence);
                egui::CollapsingHeader::new("Details")
                    .id_salt(("container problem", i, path))
                    .show(ui, |ui| {
                        ui.label(&p.details);
                    });
            }
            Some(Err(p)) => p.ui(ui),
        }
        if row.asks_password && !matches!(row.info, Some(Ok(_))) {
            act.try_password = password_ui(ui, &file, &mut row.password);
        }
        if let Some(r) = result {
            said_ui(ui, &r.said, "Details of the result", ("result", i, path));
            if let Some(saved) = &r.saved
                && let Some(dir) = saved.parent()
                && ui
                    .button("Open folder")
                    .on_hover_text(format!("Show {} in the file manager", dir.display()))
                    .clicked()
            {
                dialogs.open_folder(dir);
            }
        }
    });
    act
}

/// "Password for x.sbx: [……] [Open with this password]"; true when it should be tried.
fn password_ui(ui: &mut egui::Ui, file: &str, password: &mut String) -> bool {
    let mut go = false;
    ui.horizontal_wrapped(|ui| {
        let l = ui.label(format!("Password for {file}:"));
        let edit = ui
            .add(
                egui::TextEdit::singleline(password)
                    .password(true)
                    .desired_width(160.0),
            )
            .labelled_by(l.id);
        let typed = !password.is_empty();
        let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui
            .add_enabled(typed, egui::Button::new("Open with this password"))
            .clicked()
            || (typed && enter)
        {
            go = true;
        }
    });
    go
}

/// The protection in words: "Standard (version 1)", "with parity (version 17: 10 + 2
/// Reed–Solomon, burst 12)".
fn protection(i: &InfoReport) -> String {
    match (i.rs_data, i.rs_parity) {
        (Some(d), Some(p)) => format!(
            "with parity (version {}: {d} + {p} Reed–Solomon, burst {})",
            i.version, i.burst
        ),
        _ => format!("Standard (version {})", i.version),
    }
}

/// One line about a container, for people.
pub fn describe(i: &InfoReport) -> String {
    let pw = if i.password {
        " — stored with a password"
    } else {
        ""
    };
    match &i.metadata {
        Some(m) => format!(
            "{} — {} — {} — {}{pw}",
            m.file_name.as_deref().unwrap_or("(no name)"),
            m.file_size.map_or("size unknown".into(), human),
            m.sbx_time
                .map_or("date unknown".into(), |t| format!("made {}", local_time(t))),
            protection(i),
        ),
        None if i.metadata_lost => format!(
            "its metadata block is lost: the name, size and hash are unknown — {}{pw}",
            protection(i)
        ),
        None => format!(
            "made without metadata (no name, size or hash) — {}{pw}",
            protection(i)
        ),
    }
}

/// The exact facts, for experts: identity, layout, hash, offsets, and the command lines that
/// do the same as the buttons.
fn details(i: &InfoReport) -> Vec<String> {
    let mut v = vec![
        format!("UID {}", i.uid),
        format!("version {}, {}-byte blocks", i.version, i.block_size),
    ];
    if let (Some(d), Some(p)) = (i.rs_data, i.rs_parity) {
        v.push(format!(
            "block sets of {d} data + {p} parity blocks, burst level {}",
            i.burst
        ));
    }
    v.push(format!(
        "{} block positions from byte {} of a {}-byte file",
        i.block_positions, i.offset, i.file_len
    ));
    if let Some(o) = i.metadata_offset {
        v.push(format!("metadata block at byte {o} (0x{o:x})"));
    }
    if let Some(m) = &i.metadata {
        if let (Some(k), Some(h)) = (m.hash_kind, &m.hash) {
            v.push(format!("{k}: {h}"));
        }
        if let Some(t) = m.file_time {
            v.push(format!(
                "file dated {} ({})",
                local_time(t),
                info::iso_utc(t)
            ));
        }
        if let Some(t) = m.sbx_time {
            v.push(format!(
                "container made {} ({})",
                local_time(t),
                info::iso_utc(t)
            ));
        }
    }
    v.extend(i.geometry_notes.iter().cloned());
    let q = shell_quote(&i.container.display().to_string());
    let pw = if i.password {
        " --password-file FILE"
    } else {
        ""
    };
    v.push(format!("command line: seqbox decode{pw} {q}"));
    v.push(format!("command line: seqbox check{pw} {q}"));
    v
}

/// `s` as one shell word.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+,:@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Seconds since 1970 as a readable local date: "23 Nov 2026, 08:10" (UTC, said so, where
/// the local time zone cannot be had).
// `time_t` is 64-bit on most systems, where the conversion cannot fail.
#[allow(irrefutable_let_patterns)]
pub fn local_time(secs: i64) -> String {
    #[cfg(unix)]
    {
        if let Ok(t) = libc::time_t::try_from(secs) {
            // SAFETY: `tm` is a plain struct localtime_r fills in; `t` outlives the call.
            let mut tm: libc::tm = unsafe { std::mem::zeroed() };
            if !unsafe { libc::localtime_r(&t, &mut tm) }.is_null() {
                return format!(
                    "{} {} {}, {:02}:{:02}",
                    tm.tm_mday,
                    MONTHS[tm.tm_mon.clamp(0, 11) as usize],
                    i64::from(tm.tm_year) + 1900,
                    tm.tm_hour,
                    tm.tm_min
                );
            }
        }
    }
    // "2026-11-23T07:10:24Z" → "23 Nov 2026, 07:10 UTC"
    let iso = info::iso_utc(secs);
    let part = |a: usize, b: usize| iso.get(a..b).unwrap_or("");
    let month = part(5, 7).parse::<usize>().unwrap_or(1).clamp(1, 12);
    format!(
        "{} {} {}, {} UTC",
        part(8, 10).trim_start_matches('0'),
        MONTHS[month - 1],
        part(0, 4),
        part(11, 16)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_like_dates_and_paths_quote_for_the_shell() {
        let d = local_time(1_795_417_824);
        let ok = d.contains("Nov 2026, ") && d.split(", ").nth(1).is_some_and(|t| t.len() >= 5);
        assert!(ok, "{d}");
        assert_eq!(shell_quote("/a/b.sbx"), "/a/b.sbx");
        assert_eq!(shell_quote("/a/it's.sbx"), "'/a/it'\\''s.sbx'");
        assert_eq!(shell_quote("/my photos/x"), "'/my photos/x'");
    }
}
