//! The data stream of a reassembly: chunks appended in file order (clipped to the file
//! size, RS padding held back when the size is unknown), written to the output and handed
//! to the hash thread in large pieces; and, for a partial output, chunks put at their place
//! outside the hashed stream. Never reads the container.

use super::state::State;
use super::{OUT_CHUNK, Sink};
use crate::engine::job::Error;
use crate::format::metadata::PAD;
use std::io::{Seek, SeekFrom, Write};

impl State {
    /// When writing partial results, put data chunk `chunk` at its place in the output
    /// (outside the hashed stream, which is broken by then).
    pub(super) fn write_partial(
        &mut self,
        chunk: u64,
        payload: &[u8],
        sink: &mut Sink<'_>,
    ) -> Result<(), Error> {
        if !self.partial {
            return Ok(());
        }
        self.flush(sink)?;
        let at = chunk * self.payload as u64;
        let keep = match self.fsz {
            Some(n) => n.saturating_sub(at).min(self.payload as u64) as usize,
            None => payload.len(),
        };
        if let Some((f, path)) = sink {
            f.seek(SeekFrom::Start(at)).map_err(Error::write(*path))?;
            f.write_all(&payload[..keep]).map_err(Error::write(*path))?;
        }
        Ok(())
    }

    /// Append data chunk `chunk` (its payload) to the stream, clipped to the file size.
    pub(super) fn emit(
        &mut self,
        chunk: u64,
        payload: &[u8],
        sink: &mut Sink<'_>,
    ) -> Result<(), Error> {
        let keep = match self.fsz {
            Some(n) => n
                .saturating_sub(chunk * self.payload as u64)
                .min(self.payload as u64) as usize,
            None => payload.len(),
        };
        if self.trim_padding {
            if payload.iter().all(|&b| b == PAD) {
                self.held_pads += 1;
                return Ok(());
            }
            while self.held_pads > 0 {
                self.held_pads -= 1;
                self.out.extend(std::iter::repeat_n(PAD, self.payload));
                self.maybe_flush(sink)?;
            }
        }
        self.out.extend_from_slice(&payload[..keep]);
        self.maybe_flush(sink)
    }

    fn maybe_flush(&mut self, sink: &mut Sink<'_>) -> Result<(), Error> {
        if self.out.len() >= OUT_CHUNK {
            self.flush(sink)?;
        }
        Ok(())
    }

    /// Write the in-order bytes and hand them to the hasher.
    pub(super) fn flush(&mut self, sink: &mut Sink<'_>) -> Result<(), Error> {
        if self.out.is_empty() {
            return Ok(());
        }
        if let Some((f, path)) = sink {
            f.seek(SeekFrom::Start(self.out_start))
                .map_err(Error::write(*path))?;
            f.write_all(&self.out).map_err(Error::write(*path))?;
        }
        self.out_start += self.out.len() as u64;
        let full = std::mem::take(&mut self.out);
        self.pipe.feed(full);
        self.out = self.pipe.buffer();
        self.out.clear();
        Ok(())
    }
}
