//! The runtime arguments, as the tender hands them over at boot ([`crate::BootInfo`]'s
//! `args`): the value of every argument the unikernel declares, and the command line a
//! program with free-form arguments sees. The tender parsed them before boot and they
//! never change, so the kernel answers `ukc:args` from this table instead of asking with
//! a hypercall each time (an exit each, ~0.1 ms on this kind of KVM, and most unikernels
//! read their arguments first thing). Only a name no component declares still goes to
//! the tender, which refuses it with its own message.
//!
//! The table is a sequence of entries, each a kind byte, then the name and the value,
//! each a little-endian `u32` length followed by that many bytes of UTF-8.

use alloc::vec::Vec;

/// A declared argument without a value (no default, not given).
const DECLARED_UNSET: u8 = 0;
/// A declared argument with a value.
const DECLARED: u8 = 1;
/// One word of the free-form command line (its name is empty).
const WORD: u8 = 2;

/// The table of `declared` (name, value) pairs and the free-form command line `argv`.
pub fn encode<'a>(
    declared: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    argv: impl IntoIterator<Item = &'a str>,
) -> Vec<u8> {
    let mut table = Vec::new();
    let mut entry = |kind: u8, name: &str, value: &str| {
        table.push(kind);
        for text in [name, value] {
            // Arguments come from a command line: far below 4 GiB.
            table.extend_from_slice(&(text.len() as u32).to_le_bytes());
            table.extend_from_slice(text.as_bytes());
        }
    };
    for (name, value) in declared {
        entry(if value.is_some() { DECLARED } else { DECLARED_UNSET }, name, value.unwrap_or(""));
    }
    for word in argv {
        entry(WORD, "", word);
    }
    table
}

/// The value of the declared argument `name` (`Some(None)` when it has none), or `None`
/// when the table does not declare it.
pub fn lookup<'a>(table: &'a [u8], name: &str) -> Option<Option<&'a str>> {
    entries(table).find_map(|(kind, entry, value)| match kind {
        DECLARED if entry == name => Some(Some(value)),
        DECLARED_UNSET if entry == name => Some(None),
        _ => None,
    })
}

/// The free-form command line, its program name first.
pub fn argv(table: &[u8]) -> impl Iterator<Item = &str> {
    entries(table).filter(|(kind, ..)| *kind == WORD).map(|(_, _, word)| word)
}

/// The entries of `table` as (kind, name, value); it ends at the first malformed one.
fn entries(mut table: &[u8]) -> impl Iterator<Item = (u8, &str, &str)> {
    core::iter::from_fn(move || {
        let (&kind, mut rest) = table.split_first()?;
        let mut text = || {
            let (len, after) = rest.split_first_chunk::<4>()?;
            let len = u32::from_le_bytes(*len) as usize;
            let (text, after) = (after.get(..len)?, &after[len..]);
            rest = after;
            core::str::from_utf8(text).ok()
        };
        let (name, value) = (text()?, text()?);
        table = rest;
        Some((kind, name, value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_values_and_the_command_line_come_back() {
        let table = encode([("count", Some("4")), ("name", None), ("empty", Some(""))], ["app", "-x", "é"]);
        assert_eq!(lookup(&table, "count"), Some(Some("4")));
        assert_eq!(lookup(&table, "name"), Some(None));
        assert_eq!(lookup(&table, "empty"), Some(Some("")));
        assert_eq!(lookup(&table, "other"), None);
        assert_eq!(lookup(&table, ""), None, "command-line words are not arguments");
        assert_eq!(argv(&table).collect::<Vec<_>>(), ["app", "-x", "é"]);
    }

    #[test]
    fn a_cut_table_ends_at_its_last_whole_entry() {
        let table = encode([("a", Some("1")), ("b", Some("2"))], []);
        for cut in 0..table.len() {
            let whole = if cut >= table.len() / 2 { Some(Some("1")) } else { None };
            assert_eq!(lookup(&table[..cut], "a"), whole, "cut at {cut}");
            assert_eq!(lookup(&table[..cut], "b"), None, "cut at {cut}");
        }
        let mut bad = encode([("a", Some("1"))], []);
        bad[5] = 0xff; // the name is no longer UTF-8
        assert_eq!(lookup(&bad, "a"), None);
    }
}
