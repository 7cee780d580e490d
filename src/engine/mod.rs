//! Jobs over files and devices. No egui, no printing: every job takes options, a cancel flag
//! and a progress callback, and returns a report or a typed error.

pub mod assemble;
pub mod calc;
pub mod catalog;
pub mod check;
pub mod container;
pub mod decode;
pub mod demo;
pub mod disks;
pub mod encode;
pub mod fs;
pub use fs::ext4;
pub use fs::ntfs;
pub mod fat;
pub mod geometry;
pub mod granted;
pub mod hashpipe;
pub mod import;
pub mod info;
pub mod io;
pub mod job;
pub mod layout;
pub mod output;
pub mod recover;
pub mod repair;
pub mod scan;
pub mod seqset;
pub mod source;
pub mod sources;
pub mod sqlite;
#[cfg(target_os = "linux")]
pub mod udisks;
pub mod walk;
pub mod words;
pub mod writer;

pub use job::{CancelFlag, Error, Progress, Stage};
