//! The Snapshot tab's file tree: every file of every snapshot in one tree (a file deleted
//! before the newest snapshot still shows, marked), what is picked in it, and which snapshot
//! each picked file comes back from (the newest that holds them all, else each file's
//! newest). Pure data and drawing: never opens the database or a file.

use super::jobs::human;
use crate::engine::ext4::{FileEntry, display_path};
use std::collections::{BTreeMap, BTreeSet};

/// A file as the snapshots know it: its newest entry and the snapshots that hold its path.
#[derive(Clone, Debug)]
pub struct TreeFile {
    pub entry: FileEntry,
    /// Snapshot ids holding this path, oldest first.
    pub held: Vec<i64>,
}

/// A folder of the tree: sub-folders by name, files by name.
#[derive(Default)]
pub struct Folder {
    pub folders: BTreeMap<Vec<u8>, Folder>,
    pub files: BTreeMap<Vec<u8>, TreeFile>,
    /// Bytes and files below, for the folder's line.
    pub bytes: u64,
    pub count: u64,
}

/// "1 file", "3 files".
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl Folder {
    /// One tree from the files of each snapshot (`(id, files)`, oldest first).
    pub fn build(snapshots: Vec<(i64, Vec<FileEntry>)>) -> Folder {
        let mut all: BTreeMap<Vec<u8>, TreeFile> = BTreeMap::new();
        for (id, files) in snapshots {
            for f in files {
                match all.get_mut(&f.path) {
                    Some(t) => {
                        t.held.push(id);
                        t.entry = f;
                    }
                    None => {
                        all.insert(
                            f.path.clone(),
                            TreeFile {
                                entry: f,
                                held: vec![id],
                            },
                        );
                    }
                }
            }
        }
        let mut root = Folder::default();
        for (path, f) in all {
            let parts: Vec<&[u8]> = path
                .split(|&b| b == b'/')
                .filter(|p| !p.is_empty())
                .collect();
            let Some((leaf, dirs)) = parts.split_last() else {
                continue;
            };
            let size = f.entry.size;
            let mut at = &mut root;
            at.bytes += size;
            at.count += 1;
            for d in dirs {
                at = at.folders.entry(d.to_vec()).or_default();
                at.bytes += size;
                at.count += 1;
            }
            at.files.insert(leaf.to_vec(), f);
        }
        root
    }

    /// The folder at `path` ("/a/b", "/a/b/" or "/" for this one).
    fn folder(&self, path: &[u8]) -> Option<&Folder> {
        let mut at = self;
        for c in path.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
            at = at.folders.get(c)?;
        }
        Some(at)
    }

    fn file(&self, path: &[u8]) -> Option<&TreeFile> {
        let (dir, leaf) = match path.iter().rposition(|&b| b == b'/') {
            Some(i) => (&path[..i], &path[i + 1..]),
            None => (&b""[..], path),
        };
        self.folder(dir)?.files.get(leaf)
    }

    fn each_file<'a>(&'a self, out: &mut Vec<&'a TreeFile>) {
        for f in self.folders.values() {
            f.each_file(out);
        }
        out.extend(self.files.values());
    }
}

/// The picks that are not inside another picked folder (a folder key ends in '/').
fn outermost(picked: &BTreeSet<Vec<u8>>) -> Vec<&Vec<u8>> {
    let covered = |k: &[u8]| {
        let mut end = k.strip_suffix(b"/").unwrap_or(k).len();
        while let Some(i) = k[..end].iter().rposition(|&b| b == b'/') {
            if picked.contains(&k[..=i]) && i + 1 < k.len() {
                return true;
            }
            end = i;
        }
        false
    };
    picked.iter().filter(|k| !covered(k)).collect()
}

/// How many files and bytes the picks cover (a picked folder counts every file below it).
pub fn picked_totals(tree: &Folder, picked: &BTreeSet<Vec<u8>>) -> (u64, u64) {
    let (mut n, mut bytes) = (0, 0);
    for k in outermost(picked) {
        if k.ends_with(b"/") {
            if let Some(f) = tree.folder(k) {
                n += f.count;
                bytes += f.bytes;
            }
        } else if let Some(f) = tree.file(k) {
            n += 1;
            bytes += f.entry.size;
        }
    }
    (n, bytes)
}

/// Which snapshot each picked file comes back from.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// One snapshot for every pick; the picks as recovery paths (folders without their '/').
    One(i64, Vec<Vec<u8>>),
    /// No snapshot holds them all: each file from the newest snapshot that holds it.
    Each(Vec<(i64, Vec<Vec<u8>>)>),
}

/// The plan for `picked`: from `chosen` when the person chose a snapshot, else from the newest
/// snapshot that holds every picked file, else each file from its own newest.
pub fn plan(tree: &Folder, picked: &BTreeSet<Vec<u8>>, chosen: Option<i64>, newest: i64) -> Plan {
    let keys: Vec<Vec<u8>> = outermost(picked)
        .into_iter()
        .map(|k| k.strip_suffix(b"/").unwrap_or(k).to_vec())
        .map(|k| if k.is_empty() { b"/".to_vec() } else { k })
        .collect();
    let one = |id| {
        let everything = keys.iter().any(|k| k == b"/");
        Plan::One(id, if everything { Vec::new() } else { keys.clone() })
    };
    if let Some(id) = chosen {
        return one(id);
    }
    let files = expand(tree, picked);
    let Some(first) = files.first() else {
        return one(newest);
    };
    let common = first
        .held
        .iter()
        .rev()
        .find(|id| files.iter().all(|f| f.held.contains(id)));
    if let Some(&id) = common {
        return one(id);
    }
    let mut groups: BTreeMap<i64, Vec<Vec<u8>>> = BTreeMap::new();
    for f in files {
        if let Some(&id) = f.held.last() {
            groups.entry(id).or_default().push(f.entry.path.clone());
        }
    }
    Plan::Each(groups.into_iter().rev().collect())
}

/// Every file the picks cover (a picked folder: every file below it).
fn expand<'a>(tree: &'a Folder, picked: &BTreeSet<Vec<u8>>) -> Vec<&'a TreeFile> {
    let mut files = Vec::new();
    for k in outermost(picked) {
        if k.ends_with(b"/") {
            if let Some(f) = tree.folder(k) {
                f.each_file(&mut files);
            }
        } else if let Some(f) = tree.file(k) {
            files.push(f);
        }
    }
    files
}

/// What the tab says about the picks: counted once per change of the picks or the chosen
/// snapshot, not every frame (a picked folder may hold many thousands of files).
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub files: u64,
    pub bytes: u64,
    /// Where the files would come from without a chosen snapshot.
    pub auto: Plan,
    /// Picked files the chosen snapshot does not hold.
    pub not_in_chosen: u64,
}

pub fn summarise(
    tree: &Folder,
    picked: &BTreeSet<Vec<u8>>,
    chosen: Option<i64>,
    newest: i64,
) -> Summary {
    let (files, bytes) = picked_totals(tree, picked);
    let not_in_chosen = match chosen {
        Some(id) => expand(tree, picked)
            .iter()
            .filter(|f| !f.held.contains(&id))
            .count() as u64,
        None => 0,
    };
    Summary {
        files,
        bytes,
        auto: plan(tree, picked, None, newest),
        not_in_chosen,
    }
}

/// A folder's line (pick the whole folder) and, when opened, its contents. Inside a picked
/// folder (`covered`) everything shows as picked. `newest` marks files the newest snapshot
/// no longer holds.
pub fn folder_ui(
    ui: &mut egui::Ui,
    f: &Folder,
    path: &[u8],
    picked: &mut BTreeSet<Vec<u8>>,
    covered: bool,
    newest: i64,
) {
    for (n, sub) in &f.folders {
        let mut p = path.to_vec();
        p.push(b'/');
        p.extend_from_slice(n);
        let key = [p.as_slice(), b"/"].concat();
        let label = format!(
            "{}/ ({}, {})",
            display_path(n),
            count(sub.count, "file", "files"),
            human(sub.bytes)
        );
        let this = covered || picked.contains(&key);
        egui::CollapsingHeader::new(label)
            .id_salt(("folder", &p))
            .show(ui, |ui| {
                let mut on = this;
                let pick = format!("Pick all of {}/", display_path(&p));
                if ui
                    .add_enabled(!covered, egui::Checkbox::new(&mut on, pick))
                    .changed()
                {
                    toggle(picked, key.clone(), on);
                }
                folder_ui(ui, sub, &p, picked, this, newest);
            });
    }
    for (n, file) in &f.files {
        let mut on = covered || picked.contains(&file.entry.path);
        let last = file.held.last().copied().unwrap_or(newest);
        let gone = if last < newest {
            format!(" — deleted since snapshot {last}")
        } else {
            String::new()
        };
        let label = format!("{} ({}){gone}", display_path(n), human(file.entry.size));
        let held: Vec<String> = file.held.iter().map(i64::to_string).collect();
        if ui
            .add_enabled(!covered, egui::Checkbox::new(&mut on, label))
            .on_hover_text(format!(
                "{} — inode {} — in snapshot {}",
                display_path(&file.entry.path),
                file.entry.ino,
                held.join(", ")
            ))
            .changed()
        {
            toggle(picked, file.entry.path.clone(), on);
        }
    }
}

fn toggle(picked: &mut BTreeSet<Vec<u8>>, key: Vec<u8>, on: bool) {
    if on {
        picked.insert(key);
    } else {
        picked.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ext4::Kind;

    fn e(path: &str, size: u64) -> FileEntry {
        FileEntry {
            path: path.as_bytes().to_vec(),
            ino: 12,
            size,
            mtime_ns: 0,
            kind: Kind::File,
        }
    }

    #[test]
    fn a_file_deleted_before_the_newest_snapshot_comes_from_the_one_that_holds_it() {
        let tree = Folder::build(vec![
            (
                1,
                vec![e("/p/a.jpg", 10), e("/p/b.jpg", 20), e("/c.txt", 1)],
            ),
            (2, vec![e("/p/a.jpg", 10), e("/c.txt", 2)]),
        ]);
        let set =
            |k: &[&str]| -> BTreeSet<Vec<u8>> { k.iter().map(|s| s.as_bytes().to_vec()).collect() };
        assert_eq!(tree.count, 3);
        assert_eq!(picked_totals(&tree, &set(&["/p/", "/p/a.jpg"])), (2, 30));
        assert_eq!(picked_totals(&tree, &set(&["/"])), (3, 32));
        // b.jpg is only in snapshot 1: with it picked, snapshot 1 holds them all.
        assert_eq!(
            plan(&tree, &set(&["/p/"]), None, 2),
            Plan::One(1, vec![b"/p".to_vec()])
        );
        assert_eq!(
            plan(&tree, &set(&["/c.txt"]), None, 2),
            Plan::One(2, vec![b"/c.txt".to_vec()])
        );
        assert_eq!(
            plan(&tree, &set(&["/c.txt"]), Some(1), 2),
            Plan::One(1, vec![b"/c.txt".to_vec()])
        );
        assert_eq!(plan(&tree, &set(&["/"]), None, 2), Plan::One(1, vec![]));
        let s = summarise(&tree, &set(&["/p/"]), Some(2), 2);
        assert_eq!((s.files, s.bytes, s.not_in_chosen), (2, 30, 1));
        assert_eq!(s.auto, Plan::One(1, vec![b"/p".to_vec()]));
        let tree = Folder::build(vec![
            (1, vec![e("/old.jpg", 1)]),
            (2, vec![e("/new.jpg", 1)]),
        ]);
        assert_eq!(
            plan(&tree, &set(&["/"]), None, 2),
            Plan::Each(vec![
                (2, vec![b"/new.jpg".to_vec()]),
                (1, vec![b"/old.jpg".to_vec()])
            ])
        );
    }
}
