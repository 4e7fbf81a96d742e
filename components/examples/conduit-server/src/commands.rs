//! The command language: one line in, one line out, against a store of bounded size.

use std::collections::BTreeMap;

/// The reply to `QUIT`, after which the connection closes.
pub const BYE: &str = "BYE";

/// Most bytes of keys and values the store holds, so that clients cannot make the server
/// run out of memory.
pub const MAX_STORE_BYTES: usize = 16 << 20;

/// The keys and values every client shares.
#[derive(Default)]
pub struct Store {
    entries: BTreeMap<String, String>,
    bytes: usize,
}

impl Store {
    fn set(&mut self, key: &str, value: &str) -> bool {
        let old = self.entries.get(key).map_or(0, |v| key.len() + v.len());
        let bytes = self.bytes - old + key.len() + value.len();
        if bytes > MAX_STORE_BYTES {
            return false;
        }
        self.entries.insert(key.to_string(), value.to_string());
        self.bytes = bytes;
        true
    }

    fn remove(&mut self, key: &str) -> bool {
        let removed = self.entries.remove(key);
        if let Some(value) = &removed {
            self.bytes -= key.len() + value.len();
        }
        removed.is_some()
    }
}

/// Runs one command against the shared `store`.
pub fn execute(line: &str, store: &mut Store, clients: usize) -> String {
    let mut words = line.splitn(3, ' ');
    let command = words.next().unwrap_or_default().to_ascii_uppercase();
    let (key, value) = (words.next(), words.next());
    match (command.as_str(), key, value) {
        ("SET", Some(key), Some(value)) if store.set(key, value) => "OK".into(),
        ("SET", Some(_), Some(_)) => format!("ERR store full ({} MiB); DEL keys first", MAX_STORE_BYTES >> 20),
        ("GET", Some(key), None) => match store.entries.get(key) {
            Some(value) => format!("VALUE {value}"),
            None => "NOT FOUND".into(),
        },
        ("DEL", Some(key), None) if store.remove(key) => "DELETED".into(),
        ("DEL", Some(_), None) => "NOT FOUND".into(),
        ("COUNT", None, None) => format!("COUNT {}", store.entries.len()),
        ("CLIENTS", None, None) => format!("CLIENTS {clients}"),
        ("QUIT", None, None) => BYE.into(),
        ("", None, None) => "ERR empty line".into(),
        ("SET" | "GET" | "DEL" | "COUNT" | "CLIENTS" | "QUIT", ..) => format!("ERR wrong arguments for {command}"),
        _ => {
            let shown: String = command.chars().take(32).collect();
            format!("ERR unknown command {shown}; commands: SET GET DEL COUNT CLIENTS QUIT")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands() {
        let mut store = Store::default();
        assert_eq!(execute("SET a hello world", &mut store, 1), "OK");
        assert_eq!(execute("get a", &mut store, 1), "VALUE hello world");
        assert_eq!(execute("COUNT", &mut store, 1), "COUNT 1");
        assert_eq!(execute("CLIENTS", &mut store, 3), "CLIENTS 3");
        assert_eq!(execute("DEL a", &mut store, 1), "DELETED");
        assert_eq!(execute("GET a", &mut store, 1), "NOT FOUND");
        assert_eq!(execute("SET a", &mut store, 1), "ERR wrong arguments for SET");
        assert!(execute("FLY", &mut store, 1).starts_with("ERR unknown command FLY"));
        assert_eq!(execute("QUIT", &mut store, 1), BYE);
    }

    #[test]
    fn the_store_stays_within_its_bound() {
        let mut store = Store::default();
        let value = "v".repeat(60 * 1024);
        let mut stored = 0;
        while execute(&format!("SET k{stored} {value}"), &mut store, 1) == "OK" {
            stored += 1;
        }
        assert!(store.bytes <= MAX_STORE_BYTES && stored > 200, "{stored} values, {} bytes", store.bytes);
        assert!(execute(&format!("SET more {value}"), &mut store, 1).starts_with("ERR store full"));
        // Replacing a value counts only the difference; freeing makes room again.
        assert_eq!(execute(&format!("SET k0 {value}"), &mut store, 1), "OK");
        assert_eq!(execute("DEL k1", &mut store, 1), "DELETED");
        assert_eq!(execute(&format!("SET more {value}"), &mut store, 1), "OK");
    }
}
