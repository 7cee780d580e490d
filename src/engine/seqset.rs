//! A set of sequence numbers kept as sorted, disjoint ranges: memory grows with the number of
//! gaps, not with the number of blocks, so a hostile "huge" container cannot exhaust it.

/// Sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeqSet {
    ranges: Vec<(u32, u32)>,
    count: u64,
}

impl SeqSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add `n`; false when it was already present.
    pub fn insert(&mut self, n: u32) -> bool {
        // Fast path: blocks usually arrive in order.
        if let Some(last) = self.ranges.last_mut() {
            if last.1.checked_add(1) == Some(n) {
                last.1 = n;
                self.count += 1;
                return true;
            }
            if n > last.1 {
                self.ranges.push((n, n));
                self.count += 1;
                return true;
            }
        }
        let i = self.ranges.partition_point(|r| r.1 < n);
        if i < self.ranges.len() && self.ranges[i].0 <= n {
            return false;
        }
        let joins_prev = i > 0 && self.ranges[i - 1].1 + 1 == n;
        let joins_next = i < self.ranges.len() && n.checked_add(1) == Some(self.ranges[i].0);
        match (joins_prev, joins_next) {
            (true, true) => {
                self.ranges[i - 1].1 = self.ranges[i].1;
                self.ranges.remove(i);
            }
            (true, false) => self.ranges[i - 1].1 = n,
            (false, true) => self.ranges[i].0 = n,
            (false, false) => self.ranges.insert(i, (n, n)),
        }
        self.count += 1;
        true
    }

    pub fn contains(&self, n: u32) -> bool {
        let i = self.ranges.partition_point(|r| r.1 < n);
        i < self.ranges.len() && self.ranges[i].0 <= n
    }

    pub fn len(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn max(&self) -> Option<u32> {
        self.ranges.last().map(|r| r.1)
    }

    /// The ranges of `lo..=hi` that are not in the set.
    pub fn gaps(&self, lo: u32, hi: u32) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        if lo > hi {
            return out;
        }
        let mut next = u64::from(lo);
        for &(a, b) in &self.ranges {
            if u64::from(b) < next {
                continue;
            }
            if u64::from(a) > u64::from(hi) {
                break;
            }
            if u64::from(a) > next {
                out.push((next as u32, a - 1));
            }
            next = u64::from(b) + 1;
        }
        if next <= u64::from(hi) {
            out.push((next as u32, hi));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn gaps_and_merging() {
        let mut s = SeqSet::new();
        for n in [1, 2, 3, 7, 5, 6, 10] {
            assert!(s.insert(n));
        }
        assert!(!s.insert(6));
        assert_eq!(s.len(), 7);
        assert_eq!(s.gaps(1, 12), vec![(4, 4), (8, 9), (11, 12)]);
        assert_eq!(s.gaps(0, 3), vec![(0, 0)]);
        assert!(s.insert(4));
        assert_eq!(s.gaps(1, 7), vec![]);
        assert_eq!(s.max(), Some(10));
        let mut s = SeqSet::new();
        s.insert(u32::MAX);
        assert_eq!(
            s.gaps(u32::MAX - 1, u32::MAX),
            vec![(u32::MAX - 1, u32::MAX - 1)]
        );
    }

    proptest! {
        #[test]
        fn behaves_like_a_btreeset(values in proptest::collection::vec(0u32..200, 0..300)) {
            let mut s = SeqSet::new();
            let mut model = std::collections::BTreeSet::new();
            for v in values {
                prop_assert_eq!(s.insert(v), model.insert(v));
            }
            prop_assert_eq!(s.len(), model.len() as u64);
            let missing: Vec<u32> = (0..=200).filter(|v| !model.contains(v)).collect();
            let from_gaps: Vec<u32> = s.gaps(0, 200).into_iter().flat_map(|(a, b)| a..=b).collect();
            prop_assert_eq!(missing, from_gaps);
            for v in 0..=200 {
                prop_assert_eq!(s.contains(v), model.contains(&v));
            }
        }
    }
}
