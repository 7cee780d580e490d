//! The sector-class map model the block map draws: a source's run-length layout aggregated
//! into a fixed number of cells, so drawing costs the same for a floppy and a 4 TB disk.

use super::catalog::{CLASS_COUNT, MapRun, Patterns, Run, SectorClass};

/// What one cell covers: sectors of each class, and the container most present in it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cell {
    pub start_sector: u64,
    pub sectors: u64,
    /// Sectors per class, indexed by the class code.
    pub counts: [u64; CLASS_COUNT],
    pub uid: Option<u64>,
}

impl Cell {
    /// The class the cell is painted as. Damage wins when present at all (it is what a user
    /// must see), then SBX blocks, then the majority of the rest.
    pub fn shown(&self) -> Option<SectorClass> {
        let has = |c: SectorClass| self.counts[c as usize] > 0;
        for c in [SectorClass::Unreadable, SectorClass::Damaged] {
            if has(c) {
                return Some(c);
            }
        }
        let sbx = [
            SectorClass::SbxMeta,
            SectorClass::SbxParity,
            SectorClass::SbxData,
            SectorClass::SbxBlock,
        ];
        if let Some(c) = sbx
            .into_iter()
            .filter(|&c| has(c))
            .max_by_key(|&c| self.counts[c as usize])
        {
            return Some(c);
        }
        [
            SectorClass::Other,
            SectorClass::FsStructure,
            SectorClass::Empty,
        ]
        .into_iter()
        .filter(|&c| has(c))
        .max_by_key(|&c| self.counts[c as usize])
    }
}

/// Aggregate `runs` (sorted, possibly extending past the range) into `n` cells covering
/// sectors `from..to`. O(runs + cells).
pub fn cells(runs: &[Run], from: u64, to: u64, n: usize) -> Vec<Cell> {
    let runs: Vec<MapRun> = runs.iter().map(|r| MapRun::Plain(*r)).collect();
    cells_of(&runs, from, to, n)
}

/// Aggregate layout runs as the map reads them (`Catalog::map_runs`) into `n` cells covering
/// sectors `from..to`: the classes of a run of SBX blocks are counted per cell from its block
/// runs' geometry, so the work grows with the runs and the cells, never with the blocks.
/// A cell's container is the one with the most SBX sectors in it.
pub fn cells_of(runs: &[MapRun], from: u64, to: u64, n: usize) -> Vec<Cell> {
    let n = n.max(1);
    let span = to.saturating_sub(from).max(1);
    let per = span.div_ceil(n as u64).max(1);
    let count = span.div_ceil(per) as usize;
    let mut out: Vec<Cell> = (0..count)
        .map(|i| Cell {
            start_sector: from + i as u64 * per,
            sectors: per.min(to.saturating_sub(from + i as u64 * per)),
            ..Default::default()
        })
        .collect();
    // Per cell: SBX sectors of the container counted last, and the most of any so far.
    let mut last: Vec<(Option<u64>, u64)> = vec![(None, 0); count];
    let mut best: Vec<u64> = vec![0; count];
    let mut patterns = Patterns::default();
    for r in runs {
        let uid = r.run().uid;
        r.tally(&mut patterns, (from, per), (from, to), |i, counts| {
            let cell = &mut out[i];
            let mut sbx = 0;
            for (k, n) in counts.iter().enumerate() {
                cell.counts[k] += n;
                if SectorClass::from_code(k as i64).is_sbx() {
                    sbx += n;
                }
            }
            if sbx == 0 {
                return;
            }
            // A container's SBX sectors add up over its runs in the cell.
            let l = &mut last[i];
            if l.0 == uid {
                l.1 += sbx;
            } else {
                *l = (uid, sbx);
            }
            if l.1 > best[i] {
                best[i] = l.1;
                cell.uid = uid;
            }
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(start: u64, sectors: u64, class: SectorClass, uid: Option<u64>) -> Run {
        Run {
            start_sector: start,
            sectors,
            class,
            uid,
        }
    }

    #[test]
    fn cells_aggregate_runs_and_damage_always_shows() {
        // 0..100 empty, 100..300 data of container 7, one damaged sector at 300, rest other.
        let runs = vec![
            run(0, 100, SectorClass::Empty, None),
            run(100, 200, SectorClass::SbxData, Some(7)),
            run(300, 1, SectorClass::Damaged, None),
            run(301, 99, SectorClass::Other, None),
        ];
        let c = cells(&runs, 0, 400, 4);
        assert_eq!(c.len(), 4);
        assert_eq!(c[0].shown(), Some(SectorClass::Empty));
        assert_eq!(
            (c[1].shown(), c[1].uid),
            (Some(SectorClass::SbxData), Some(7))
        );
        assert_eq!(c[3].counts[SectorClass::Damaged as usize], 1);
        assert_eq!(
            c[3].shown(),
            Some(SectorClass::Damaged),
            "one bad sector tints the cell"
        );
        let total: u64 = c.iter().map(|c| c.counts.iter().sum::<u64>()).sum();
        assert_eq!(total, 400, "every sector counted once");
        // A range inside the runs, and more cells than sectors.
        let c = cells(&runs, 150, 160, 100);
        assert_eq!(c.len(), 10);
        assert!(
            c.iter()
                .all(|c| c.counts[SectorClass::SbxData as usize] == 1)
        );
    }
}
