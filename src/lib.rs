//! SeqBox Studio's engine: the SBX format and the jobs over files and devices.
//!
//! The GUI and the CLI are thin callers of this library; nothing here prints or draws.

pub mod engine;
pub mod format;
