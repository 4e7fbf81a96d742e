//! A directory's members by name, in name order.
//!
//! This does a BTreeMap's job for the index with a fraction of its code, which matters in
//! a guest of a few dozen kilobytes. Names live in two sorted runs: `sorted`, and
//! `recent`, a shorter run that new names are inserted into and that is merged into
//! `sorted` once it outgrows the square root of the whole. Lookups binary-search both;
//! an insertion moves at most about √n entries, plus a merge every √n insertions, so
//! even a directory of a hundred thousand members in random order builds quickly.

/// Members of a directory: (name, node) pairs.
#[derive(Debug, Default)]
pub struct Members {
    sorted: Vec<(String, usize)>,
    recent: Vec<(String, usize)>,
}

fn search(run: &[(String, usize)], name: &str) -> Result<usize, usize> {
    run.binary_search_by(|(member, _)| member.as_str().cmp(name))
}

impl Members {
    /// The node of the member `name`.
    pub fn get(&self, name: &str) -> Option<usize> {
        [&self.sorted, &self.recent]
            .into_iter()
            .find_map(|run| Some(run[search(run, name).ok()?].1))
    }

    /// Adds `name`, which must not be a member yet.
    pub fn insert(&mut self, name: &str, id: usize) {
        debug_assert!(self.get(name).is_none());
        if let Err(at) = search(&self.recent, name) {
            self.recent.insert(at, (name.to_string(), id));
        }
        if self.recent.len() * self.recent.len() > self.sorted.len() + 64 {
            self.merge();
        }
    }

    /// Merges `recent` into `sorted`; done when the index is complete, so that `iter`
    /// sees every member.
    pub fn merge(&mut self) {
        if self.recent.is_empty() {
            return;
        }
        let mut merged = Vec::with_capacity(self.sorted.len() + self.recent.len());
        let mut old = std::mem::take(&mut self.sorted).into_iter().peekable();
        for new in std::mem::take(&mut self.recent) {
            while let Some(member) = old.next_if(|(name, _)| *name < new.0) {
                merged.push(member);
            }
            merged.push(new);
        }
        merged.extend(old);
        self.sorted = merged;
    }

    /// Every member in name order (once merged).
    pub fn iter(&self) -> impl Iterator<Item = (&str, usize)> {
        debug_assert!(self.recent.is_empty(), "members listed before the final merge");
        self.sorted.iter().map(|(name, id)| (name.as_str(), *id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_in_any_order_come_out_sorted() {
        let mut members = Members::default();
        // A fixed permutation of 0..20000 (7919 is prime, so coprime with 20000).
        let names: Vec<String> = (0..20_000u32).map(|i| format!("m{:06}", i * 7919 % 20_000)).collect();
        for (id, name) in names.iter().enumerate() {
            assert_eq!(members.get(name), None);
            members.insert(name, id);
            assert_eq!(members.get(name), Some(id));
        }
        for (id, name) in names.iter().enumerate() {
            assert_eq!(members.get(name), Some(id), "{name}");
        }
        assert_eq!(members.get("m"), None);
        members.merge();
        let listed: Vec<&str> = members.iter().map(|(name, _)| name).collect();
        let mut expected: Vec<&str> = names.iter().map(String::as_str).collect();
        expected.sort();
        assert_eq!(listed, expected);
        assert!(members.iter().all(|(name, id)| names[id] == name));
    }

    #[test]
    fn empty_and_tiny() {
        let mut members = Members::default();
        members.merge();
        assert_eq!(members.iter().count(), 0);
        members.insert("b", 2);
        members.insert("a", 1);
        members.merge();
        assert_eq!(members.iter().collect::<Vec<_>>(), [("a", 1), ("b", 2)]);
    }
}
