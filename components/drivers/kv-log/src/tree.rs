//! The store's tree in memory: where each value lies on the device, by path. Dictionaries
//! are the paths' prefixes, so a dictionary exists while it holds something. Every change
//! is checked and applied here, the same way when the driver makes it and when a mount
//! replays it from the log.

use std::collections::BTreeMap;

/// Where a value lies on the device, and when it was set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Value {
    /// Its first byte's offset on the device.
    pub at: u64,
    /// Its length.
    pub len: u64,
    /// When it was set, in nanoseconds since the epoch.
    pub modified: u64,
}

/// What a key names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A value.
    Value,
    /// A dictionary.
    Dictionary,
}

/// Why a change or a lookup failed, as the kv interfaces name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The key names nothing.
    NotFound(String),
    /// The key names a dictionary where a value was expected.
    DictionaryExpected(String),
    /// The key, or a dictionary on its way, names a value where a dictionary was expected.
    ValueExpected(String),
    /// The key breaks the key rule.
    InvalidKey(String),
    /// A rename would move a dictionary into itself or replace a dictionary.
    InvalidRename(String),
    /// The device has no room for the change.
    NoSpace(String),
    /// The device failed.
    Io(String),
}

/// One change, on paths (`""` is the root).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Sets the value at a path.
    Set(String, Value),
    /// Removes what a path names.
    Remove(String),
    /// Moves what a path names to another.
    Rename(String, String),
}

/// Every value of the store, by path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tree(pub BTreeMap<String, Value>);

/// The path of a key: its segments joined with `/`, `""` for the root.
pub fn path_of(key: &str) -> Result<String, Error> {
    let segments = ukc_hvt_abi::kv_key::segments(key)
        .ok_or_else(|| Error::InvalidKey(format!("{key}: {}", ukc_hvt_abi::kv_key::RULE)))?;
    Ok(segments.join("/"))
}

/// `path` under `parent` (which may be the root).
fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() { name.to_string() } else { format!("{parent}/{name}") }
}

impl Tree {
    /// The values under the dictionary `path` (all of them for the root), by path.
    fn under<'a>(&'a self, path: &str) -> impl Iterator<Item = (&'a String, &'a Value)> + 'a {
        let prefix = if path.is_empty() { String::new() } else { format!("{path}/") };
        self.0.range(prefix.clone()..).take_while(move |(k, _)| k.starts_with(&prefix))
    }

    /// What `path` names.
    pub fn kind(&self, path: &str) -> Option<Kind> {
        if self.0.contains_key(path) {
            Some(Kind::Value)
        } else if path.is_empty() || self.under(path).next().is_some() {
            Some(Kind::Dictionary)
        } else {
            None
        }
    }

    /// The value at `path`, or why there is none.
    pub fn value(&self, path: &str) -> Result<Value, Error> {
        match self.kind(path) {
            Some(Kind::Value) => Ok(self.0[path]),
            Some(Kind::Dictionary) => Err(Error::DictionaryExpected(path.to_string())),
            None => Err(Error::NotFound(path.to_string())),
        }
    }

    /// The members of the dictionary at `path`, sorted by name.
    pub fn list(&self, path: &str) -> Result<Vec<(String, Kind)>, Error> {
        match self.kind(path) {
            Some(Kind::Dictionary) => {}
            Some(Kind::Value) => return Err(Error::ValueExpected(path.to_string())),
            None => return Err(Error::NotFound(path.to_string())),
        }
        let skip = if path.is_empty() { 0 } else { path.len() + 1 };
        let mut members: Vec<(String, Kind)> = Vec::new();
        for (key, _) in self.under(path) {
            let rest = &key[skip..];
            let member = match rest.split_once('/') {
                Some((name, _)) => (name.to_string(), Kind::Dictionary),
                None => (rest.to_string(), Kind::Value),
            };
            members.push(member);
        }
        // Key order is not name order (`a-c` comes before `a/b`): sort, then merge the
        // members of one dictionary.
        members.sort();
        members.dedup();
        Ok(members)
    }

    /// When what `path` names last changed: a dictionary, when its newest value did.
    pub fn modified(&self, path: &str) -> Result<u64, Error> {
        match self.kind(path) {
            Some(Kind::Value) => Ok(self.0[path].modified),
            Some(Kind::Dictionary) => Ok(self.under(path).map(|(_, v)| v.modified).max().unwrap_or(0)),
            None => Err(Error::NotFound(path.to_string())),
        }
    }

    /// The value on the way to `path` (a proper prefix of it), if there is one.
    fn value_on_the_way<'p>(&self, path: &'p str) -> Option<&'p str> {
        path.match_indices('/').map(|(at, _)| &path[..at]).find(|prefix| self.0.contains_key(*prefix))
    }

    /// Applies `change`, or says why it cannot be.
    pub fn apply(&mut self, change: &Change) -> Result<(), Error> {
        match change {
            Change::Set(path, value) => {
                if self.kind(path) == Some(Kind::Dictionary) {
                    return Err(Error::DictionaryExpected(path.clone()));
                }
                if let Some(prefix) = self.value_on_the_way(path) {
                    return Err(Error::ValueExpected(format!("{path}: {prefix} is a value")));
                }
                self.0.insert(path.clone(), *value);
            }
            Change::Remove(path) => match self.kind(path) {
                None => return Err(Error::NotFound(path.clone())),
                Some(Kind::Value) => {
                    self.0.remove(path);
                }
                Some(Kind::Dictionary) => {
                    let gone: Vec<String> = self.under(path).map(|(k, _)| k.clone()).collect();
                    for key in gone {
                        self.0.remove(&key);
                    }
                }
            },
            Change::Rename(from, to) => {
                let kind = self.kind(from).ok_or_else(|| Error::NotFound(from.clone()))?;
                if from == to {
                    return Ok(());
                }
                if from.is_empty() || to.is_empty() || to.starts_with(&format!("{from}/")) {
                    return Err(Error::InvalidRename(format!("{from} cannot move into {to}, inside itself")));
                }
                match self.kind(to) {
                    Some(Kind::Dictionary) => {
                        return Err(Error::InvalidRename(format!(
                            "{to} is a dictionary, which a rename does not replace"
                        )));
                    }
                    Some(Kind::Value) if kind == Kind::Dictionary => return Err(Error::ValueExpected(to.clone())),
                    _ => {}
                }
                if let Some(prefix) = self.value_on_the_way(to) {
                    return Err(Error::ValueExpected(format!("{to}: {prefix} is a value")));
                }
                let moved: Vec<(String, Value)> = match kind {
                    Kind::Value => vec![(from.clone(), self.0[from])],
                    Kind::Dictionary => self.under(from).map(|(k, v)| (k.clone(), *v)).collect(),
                };
                for (key, value) in moved {
                    self.0.remove(&key);
                    let rest = key[from.len()..].trim_start_matches('/');
                    self.0.insert(if rest.is_empty() { to.clone() } else { join(to, rest) }, value);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(at: u64) -> Value {
        Value { at, len: 1, modified: at }
    }

    fn tree(paths: &[&str]) -> Tree {
        let mut t = Tree::default();
        for (i, p) in paths.iter().enumerate() {
            t.apply(&Change::Set(p.to_string(), value(i as u64))).unwrap();
        }
        t
    }

    #[test]
    fn dictionaries_are_the_prefixes_of_values() {
        let t = tree(&["a/b", "a/c/d", "e"]);
        assert_eq!(t.kind(""), Some(Kind::Dictionary));
        assert_eq!(t.kind("a"), Some(Kind::Dictionary));
        assert_eq!(t.kind("a/c/d"), Some(Kind::Value));
        assert_eq!(t.kind("a/x"), None);
        assert_eq!(t.kind("a/b/c"), None);
        assert_eq!(t.list("").unwrap(), [("a".into(), Kind::Dictionary), ("e".into(), Kind::Value)]);
        assert_eq!(t.list("a").unwrap(), [("b".into(), Kind::Value), ("c".into(), Kind::Dictionary)]);
        assert_eq!(t.list("e"), Err(Error::ValueExpected("e".into())));
        assert_eq!(t.modified("a").unwrap(), 1);
        assert_eq!(Tree::default().list("").unwrap(), []);
        let t = tree(&["a-c", "a/b", "a/d"]);
        assert_eq!(t.list("").unwrap(), [("a".into(), Kind::Dictionary), ("a-c".into(), Kind::Value)]);
    }

    #[test]
    fn changes_are_checked_as_the_directory_stores_check_them() {
        let mut t = tree(&["a/b", "e"]);
        assert_eq!(t.apply(&Change::Set("a".into(), value(9))), Err(Error::DictionaryExpected("a".into())));
        assert_eq!(t.apply(&Change::Set("".into(), value(9))), Err(Error::DictionaryExpected("".into())));
        assert!(matches!(t.apply(&Change::Set("e/f".into(), value(9))), Err(Error::ValueExpected(_))));
        assert_eq!(t.apply(&Change::Remove("x".into())), Err(Error::NotFound("x".into())));
        assert!(matches!(t.apply(&Change::Rename("a".into(), "a/in".into())), Err(Error::InvalidRename(_))));
        assert!(matches!(t.apply(&Change::Rename("e".into(), "a".into())), Err(Error::InvalidRename(_))));
        assert_eq!(t.apply(&Change::Rename("a".into(), "e".into())), Err(Error::ValueExpected("e".into())));
        t.apply(&Change::Rename("a".into(), "moved/here".into())).unwrap();
        assert_eq!(t, tree(&["moved/here/b", "e"]).with_values(&[("moved/here/b", 0), ("e", 1)]));
        t.apply(&Change::Rename("e".into(), "moved/here/b".into())).unwrap();
        assert_eq!(t.0.len(), 1, "a rename replaces a value");
        t.apply(&Change::Remove("".into())).unwrap();
        assert_eq!(t, Tree::default());
    }

    impl Tree {
        fn with_values(mut self, values: &[(&str, u64)]) -> Tree {
            for (path, at) in values {
                self.0.insert(path.to_string(), value(*at));
            }
            self
        }
    }
}
