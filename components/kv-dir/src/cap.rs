//! [`Fs`] for a cap-std directory: every path stays inside it, whatever `..` or links say.

use crate::{Error, Fs, FsError, Kind, Member, Store, path_of, value_error};
use cap_std::fs::{Dir, File, Metadata, OpenOptions, OpenOptionsExt};
use std::io::{ErrorKind, Write};
use std::os::fd::AsRawFd;
use std::time::UNIX_EPOCH;

fn fs_error(e: std::io::Error) -> FsError {
    // Opening a socket file fails with ENXIO: nothing of the store's kinds is there.
    if e.raw_os_error() == Some(libc::ENXIO) {
        return FsError::NotFound;
    }
    match e.kind() {
        ErrorKind::NotFound => FsError::NotFound,
        ErrorKind::PermissionDenied => FsError::Denied,
        ErrorKind::IsADirectory => FsError::IsDirectory,
        ErrorKind::NotADirectory => FsError::NotDirectory,
        ErrorKind::StorageFull => FsError::NoSpace,
        _ => FsError::Other(e.to_string()),
    }
}

fn kind_of(metadata: &Metadata) -> Option<Kind> {
    if metadata.is_dir() {
        Some(Kind::Dictionary)
    } else if metadata.is_file() {
        Some(Kind::Value)
    } else {
        None
    }
}

/// `len` bytes of `file` from `offset`, read into fresh capacity rather than memory zeroed
/// first (a store's reader asks for up to 64 KiB at a time, and may get a few bytes).
fn read_at(file: &cap_std::fs::File, offset: u64, len: usize) -> Result<Vec<u8>, FsError> {
    let mut data: Vec<u8> = Vec::with_capacity(len);
    while data.len() < len {
        let at = data.len();
        let position =
            libc::off_t::try_from(offset + at as u64).map_err(|_| FsError::Other("offset too large".into()))?;
        // SAFETY: pread writes at most `len - at` bytes into the spare capacity past `at`,
        // which holds that many.
        let read = unsafe { libc::pread(file.as_raw_fd(), data.as_mut_ptr().add(at).cast(), len - at, position) };
        match read {
            0 => return Err(FsError::Other("the file shrank while it was read".into())),
            n if n < 0 => {
                let e = std::io::Error::last_os_error();
                if e.kind() != ErrorKind::Interrupted {
                    return Err(fs_error(e));
                }
            }
            // SAFETY: the kernel wrote `n` more bytes, within the capacity.
            n => unsafe { data.set_len(at + n as usize) },
        }
    }
    Ok(data)
}

/// The regular file at `path` in `dir`, opened for reading, and its length.
fn open_regular(dir: &Dir, path: &str) -> Result<(File, u64), FsError> {
    // Non-blocking, so that opening a FIFO returns at once and the check below refuses it;
    // never a controlling terminal.
    let flags = libc::O_NONBLOCK | libc::O_NOCTTY;
    let file = dir.open_with(path, OpenOptions::new().read(true).custom_flags(flags)).map_err(fs_error)?;
    let size = regular_len(&file.metadata().map_err(fs_error)?)?;
    Ok((file, size))
}

impl Store<Dir> {
    /// The value at `key` as an open file, and its length: for a host that sends it
    /// without reading it first (`sendfile`). Errors as [`Store::get_partial`]'s.
    pub fn open_value(&self, key: &str) -> Result<(File, u64), Error> {
        open_regular(&self.fs, &path_of(key)?).map_err(|e| value_error(key, e))
    }
}

/// The length of a regular file; what [`Fs::read`] says of anything else.
fn regular_len(metadata: &Metadata) -> Result<u64, FsError> {
    match kind_of(metadata) {
        Some(Kind::Value) => Ok(metadata.len()),
        Some(Kind::Dictionary) => Err(FsError::IsDirectory),
        None => Err(FsError::NotFound),
    }
}

impl Fs for Dir {
    fn kind(&self, path: &str) -> Result<Option<Kind>, FsError> {
        match self.metadata(path) {
            Ok(metadata) => Ok(kind_of(&metadata)),
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => Ok(None),
            Err(e) => Err(fs_error(e)),
        }
    }

    fn members(&self, path: &str) -> Result<Vec<Member>, FsError> {
        let mut members = Vec::new();
        for entry in self.read_dir(path).map_err(fs_error)? {
            let entry = entry.map_err(fs_error)?;
            let Ok(name) = entry.file_name().into_string() else { continue };
            let child = if path == "." { name.clone() } else { format!("{path}/{name}") };
            let link = entry.file_type().is_ok_and(|t| t.is_symlink());
            let kind = self.metadata(&child).ok().as_ref().and_then(kind_of);
            members.push(Member { name, link, kind });
        }
        Ok(members)
    }

    fn read(&self, path: &str, offset: u64, len: u64) -> Result<Vec<u8>, FsError> {
        let (file, size) = open_regular(self, path)?;
        let len = len.min(size.saturating_sub(offset));
        let len = usize::try_from(len).map_err(|_| FsError::Other("range too large".into()))?;
        read_at(&file, offset, len)
    }

    fn len(&self, path: &str) -> Result<u64, FsError> {
        regular_len(&self.metadata(path).map_err(fs_error)?)
    }

    fn modified(&self, path: &str) -> Result<u64, FsError> {
        let modified = self.metadata(path).map_err(fs_error)?.modified().map_err(fs_error)?.into_std();
        let since_epoch = modified.duration_since(UNIX_EPOCH).unwrap_or_default();
        Ok(u64::try_from(since_epoch.as_nanos()).unwrap_or(u64::MAX))
    }

    fn create_dir(&self, path: &str) -> Result<(), FsError> {
        Dir::create_dir(self, path).map_err(fs_error)
    }

    fn remove_dir(&self, path: &str) -> Result<(), FsError> {
        Dir::remove_dir(self, path).map_err(fs_error)
    }

    fn remove_file(&self, path: &str) -> Result<(), FsError> {
        Dir::remove_file(self, path).map_err(fs_error)
    }

    fn rename(&self, from: &str, to: &str) -> Result<(), FsError> {
        Dir::rename(self, from, self, to).map_err(fs_error)
    }

    fn hard_link(&self, from: &str, to: &str) -> Result<(), FsError> {
        Dir::hard_link(self, from, self, to).map_err(fs_error)
    }

    fn write_new(&self, path: &str, bytes: &[u8]) -> Result<(), FsError> {
        let mut file = self.open_with(path, OpenOptions::new().write(true).create_new(true)).map_err(fs_error)?;
        file.write_all(bytes).map_err(fs_error)
    }

    fn sync(&self, path: &str) -> Result<(), FsError> {
        // A directory opens for reading as a file does (a cap-std `Dir` cannot be synced).
        self.open(path).and_then(|f| f.sync_all()).map_err(fs_error)
    }
}

#[cfg(test)]
mod tests {
    use crate::write::Change;
    use crate::{Error, Kind, Store, path_of};
    use cap_std::ambient_authority;
    use cap_std::fs::Dir;

    /// A writable store on a fresh directory holding `a/b` = "old" and `c` = "c".
    fn store() -> (tempfile::TempDir, Store<Dir>) {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("a")).unwrap();
        std::fs::write(root.path().join("a/b"), "old").unwrap();
        std::fs::write(root.path().join("c"), "c").unwrap();
        let dir = Dir::open_ambient_dir(root.path(), ambient_authority()).unwrap();
        (root, Store::open(dir, true, "test"))
    }

    fn text(s: &Store<Dir>, key: &str) -> String {
        String::from_utf8(s.get(key).unwrap()).unwrap()
    }

    fn names(s: &Store<Dir>, key: &str) -> Vec<String> {
        s.list(key).unwrap().into_iter().map(|(name, _)| name).collect()
    }

    #[test]
    fn keys_map_to_relative_paths() {
        assert_eq!(path_of("").unwrap(), ".");
        assert_eq!(path_of("//").unwrap(), ".");
        assert_eq!(path_of("/a/b.txt").unwrap(), "a/b.txt");
        for bad in ["../x", "a/../../x", "a//b", "./a", "a/./b", ".ukc-tmp-1", "a/.ukc-tmp-x/b"] {
            assert!(matches!(path_of(bad), Err(Error::InvalidKey(_))), "{bad}");
        }
    }

    #[test]
    fn sets_replace_values_and_make_the_dictionaries_on_their_way() {
        let (_root, s) = store();
        s.set("a/b", b"new").unwrap();
        s.set("/x/y/z", b"deep").unwrap();
        assert_eq!((text(&s, "a/b"), text(&s, "x/y/z")), ("new".into(), "deep".into()));
        assert_eq!(names(&s, ""), ["a", "c", "x"], "no temporary file is left or listed");
        assert_eq!(s.set("a", b"v"), Err(Error::DictionaryExpected("a".into())));
        assert_eq!(s.set("/", b"v"), Err(Error::DictionaryExpected("/".into())));
        assert!(matches!(s.set("c/d", b"v"), Err(Error::ValueExpected(_))));
        assert_eq!(s.get("a"), Err(Error::DictionaryExpected("a".into())));
        assert_eq!(s.list("c"), Err(Error::ValueExpected("c".into())));
        s.flush().unwrap();
        assert!(s.dirty.borrow().is_empty());
    }

    #[test]
    fn removes_and_renames_whole_dictionaries_and_prune_what_they_empty() {
        let (_root, s) = store();
        s.rename("a", "moved/here").unwrap();
        assert_eq!(text(&s, "moved/here/b"), "old");
        assert!(matches!(s.rename("moved", "moved/here/in"), Err(Error::InvalidRename(_))));
        assert!(matches!(s.rename("c", "moved"), Err(Error::InvalidRename(_))));
        assert_eq!(s.rename("nothing", "x"), Err(Error::NotFound("nothing".into())));
        s.rename("c", "moved/here/b").unwrap();
        assert_eq!(text(&s, "moved/here/b"), "c", "a rename replaces a value");
        s.remove("moved/here").unwrap();
        assert_eq!(s.exists("moved").unwrap(), None, "a dictionary left empty goes");
        s.set("x/y/z", b"deep").unwrap();
        s.rename("x/y/z", "w").unwrap();
        assert_eq!(s.exists("x").unwrap(), None, "as when a rename empties it");
        // A value written, then its dictionary renamed before a flush: the flush syncs it
        // under its new name.
        s.set("d/new", b"n").unwrap();
        s.rename("d", "e").unwrap();
        assert!(s.dirty.borrow().contains(&(false, "e/new".to_string())), "{:?}", s.dirty.borrow());
        assert!(!s.dirty.borrow().iter().any(|(_, p)| p.starts_with("d/")));
        s.flush().unwrap();
        s.remove("").unwrap();
        assert_eq!(names(&s, ""), Vec::<String>::new(), "removing the root empties the store");
        assert_eq!(s.remove("gone"), Err(Error::NotFound("gone".into())));
        s.flush().unwrap();
    }

    #[test]
    fn a_batch_that_fails_leaves_the_store_as_it_was() {
        let (_root, s) = store();
        let before = s.digest("").unwrap();
        let failing = [
            Change::Set("a/b", b"replaced"),
            Change::Set("new/dir/v", b"made"),
            Change::Remove("c"),
            Change::Set("a", b"a dictionary cannot be set"),
        ];
        assert_eq!(s.apply(&failing), Err(Error::DictionaryExpected("a".into())));
        assert_eq!(s.digest("").unwrap(), before);
        assert_eq!(names(&s, ""), ["a", "c"], "nothing set aside is left or listed");
        s.apply(&failing[..3]).unwrap();
        assert_eq!((text(&s, "a/b"), text(&s, "new/dir/v")), ("replaced".into(), "made".into()));
        assert_eq!(s.exists("c").unwrap(), None);
    }

    #[test]
    fn equal_trees_have_equal_digests_and_leftovers_are_swept_at_open() {
        let (root, s) = store();
        let (_other, t) = store();
        assert_eq!(s.digest("").unwrap(), t.digest("").unwrap());
        t.set("a/b", b"changed").unwrap();
        assert_ne!(s.digest("").unwrap(), t.digest("").unwrap());
        assert_eq!(s.digest("nothing"), Err(Error::NotFound("nothing".into())));
        std::fs::write(root.path().join("a/.ukc-tmp-1-1"), "partial").unwrap();
        std::fs::create_dir(root.path().join(".ukc-tmp-1-2")).unwrap();
        // A dictionary a killed set had just made, holding only its temporary file.
        std::fs::create_dir_all(root.path().join("made/on/the/way")).unwrap();
        std::fs::write(root.path().join("made/on/the/way/.ukc-tmp-1-3"), "partial").unwrap();
        std::fs::create_dir(root.path().join("kept")).unwrap();
        assert_eq!(names(&s, "a"), ["b"]);
        let dir = Dir::open_ambient_dir(root.path(), ambient_authority()).unwrap();
        let reopened = Store::open(dir, true, "test");
        assert!(!root.path().join("a/.ukc-tmp-1-1").exists() && !root.path().join(".ukc-tmp-1-2").exists());
        assert!(!root.path().join("made").exists(), "emptied by the sweep, so gone");
        assert!(root.path().join("kept").exists(), "an empty directory the sweep did not empty stays");
        assert_eq!(text(&reopened, "a/b"), "old");
    }

    #[test]
    fn lists_end_whatever_loops_links_make() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("a")).unwrap();
        std::fs::write(root.path().join("a/x"), "x").unwrap();
        for link in ["l1", "l2", "l3"] {
            std::os::unix::fs::symlink(".", root.path().join(link)).unwrap();
        }
        std::os::unix::fs::symlink("x", root.path().join("a/y")).unwrap();
        let s = Store::open(Dir::open_ambient_dir(root.path(), ambient_authority()).unwrap(), false, "test");
        assert_eq!(s.list("/").unwrap(), [("a".into(), Kind::Dictionary)]);
        assert_eq!(s.list("/a").unwrap(), [("x".into(), Kind::Value), ("y".into(), Kind::Value)]);
        assert_eq!(s.list("l1/l2/a").unwrap().len(), 2, "links to dictionaries resolve");
    }

    #[test]
    fn reads_answer_what_a_key_is_in_one_lookup() {
        let (root, s) = store();
        let fifo = std::ffi::CString::new(root.path().join("fifo").into_os_string().into_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        std::os::unix::fs::symlink("../outside", root.path().join("escape")).unwrap();
        let _socket = std::os::unix::net::UnixListener::bind(root.path().join("socket")).unwrap();
        assert_eq!((s.size("a/b"), s.get_partial("a/b", 1, 9)), (Ok(3), Ok(b"ld".to_vec())));
        assert_eq!(s.get_partial("a/b", 7, 1), Ok(Vec::new()), "past the end");
        let dictionary = |key: &str| Err(Error::DictionaryExpected(key.into()));
        let missing = |key: &str| Err(Error::NotFound(key.into()));
        for (key, error) in [
            ("a", dictionary("a")),
            ("", dictionary("")),
            ("nothing", missing("nothing")),
            ("c/d", missing("c/d")),
            ("fifo", missing("fifo")),
            ("socket", missing("socket")),
        ] {
            assert_eq!(s.get(key), error, "get {key:?}");
            assert_eq!(s.size(key).map(|_| Vec::new()), error, "size {key:?}");
        }
        assert!(matches!(s.get("escape"), Err(Error::InvalidKey(_))), "{:?}", s.get("escape"));
    }
}
