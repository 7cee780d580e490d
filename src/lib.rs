//! SeqBox Studio's engine: the SBX format and the jobs over files and devices.
//!
//! The CLI (in the binary) and the desktop app (`gui`) are thin callers of the engine; nothing
//! in `engine` or `format` prints or draws.

pub mod engine;
pub mod format;
pub mod gui;
