//! The command language: one line in, one line out.

use std::collections::BTreeMap;

/// The reply to `QUIT`, after which the connection closes.
pub const BYE: &str = "BYE";

/// Runs one command against the shared `store`.
pub fn execute(line: &str, store: &mut BTreeMap<String, String>, clients: usize) -> String {
    let mut words = line.splitn(3, ' ');
    let command = words.next().unwrap_or_default().to_ascii_uppercase();
    let (key, value) = (words.next(), words.next());
    match (command.as_str(), key, value) {
        ("SET", Some(key), Some(value)) => {
            store.insert(key.to_string(), value.to_string());
            "OK".into()
        }
        ("GET", Some(key), None) => match store.get(key) {
            Some(value) => format!("VALUE {value}"),
            None => "NOT FOUND".into(),
        },
        ("DEL", Some(key), None) => match store.remove(key) {
            Some(_) => "DELETED".into(),
            None => "NOT FOUND".into(),
        },
        ("COUNT", None, None) => format!("COUNT {}", store.len()),
        ("CLIENTS", None, None) => format!("CLIENTS {clients}"),
        ("QUIT", None, None) => BYE.into(),
        ("", None, None) => "ERR empty line".into(),
        ("SET" | "GET" | "DEL" | "COUNT" | "CLIENTS" | "QUIT", ..) => format!("ERR wrong arguments for {command}"),
        _ => format!("ERR unknown command {command}; commands: SET GET DEL COUNT CLIENTS QUIT"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands() {
        let mut store = BTreeMap::new();
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
}
