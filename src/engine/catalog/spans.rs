//! The layout as the block map reads it: stored layout runs, where a run of SBX blocks (class
//! 5, one per piece of a container) comes with the block runs that lie in it, and the classes
//! of the sectors of any range of it *counted* — metadata, data and parity — from the slots'
//! geometry, without one entry per block. So the map's work grows with rows, not blocks: a
//! whole-disk view of a disk full of containers costs what its rows cost.
//!
//! A slot's class repeats with a period (a super block set, or a block set) after the
//! metadata copies at the front; a [`Pattern`] holds prefix counts over one period, so the
//! classes of any slot range are two table look-ups. Pure: no SQL, no I/O.

use super::slots::{class_of, seq_at};
use super::{CLASS_COUNT, Run, SECTOR, SectorClass};
use crate::format::rs::Layout;
use std::collections::HashMap;

/// A layout run as the map reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapRun {
    /// A run drawn as stored.
    Plain(Run),
    /// A run of SBX blocks of one container (class 5 as stored), clipped to the range asked,
    /// with the block runs of that container that lie in it, in offset order.
    Blocks(Run, Vec<BlockSpan>),
}

impl MapRun {
    /// The run as stored (clipped to the range asked for an SBX run).
    pub fn run(&self) -> &Run {
        match self {
            MapRun::Plain(r) | MapRun::Blocks(r, _) => r,
        }
    }

    /// The run drawn per block: one run per stretch of one class. Costs one entry per block
    /// in the range: for tests and small ranges; the map counts instead (`sectors`).
    pub fn expand(&self) -> Vec<Run> {
        let (r, spans) = match self {
            MapRun::Plain(r) => return vec![*r],
            MapRun::Blocks(r, spans) => (r, spans),
        };
        let mut out: Vec<Run> = Vec::new();
        // Per block: the owner of each sector, merged into runs.
        let (a, b) = (r.start_sector, r.start_sector + r.sectors);
        let mut push = |s: u64, e: u64, class: SectorClass| {
            if s >= e {
                return;
            }
            match out.last_mut() {
                Some(l) if l.class == class && l.start_sector + l.sectors == s => {
                    l.sectors += e - s
                }
                _ => out.push(Run {
                    start_sector: s,
                    sectors: e - s,
                    class,
                    uid: r.uid,
                }),
            }
        };
        let first = spans.first().map_or(b, |s| (s.offset / SECTOR).clamp(a, b));
        push(a, first, SectorClass::SbxBlock);
        for (j, span) in spans.iter().enumerate() {
            let (sa, sb) = owned(spans, j, a, b);
            let mut s = sa;
            while s < sb {
                let i = span.owner(s);
                // The sectors block i owns, from s.
                let e = if i + 1 < span.count {
                    span.first_sector(i + 1).min(sb)
                } else {
                    sb
                };
                // Blocks smaller than a sector: the next sector has another owner.
                let e = e.max(s + 1);
                push(s, e, span.class(i));
                s = e;
            }
        }
        out
    }

    /// Add the sectors per class of this run within sectors `range`, split into cells of
    /// `per` sectors from sector `base` (`cells = (base, per)`), to `add(cell, counts)`.
    /// Costs a few table look-ups per cell and block run, whatever the blocks.
    pub fn tally(
        &self,
        patterns: &mut Patterns,
        cells: (u64, u64),
        range: (u64, u64),
        mut add: impl FnMut(usize, &[u64; CLASS_COUNT]),
    ) {
        let (base, per) = cells;
        let r = self.run();
        let a = r.start_sector.max(range.0);
        let b = r.start_sector.saturating_add(r.sectors).min(range.1);
        if a >= b {
            return;
        }
        // Split a..b at cell edges; `count` adds the classes of one piece of one cell.
        let mut by_cell =
            |sa: u64, sb: u64, count: &mut dyn FnMut(u64, u64) -> [u64; CLASS_COUNT]| {
                let mut s = sa;
                while s < sb {
                    let i = (s - base) / per;
                    let e = sb.min(base + (i + 1) * per);
                    add(i as usize, &count(s, e));
                    s = e;
                }
            };
        match self {
            MapRun::Plain(r) => by_cell(a, b, &mut |s, e| {
                let mut c = [0; CLASS_COUNT];
                c[r.class as usize] = e - s;
                c
            }),
            MapRun::Blocks(_, spans) => {
                let first = spans.first().map_or(b, |s| (s.offset / SECTOR).clamp(a, b));
                by_cell(a, first, &mut |s, e| {
                    let mut c = [0; CLASS_COUNT];
                    c[SectorClass::SbxBlock as usize] = e - s;
                    c
                });
                for (j, span) in spans.iter().enumerate() {
                    let (sa, sb) = owned(spans, j, a, b);
                    by_cell(sa, sb, &mut |s, e| span.count_sectors(patterns, s, e));
                }
            }
        }
    }
}

/// Sectors of `a..b` whose last block starting before their end is in `spans[j]`: from the
/// sector its first block starts in to the sector the next span's first block starts in.
fn owned(spans: &[BlockSpan], j: usize, a: u64, b: u64) -> (u64, u64) {
    let sa = (spans[j].offset / SECTOR).clamp(a, b);
    let sb = spans
        .get(j + 1)
        .map_or(b, |n| (n.offset / SECTOR).clamp(sa, b));
    (sa, sb)
}

/// A block run of a container as the map reads it: `count` blocks from byte `offset`, slots
/// `slot..` of `layout`; `shards` is (M, P) from the container's metadata (`None`: not
/// known, its blocks are drawn as SBX blocks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockSpan {
    pub offset: u64,
    pub count: u64,
    pub slot: u64,
    pub layout: Layout,
    pub shards: Option<(i64, i64)>,
}

impl BlockSpan {
    fn block_size(&self) -> u64 {
        self.layout.version.block_size() as u64
    }

    /// The sector block `i` starts in.
    fn first_sector(&self, i: u64) -> u64 {
        (self.offset + i * self.block_size()) / SECTOR
    }

    /// The block whose class sector `s` takes: the last starting before the sector's end
    /// (the last block of the run for sectors past it). `s` lies at or after the sector the
    /// run's first block starts in.
    fn owner(&self, s: u64) -> u64 {
        (((s + 1) * SECTOR - 1).saturating_sub(self.offset) / self.block_size()).min(self.count - 1)
    }

    fn class(&self, i: u64) -> SectorClass {
        class_of(
            seq_at(&self.layout, self.slot + i),
            self.layout.version,
            self.shards,
        )
    }

    /// Sectors per class of sectors `s..e` (owned by this run).
    fn count_sectors(&self, patterns: &mut Patterns, s: u64, e: u64) -> [u64; CLASS_COUNT] {
        let mut c = [0u64; CLASS_COUNT];
        let bs = self.block_size();
        let (ia, ib) = (self.owner(s), self.owner(e - 1));
        if ia == ib {
            c[self.class(ia) as usize] += e - s;
            return c;
        }
        if bs >= SECTOR {
            // Block i owns the sectors from the one it starts in to the one the next starts
            // in: bs / 512 of them, but for the first and the last (which runs to `e`).
            c[self.class(ia) as usize] += self.first_sector(ia + 1) - s;
            c[self.class(ib) as usize] += e - self.first_sector(ib);
            let middle = patterns.count(self, self.slot + ia + 1, ib - ia - 1, 1);
            let w = bs / SECTOR;
            for (k, n) in middle.iter().enumerate() {
                c[k] += n * w;
            }
        } else {
            // Several blocks per sector: sector s takes block owner(s), the next sector the
            // block SECTOR / bs further (a progression), past the last block the last one.
            let step = SECTOR / bs;
            let last = self.count - 1;
            let unclamped = ((s + 1) * SECTOR - 1).saturating_sub(self.offset) / bs;
            let n = e - s;
            let inside = if unclamped > last {
                0
            } else {
                n.min((last - unclamped) / step + 1)
            };
            let counted = patterns.count(self, self.slot + unclamped, inside, step);
            for (k, v) in counted.iter().enumerate() {
                c[k] += v;
            }
            c[self.class(last) as usize] += n - inside;
        }
        c
    }
}

/// The periodic class patterns of the geometries seen, for counting slot classes.
#[derive(Default)]
pub struct Patterns {
    known: HashMap<PatternKey, Option<Pattern>>,
}

type PatternKey = (u8, usize, usize, u32, usize, Option<(i64, i64)>, u64);

/// Periods whose table is not built: only geometries no encoder writes have them (counted
/// slot by slot instead).
const MAX_PERIOD: u64 = 1 << 21;

/// The classes of a run's slots from `base` on repeat every `period` slots: prefix counts
/// over one period, per residue of the step counted with.
struct Pattern {
    base: u64,
    period: u64,
    step: u64,
    /// prefix[x]: classes of slots base + y, y < x, y ≡ x (mod step).
    prefix: Vec<[u32; CLASS_COUNT]>,
    /// Per residue r mod step: classes of the slots base + y, y < period, y ≡ r.
    total: Vec<[u64; CLASS_COUNT]>,
}

impl Patterns {
    /// Slots per class of slots `k0, k0 + step, …` (`n` of them) of `span`'s layout.
    fn count(&mut self, span: &BlockSpan, k0: u64, n: u64, step: u64) -> [u64; CLASS_COUNT] {
        let mut c = [0u64; CLASS_COUNT];
        let class = |k: u64| class_of(seq_at(&span.layout, k), span.layout.version, span.shards);
        let l = &span.layout;
        let key = (
            l.version.byte(),
            l.data,
            l.parity,
            l.burst,
            l.meta_copies,
            span.shards,
            step,
        );
        let pattern = self
            .known
            .entry(key)
            .or_insert_with(|| Pattern::new(span, step));
        let Some(p) = pattern else {
            for t in 0..n {
                c[class(k0 + t * step) as usize] += 1;
            }
            return c;
        };
        // The slots before the period starts (the metadata copies at the front): one by one.
        let mut k = k0;
        let end = k0 + n * step;
        while k < end && k < p.base {
            c[class(k) as usize] += 1;
            k += step;
        }
        if k < end {
            let (g1, g0) = (p.below(end - p.base), p.below(k - p.base));
            for i in 0..8 {
                c[i] += g1[i] - g0[i];
            }
        }
        c
    }
}

impl Pattern {
    /// The pattern of `span`'s slot classes counted with `step`; `None` when its period is
    /// too long to tabulate.
    fn new(span: &BlockSpan, step: u64) -> Option<Pattern> {
        let l = &span.layout;
        // T of the container's metadata: the class of sequence number n is (n − 1) mod T.
        let t = match span.shards {
            Some((m, p)) if l.version.uses_rs() && m > 0 && p >= 0 => (m + p) as u64,
            _ => 1,
        };
        let meta = l.meta_copies as u64;
        let (base, period) = if l.is_rs() && l.burst > 0 {
            // Past the metadata copies, slot meta + j holds 1 + j' where j' differs from j
            // only within a super block set of S slots: the classes repeat every lcm(S, T).
            let s = l.shards() as u64 * u64::from(l.burst);
            (meta * (1 + u64::from(l.burst)), lcm(s, t))
        } else {
            // Slot meta + j holds sequence number 1 + j.
            (meta, t)
        };
        let q = lcm(period, step);
        if q > MAX_PERIOD {
            return None;
        }
        let class = |y: u64| class_of(seq_at(l, base + y), l.version, span.shards) as usize;
        let mut prefix = vec![[0u32; CLASS_COUNT]; q as usize];
        for x in step..q {
            let mut v = prefix[(x - step) as usize];
            v[class(x - step)] += 1;
            prefix[x as usize] = v;
        }
        let total = (0..step)
            .map(|r| {
                let x = q - step + r;
                let mut v = prefix[x as usize].map(u64::from);
                v[class(x)] += 1;
                v
            })
            .collect();
        Some(Pattern {
            base,
            period: q,
            step,
            prefix,
            total,
        })
    }

    /// Classes of the slots base + y, y < u, y ≡ u (mod step).
    fn below(&self, u: u64) -> [u64; CLASS_COUNT] {
        let whole = u / self.period;
        let mut v = self.total[(u % self.step) as usize].map(|n| n * whole);
        let part = &self.prefix[(u % self.period) as usize];
        for i in 0..8 {
            v[i] += u64::from(part[i]);
        }
        v
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

fn lcm(a: u64, b: u64) -> u64 {
    (a / gcd(a, b)).saturating_mul(b)
}
