//! The in-memory tree of an archive's members: paths normalised, parent dictionaries
//! implied, later members replacing earlier ones, links resolved once after the scan.
//!
//! Nodes live in one vector and refer to each other by position, so that replacing a
//! member is an in-place overwrite, a resolved symlink is just the position of its
//! target and every node knows its directory.

use crate::tar::{Entry, Kind as TarKind};
use std::collections::BTreeMap;

/// The most symlinks followed while resolving one path; more is taken for a loop.
pub const MAX_HOPS: u32 = 16;

const ROOT: usize = 0;

/// What a key names, as the store reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Value,
    Dictionary,
}

/// A value: `size` bytes at `offset` on the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Value {
    pub offset: u64,
    pub size: u64,
    pub mtime_ns: u64,
}

/// A key's target after following links.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    Value(Value),
    /// A dictionary, to be listed with [`Index::members`].
    Dictionary {
        id: usize,
        mtime_ns: u64,
    },
}

#[derive(Clone, Debug)]
enum Node {
    /// `children` maps each member's name to its node. `explicit` when a member created
    /// the directory, rather than a path beneath it.
    Dir {
        children: BTreeMap<String, usize>,
        mtime_ns: u64,
        explicit: bool,
    },
    Value(Value),
    /// Links as the archive gives them, until every member is known.
    HardLink {
        target: String,
    },
    Symlink {
        target: String,
    },
    /// A resolved symlink: the position of a value or dictionary.
    Alias(usize),
    /// A dangling symlink, or a member of a type the store does not serve.
    Missing,
}

/// The tree of an archive.
#[derive(Debug)]
pub struct Index {
    nodes: Vec<Node>,
    /// The directory holding each node (the root's is itself): the physical `..`.
    parents: Vec<usize>,
}

/// The segments of a store key, or `None` when the key is malformed: the kv device
/// contract's rule, the same in every store.
pub use ukc_hvt_abi::kv_key::segments as key_segments;

/// The segments of a symlink's target, or `None` when it is absolute: such a target
/// names a path on the machine that made the archive, not one inside it.
fn link_segments(target: &str) -> Option<Vec<&str>> {
    (!target.starts_with('/')).then(|| target.split('/').collect())
}

/// The segments of a member's path: leading `/`, empty and `.` segments dropped and `..`
/// applied. `None` when `..` would leave the archive's root.
fn member_segments(path: &str) -> Option<Vec<&str>> {
    let mut segments = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop()?;
            }
            name => segments.push(name),
        }
    }
    Some(segments)
}

impl Index {
    /// An empty tree, to [`insert`](Self::insert) members into.
    pub fn new() -> Index {
        let root = Node::Dir { children: BTreeMap::new(), mtime_ns: 0, explicit: false };
        Index { nodes: vec![root], parents: vec![ROOT] }
    }

    /// Completes the tree once every member is inserted: resolves the links.
    pub fn finish(&mut self) {
        self.resolve_hard_links();
        self.resolve_symlinks();
    }

    /// The tree of `entries`, in archive order.
    #[cfg(test)]
    pub fn build(entries: &[Entry]) -> Index {
        let mut index = Index::new();
        for entry in entries {
            index.insert(entry);
        }
        index.finish();
        index
    }

    /// What `segments` (from [`key_segments`]) names, following links.
    pub fn find(&self, segments: &[&str]) -> Option<Item> {
        let mut id = ROOT;
        for segment in segments {
            let Node::Dir { children, .. } = &self.nodes[id] else {
                return None;
            };
            id = self.target(*children.get(*segment)?)?;
        }
        match self.nodes[id] {
            Node::Value(value) => Some(Item::Value(value)),
            Node::Dir { mtime_ns, .. } => Some(Item::Dictionary { id, mtime_ns }),
            _ => None,
        }
    }

    /// The members of the dictionary `id` (from [`Item::Dictionary`]), sorted by name;
    /// dangling links are left out, and so are links to dictionaries: those resolve for
    /// lookups, but each dictionary is listed once, at its own place, so that a walk of
    /// the store visits each once and ends, whatever loops or fans the links make.
    pub fn members(&self, id: usize) -> Vec<(String, Kind)> {
        let Node::Dir { children, .. } = &self.nodes[id] else {
            return Vec::new();
        };
        let kind = |child| match (&self.nodes[child], &self.nodes[self.target(child)?]) {
            (_, Node::Value(_)) => Some(Kind::Value),
            (Node::Dir { .. }, _) => Some(Kind::Dictionary),
            _ => None,
        };
        children.iter().filter_map(|(name, &child)| Some((name.clone(), kind(child)?))).collect()
    }

    /// The value or dictionary a node stands for, through a resolved symlink.
    fn target(&self, id: usize) -> Option<usize> {
        match self.nodes[id] {
            Node::Alias(target) => Some(target),
            Node::Value(_) | Node::Dir { .. } => Some(id),
            _ => None,
        }
    }

    /// Adds the next member of the archive, replacing any earlier one at its path.
    pub fn insert(&mut self, entry: &Entry) {
        let Some(segments) = member_segments(&entry.path) else {
            return; // It would escape the archive's root.
        };
        let mtime_ns = entry.mtime_ns;
        let node = match entry.kind {
            TarKind::File => Node::Value(Value { offset: entry.offset, size: entry.size, mtime_ns }),
            TarKind::Directory => Node::Dir { children: BTreeMap::new(), mtime_ns, explicit: true },
            TarKind::HardLink => self.hard_link(&entry.link),
            TarKind::Symlink => Node::Symlink { target: entry.link.clone() },
            TarKind::Other => return self.unserved(&segments),
        };
        let Some((name, dirs)) = segments.split_last() else {
            // "./" describes the root itself; nothing else can replace it.
            if let Node::Dir { .. } = node {
                self.set_dir_mtime(ROOT, mtime_ns);
            }
            return;
        };
        let parent = self.make_dirs(dirs, mtime_ns);
        let id = self.child(parent, name);
        if let (Node::Dir { .. }, Node::Dir { .. }) = (&self.nodes[id], &node) {
            // A directory listed twice keeps its members.
            self.set_dir_mtime(id, mtime_ns);
        } else {
            self.nodes[id] = node;
        }
    }

    /// A member of a type the store does not serve still replaces what was at its path
    /// (as on extraction), but implies no directories: pax sparse files sit under
    /// made-up ones.
    fn unserved(&mut self, segments: &[&str]) {
        if let Some(id) = self.walk(ROOT, segments, false, &mut 0).filter(|&id| id != ROOT) {
            self.nodes[id] = Node::Missing;
        }
    }

    /// The member `name` of the directory `parent`, created as `Missing` if absent.
    fn child(&mut self, parent: usize, name: &str) -> usize {
        let next = self.nodes.len();
        let Node::Dir { children, .. } = &mut self.nodes[parent] else {
            unreachable!("only directories have members");
        };
        if let Some(&id) = children.get(name) {
            return id;
        }
        children.insert(name.to_string(), next);
        self.nodes.push(Node::Missing);
        self.parents.push(parent);
        next
    }

    /// A hard link's node: a copy of its target if that is already known, so that a
    /// later member replacing the target does not change the link (as on extraction).
    fn hard_link(&self, target: &str) -> Node {
        let found = member_segments(target).and_then(|path| self.walk(ROOT, &path, false, &mut 0));
        match found.map(|id| &self.nodes[id]) {
            Some(&Node::Value(value)) => Node::Value(value),
            Some(Node::Symlink { target }) => Node::Symlink { target: target.clone() },
            _ => Node::HardLink { target: target.to_string() },
        }
    }

    /// Records a directory member's own mtime.
    fn set_dir_mtime(&mut self, id: usize, mtime: u64) {
        if let Node::Dir { mtime_ns, explicit, .. } = &mut self.nodes[id] {
            *mtime_ns = mtime;
            *explicit = true;
        }
    }

    /// The directory `dirs` below the root, creating missing ones (and replacing
    /// non-directories in the way).
    fn make_dirs(&mut self, dirs: &[&str], mtime: u64) -> usize {
        let mut id = ROOT;
        self.implied_mtime(id, mtime);
        for name in dirs {
            id = self.child(id, name);
            if !matches!(self.nodes[id], Node::Dir { .. }) {
                self.nodes[id] = Node::Dir { children: BTreeMap::new(), mtime_ns: mtime, explicit: false };
            }
            self.implied_mtime(id, mtime);
        }
        id
    }

    /// A directory no member describes takes the newest mtime of the members beneath it.
    fn implied_mtime(&mut self, id: usize, mtime: u64) {
        if let Node::Dir { mtime_ns, explicit: false, .. } = &mut self.nodes[id] {
            *mtime_ns = (*mtime_ns).max(mtime);
        }
    }

    /// Follows `path` from the directory `dir`: the node it names, or `None` when it
    /// names nothing, leaves the root or takes more than [`MAX_HOPS`] symlinks. The last
    /// segment's symlink is followed only if `follow_last`. As in a file system, `..`
    /// after a symlink leads to the parent of the link's target, not of the link.
    fn walk(&self, mut dir: usize, path: &[&str], follow_last: bool, hops: &mut u32) -> Option<usize> {
        for (i, segment) in path.iter().enumerate() {
            let Node::Dir { children, .. } = &self.nodes[dir] else {
                return None;
            };
            let child = match *segment {
                "" | "." => continue,
                ".." if dir == ROOT => return None,
                ".." => {
                    dir = self.parents[dir];
                    continue;
                }
                name => *children.get(name)?,
            };
            dir = match &self.nodes[child] {
                Node::Symlink { target } if follow_last || i + 1 < path.len() => {
                    *hops += 1;
                    if *hops > MAX_HOPS {
                        return None;
                    }
                    self.walk(self.parents[child], &link_segments(target)?, true, hops)?
                }
                _ => child,
            };
        }
        Some(dir)
    }

    /// Resolves the hard links whose target came later in the archive. A link to a link
    /// follows the chain to its end once, and every link on the chain takes the result,
    /// so each link is resolved once however the archive orders them. Links that dangle,
    /// name a directory or form a cycle become `Missing`, which lookups treat as absent.
    fn resolve_hard_links(&mut self) {
        let mut on_chain = vec![false; self.nodes.len()];
        let mut chain = Vec::new();
        for start in 0..self.nodes.len() {
            let mut id = start;
            let node = loop {
                let Node::HardLink { target } = &self.nodes[id] else {
                    break None; // Not a link, or resolved as part of an earlier chain.
                };
                chain.push(id);
                on_chain[id] = true;
                let next = member_segments(target).and_then(|path| self.walk(ROOT, &path, false, &mut 0));
                match next.map(|next| (next, &self.nodes[next])) {
                    Some((next, Node::HardLink { .. })) if !on_chain[next] => id = next,
                    Some((_, &Node::Value(value))) => break Some(Node::Value(value)),
                    Some((_, Node::Symlink { target })) => break Some(Node::Symlink { target: target.clone() }),
                    _ => break Some(Node::Missing),
                }
            };
            for id in chain.drain(..) {
                on_chain[id] = false;
                if let Some(node) = &node {
                    self.nodes[id] = node.clone();
                }
            }
        }
    }

    /// Replaces every symlink by an alias of its final target, or by `Missing` when it
    /// dangles, loops or leaves the archive. Targets are relative to the link's directory.
    /// Every symlink is resolved against the unresolved tree, so the order is irrelevant.
    fn resolve_symlinks(&mut self) {
        let resolved: Vec<(usize, Node)> = (0..self.nodes.len())
            .filter_map(|id| {
                let Node::Symlink { target } = &self.nodes[id] else {
                    return None;
                };
                let found = link_segments(target).and_then(|path| self.walk(self.parents[id], &path, true, &mut 1));
                Some((id, found.and_then(|t| self.target(t)).map_or(Node::Missing, Node::Alias)))
            })
            .collect();
        for (id, node) in resolved {
            self.nodes[id] = node;
        }
    }
}

#[cfg(test)]
mod tests;
