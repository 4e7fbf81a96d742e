use super::*;

fn entry(path: &str, kind: TarKind, link: &str, offset: u64, mtime: u64) -> Entry {
    Entry { path: path.into(), kind, link: link.into(), offset, size: offset / 10, mtime_ns: mtime }
}

fn file(path: &str, offset: u64) -> Entry {
    entry(path, TarKind::File, "", offset, offset)
}

fn dir(path: &str, mtime: u64) -> Entry {
    entry(path, TarKind::Directory, "", 0, mtime)
}

fn symlink(path: &str, target: &str) -> Entry {
    entry(path, TarKind::Symlink, target, 0, 1)
}

fn hard(path: &str, target: &str) -> Entry {
    entry(path, TarKind::HardLink, target, 0, 1)
}

fn find(index: &Index, key: &str) -> Option<Item> {
    index.find(&key_segments(key).unwrap())
}

/// The offset of the value at `key`, which identifies it in these tests.
fn value(index: &Index, key: &str) -> Option<u64> {
    match find(index, key)? {
        Item::Value(Value { offset, size, .. }) => {
            assert_eq!(size, offset / 10);
            Some(offset)
        }
        Item::Dictionary { .. } => None,
    }
}

/// The members of the dictionary at `key`, dictionaries marked with a trailing '/'.
fn list(index: &Index, key: &str) -> Vec<String> {
    let Some(Item::Dictionary { id, .. }) = find(index, key) else {
        panic!("{key} is not a dictionary");
    };
    let mark = |(name, kind)| {
        if kind == Kind::Dictionary { format!("{name}/") } else { name }
    };
    index.members(id).into_iter().map(mark).collect()
}

fn mtime(index: &Index, key: &str) -> u64 {
    match find(index, key).unwrap() {
        Item::Value(Value { mtime_ns, .. }) | Item::Dictionary { mtime_ns, .. } => mtime_ns,
    }
}

#[test]
fn keys() {
    for (key, segments) in
        [("", vec![]), ("/", vec![]), ("a", vec!["a"]), ("/a/b", vec!["a", "b"]), ("a/b/", vec!["a", "b"])]
    {
        assert_eq!(key_segments(key), Some(segments), "{key:?}");
    }
    for key in ["a//b", ".", "a/./b", "..", "/a/../b", "//x", "a/b//", "./a"] {
        assert_eq!(key_segments(key), None, "{key:?}");
    }
}

#[test]
fn paths_are_normalised_and_escapes_dropped() {
    let index = Index::build(&[
        file("./a/b", 10),
        file("/abs/file", 20),
        file("x/../y", 30),
        file("../escape", 40),
        file("a/../../escape2", 50),
        file("a//.//c", 60),
        file("", 70),
    ]);
    // Normalisation is lexical: "x/../y" does not imply a dictionary "x".
    assert_eq!(list(&index, ""), ["a/", "abs/", "y"]);
    assert_eq!(list(&index, "a"), ["b", "c"]);
    assert_eq!((value(&index, "a/b"), value(&index, "/abs/file"), value(&index, "y")), (Some(10), Some(20), Some(30)));
}

#[test]
fn implied_dictionaries_take_the_newest_mtime_beneath() {
    let index = Index::build(&[file("p/q/r", 500), file("p/s", 900), dir("p/q/t/", 7), file("p/q/t/u", 1000)]);
    assert_eq!(mtime(&index, "p/q/t"), 7);
    assert_eq!(mtime(&index, "p/q"), 1000);
    assert_eq!(mtime(&index, "p"), 1000);
    assert_eq!(mtime(&index, ""), 1000);
    let rooted = Index::build(&[dir("./", 3), file("./f", 100)]);
    assert_eq!(mtime(&rooted, "/"), 3);
}

#[test]
fn later_members_replace_earlier_ones() {
    let index = Index::build(&[
        file("same", 10),
        file("same", 20),
        dir("d/", 1),
        file("d/kept", 30),
        dir("d/", 2),
        file("f2d", 40),
        file("f2d/inner", 50),
        dir("d2f/", 3),
        file("d2f", 60),
        file("fifo", 70),
        entry("fifo", TarKind::Other, "", 0, 0),
        entry("unserved/dir/x", TarKind::Other, "", 0, 0),
    ]);
    assert_eq!(value(&index, "same"), Some(20));
    assert_eq!(list(&index, "d"), ["kept"]);
    assert_eq!(mtime(&index, "d"), 2);
    assert_eq!(list(&index, "f2d"), ["inner"]);
    assert_eq!(value(&index, "d2f"), Some(60));
    assert_eq!(find(&index, "fifo"), None);
    assert_eq!(list(&index, ""), ["d/", "d2f", "f2d/", "same"]);
}

#[test]
fn lookups_through_values_find_nothing() {
    let index = Index::build(&[file("v", 10)]);
    assert_eq!(find(&index, "v/x"), None);
    assert_eq!(find(&index, "missing"), None);
    assert_eq!(
        index.members(match find(&index, "v").unwrap() {
            Item::Value(_) => 1,
            Item::Dictionary { id, .. } => id,
        }),
        []
    );
}

#[test]
fn symlinks_resolve_inside_the_archive() {
    let index = Index::build(&[
        file("top", 10),
        file("d/e/leaf", 20),
        symlink("d/up", "../top"),
        symlink("d/e/rel", "leaf"),
        symlink("d/e/dot", "./../e/./leaf"),
        symlink("d/todir", "e"),
        symlink("dirlink", "d/todir/"),
        symlink("chain", "d/up"),
        symlink("escape", "../top"),
        symlink("d/escape", "../../top"),
        symlink("abs", "/top"),
        symlink("dangling", "nothing"),
        symlink("loop1", "loop2"),
        symlink("loop2", "loop1"),
        symlink("self", "self/x"),
        symlink("fileslash", "top/"),
        symlink("later", "d/late"),
        file("d/late", 30),
    ]);
    for (key, offset) in
        [("d/up", 10), ("d/e/rel", 20), ("d/e/dot", 20), ("chain", 10), ("dirlink/leaf", 20), ("later", 30)]
    {
        assert_eq!(value(&index, key), Some(offset), "{key}");
    }
    assert_eq!(list(&index, "dirlink"), ["dot", "leaf", "rel"]);
    assert_eq!(list(&index, "d/todir"), ["dot", "leaf", "rel"]);
    assert_eq!(mtime(&index, "d/up"), 10);
    for key in ["escape", "d/escape", "abs", "dangling", "loop1", "loop2", "self", "fileslash"] {
        assert_eq!(find(&index, key), None, "{key}");
    }
    // Links to dictionaries resolve, but only the dictionaries' own places list them.
    assert_eq!(list(&index, ""), ["chain", "d/", "later", "top"]);
    assert_eq!(list(&index, "d"), ["e/", "late", "up"]);
}

#[test]
fn symlink_chains_are_limited_to_sixteen_hops() {
    let chain = |links: usize| {
        let mut entries = vec![file("target", 10)];
        entries.extend((1..=links).map(|i| {
            let to = if i == 1 { "target".to_string() } else { format!("l{}", i - 1) };
            symlink(&format!("l{i}"), &to)
        }));
        Index::build(&entries)
    };
    assert_eq!(value(&chain(16), "l16"), Some(10));
    assert_eq!(value(&chain(17), "l16"), Some(10));
    assert_eq!(find(&chain(17), "l17"), None);
}

#[test]
fn parent_directories_follow_the_physical_path() {
    // "a/link/.." is the parent of the link's target, not "a".
    let index =
        Index::build(&[file("x/y/z", 10), file("x/w", 20), symlink("a/link", "../x/y"), symlink("a/up", "link/../w")]);
    assert_eq!(value(&index, "a/up"), Some(20));
}

#[test]
fn hard_links_share_their_target_value() {
    let index = Index::build(&[
        file("orig", 10),
        hard("link", "orig"),
        hard("./sub/link", "./orig"),
        file("orig", 20),
        hard("early", "late"),
        file("late", 30),
        hard("chain", "early"),
        hard("dangling", "none"),
        dir("somedir/", 1),
        hard("todir", "somedir"),
        symlink("sub/sym", "../orig"),
        hard("hsym", "sub/sym"),
    ]);
    assert_eq!(value(&index, "link"), Some(10), "linked before the target was replaced");
    assert_eq!(value(&index, "sub/link"), Some(10));
    assert_eq!(value(&index, "orig"), Some(20));
    assert_eq!(value(&index, "early"), Some(30));
    assert_eq!(value(&index, "chain"), Some(30));
    assert_eq!((find(&index, "dangling"), find(&index, "todir")), (None, None));
    // A hard link to a symlink is a symlink of its own, relative to its own directory.
    assert_eq!(find(&index, "hsym"), None);
    assert_eq!(value(&index, "sub/sym"), Some(20));
}

/// Every dictionary reachable by listing, walked as an app walks a store: with links to
/// dictionaries listed, `loop -> .` would send this round for ever.
fn walk_all(index: &Index, key: &str, seen: &mut Vec<String>) {
    for name in list(index, key) {
        let child = format!("{key}/{name}");
        seen.push(child.clone());
        assert!(seen.len() < 1000, "the walk does not end: {seen:?}");
        if name.ends_with('/') {
            walk_all(index, child.trim_end_matches('/'), seen);
        }
    }
}

#[test]
fn walks_end_whatever_loops_the_links_make() {
    let index = Index::build(&[
        file("a/x", 10),
        symlink("loop", "."),
        symlink("a/up", ".."),
        symlink("a/self", "../a"),
        symlink("a/l1", "../b"),
        symlink("b/l2", "../a"),
        symlink("b/fan1", "."),
        symlink("b/fan2", "."),
        symlink("b/fan3", "."),
    ]);
    let mut seen = Vec::new();
    walk_all(&index, "", &mut seen);
    assert_eq!(seen, ["/a/", "/a/x", "/b/"]);
    // The links still resolve for lookups, a bounded number of hops deep.
    assert_eq!(value(&index, "loop/loop/a/x"), Some(10));
    assert_eq!(value(&index, "b/l2/l1/l2/x"), Some(10));
}

#[test]
fn long_hard_link_chains_resolve_in_one_pass() {
    // Each link names the next one, which comes later in the archive: resolved in
    // rounds, this took a round per link (quadratic, minutes for an archive of this size).
    let n = 50_000;
    let mut entries: Vec<Entry> = (0..n).map(|i| hard(&format!("l{i}"), &format!("l{}", i + 1))).collect();
    entries.push(file(&format!("l{n}"), 10));
    entries.push(hard("cycle1", "cycle2"));
    entries.push(hard("cycle2", "cycle1"));
    let index = Index::build(&entries);
    assert_eq!(value(&index, "l0"), Some(10));
    assert_eq!(value(&index, &format!("l{}", n / 2)), Some(10));
    assert_eq!(find(&index, "cycle1"), None);
}
