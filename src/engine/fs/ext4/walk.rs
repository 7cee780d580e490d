//! The directory walk: breadth-first from the root with a visited set and no depth limit,
//! yielding every regular file once with all its paths (hard links). Symlinks and special
//! files are noted and skipped (never followed). Never writes.

use super::dir::read_dir;
use super::fs::{Fs, ROOT_INO};
use super::inode::{Inode, Kind};
use super::{Problem, display_path};
use crate::engine::job::{CancelFlag, Error};
use std::collections::{BTreeMap, HashSet, VecDeque};

/// A regular file and every path that names it.
#[derive(Clone, Debug)]
pub struct FileRec {
    pub inode: Inode,
    /// Absolute paths as raw bytes (`/dir/name`), sorted.
    pub paths: Vec<Vec<u8>>,
}

#[derive(Clone, Debug, Default)]
pub struct Tree {
    /// Regular files by inode number.
    pub files: BTreeMap<u32, FileRec>,
    pub dirs: u64,
    pub problems: Vec<Problem>,
    /// Things skipped on purpose (symlinks, devices), in words.
    pub notes: Vec<String>,
}

fn join(parent: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(parent.len() + 1 + name.len());
    p.extend_from_slice(parent);
    if !p.ends_with(b"/") {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

/// Walk every directory reachable from the root.
pub fn walk(fs: &Fs, cancel: &CancelFlag) -> Result<Tree, Error> {
    let mut t = Tree {
        problems: fs.problems.clone(),
        ..Tree::default()
    };
    let mut visited = HashSet::new();
    let mut queue = VecDeque::new();
    queue.push_back((ROOT_INO, b"/".to_vec()));
    visited.insert(ROOT_INO);
    while let Some((ino, path)) = queue.pop_front() {
        cancel.check()?;
        let dir = match fs.inode(ino) {
            Ok(i) => i,
            Err(e) => {
                t.problems
                    .push(Problem::new(u64::from(ino), e, display_path(&path)));
                continue;
            }
        };
        if dir.kind() != Kind::Dir {
            t.problems.push(Problem::new(
                u64::from(ino),
                "is not a directory",
                display_path(&path),
            ));
            continue;
        }
        t.dirs += 1;
        for e in read_dir(fs, &dir, &mut t.problems) {
            let p = join(&path, &e.name);
            if e.name.contains(&b'/') {
                t.problems.push(Problem::new(
                    u64::from(e.ino),
                    "name contains '/'",
                    display_path(&p),
                ));
                continue;
            }
            let inode = match fs.inode(e.ino) {
                Ok(i) => i,
                Err(err) => {
                    t.problems
                        .push(Problem::new(u64::from(e.ino), err, display_path(&p)));
                    continue;
                }
            };
            if inode.is_deleted() {
                t.problems.push(Problem::new(
                    u64::from(e.ino),
                    "directory entry names a deleted inode",
                    display_path(&p),
                ));
                continue;
            }
            match inode.kind() {
                Kind::Dir => {
                    if visited.insert(e.ino) {
                        queue.push_back((e.ino, p));
                    } else {
                        t.problems.push(Problem::new(
                            u64::from(e.ino),
                            "directory reached twice (a loop or a hard-linked directory); not walked again",
                            display_path(&p),
                        ));
                    }
                }
                Kind::File => {
                    t.files
                        .entry(e.ino)
                        .or_insert_with(|| FileRec {
                            inode,
                            paths: Vec::new(),
                        })
                        .paths
                        .push(p);
                }
                Kind::Symlink => t.notes.push(format!(
                    "{}: symbolic link, recorded as skipped (not followed)",
                    display_path(&p)
                )),
                Kind::Special => t.notes.push(format!(
                    "{}: device, FIFO or socket, skipped",
                    display_path(&p)
                )),
                Kind::Unknown => t.problems.push(Problem::new(
                    u64::from(e.ino),
                    format!("inode has no known type (mode {:#o})", inode.mode),
                    display_path(&p),
                )),
            }
        }
    }
    for f in t.files.values_mut() {
        f.paths.sort();
    }
    Ok(t)
}
