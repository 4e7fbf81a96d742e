//! MirageOS's `kv_ro`: walks the `storage` store from `--key` and prints every value,
//! each after a header line `== KEY (SIZE bytes)`. A key that cannot be read is reported
//! as `!! KEY: ERROR` and makes the unikernel fail once the walk is done.

wit_bindgen::generate!({
    inline: "
        package ukc-example:kv-ro;
        world kv-ro {
            include ukc:app/app@0.1.0;
            import ukc:console/console@0.1.0;
            import ukc:args/args@0.1.0;
            import ukc:kv/ro@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

use ukc::args::args;
use ukc::console::console;
use ukc::kv::ro::{self, Kind, Store};

struct KvRo;

impl exports::ukc::app::main::Guest for KvRo {
    fn run() -> Result<(), String> {
        let root = args::get("key").unwrap_or_else(|| "/".into());
        let store = ro::open("storage").map_err(|e| format!("kv store 'storage': {e:?}"))?;
        let mut walk = Walk { store, values: 0, failures: 0 };
        match walk.store.exists(&root) {
            Ok(Some(Kind::Dictionary)) => walk.dictionary(&root, 0),
            Ok(Some(Kind::Value)) => walk.value(&root),
            Ok(None) => return Err(format!("{root}: no such key")),
            Err(e) => return Err(format!("{root}: {e:?}")),
        }
        say(&format!("kv-ro: {} values printed, {} errors", walk.values, walk.failures));
        if walk.failures > 0 {
            return Err(format!("{} keys could not be read", walk.failures));
        }
        Ok(())
    }
}

/// How deep a walk descends. ukc's stores list each dictionary once, so a walk of them
/// ends; this bound keeps a walk finite over any other driver's store too.
const MAX_DEPTH: usize = 128;

struct Walk {
    store: Store,
    values: u64,
    failures: u64,
}

impl Walk {
    fn dictionary(&mut self, key: &str, depth: usize) {
        if depth == MAX_DEPTH {
            self.failures += 1;
            return say(&format!("!! {key}: more than {MAX_DEPTH} dictionaries deep; not walked further"));
        }
        let entries = match self.store.list(key) {
            Ok(entries) => entries,
            Err(e) => return self.failed(key, e),
        };
        for entry in entries {
            let child = format!("{}/{}", key.trim_end_matches('/'), entry.name);
            match entry.kind {
                Kind::Dictionary => self.dictionary(&child, depth + 1),
                Kind::Value => self.value(&child),
            }
        }
    }

    fn value(&mut self, key: &str) {
        match self.store.get(key) {
            Ok(mut data) => {
                self.values += 1;
                say(&format!("== {key} ({} bytes)", data.len()));
                if !data.is_empty() && !data.ends_with(b"\n") {
                    data.push(b'\n');
                }
                console::write(&data);
            }
            Err(e) => self.failed(key, e),
        }
    }

    fn failed(&mut self, key: &str, error: ro::Error) {
        self.failures += 1;
        say(&format!("!! {key}: {error:?}"));
    }
}

fn say(line: &str) {
    console::write(format!("{line}\n").as_bytes());
}

export!(KvRo);
