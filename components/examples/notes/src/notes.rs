//! What each request does to the store. `GET /notes` lists every note, one name a line;
//! `GET`, `PUT` and `DELETE /notes/NAME` read, write and remove one (a name may hold `/`:
//! notes in folders). A change is flushed before it is acknowledged, so a note the client
//! was told is stored survives the host being killed.

use crate::http::{self, Request};
use crate::ukc::kv::rw::{Error, Kind, Store};

/// What a request asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Route<'a> {
    /// Every note's name.
    List,
    /// One note: read, write or remove.
    Note { method: &'a str, name: &'a str },
    /// Nothing here.
    NotFound,
    /// A method `/notes` does not take.
    NotAllowed,
}

/// Where `method` and `path` lead.
pub fn route<'a>(method: &'a str, path: &'a str) -> Route<'a> {
    match path.strip_prefix("/notes") {
        Some("" | "/") if method == "GET" => Route::List,
        Some("" | "/") => Route::NotAllowed,
        Some(rest) => match rest.strip_prefix('/') {
            // A name of slashes alone would be the store's root: no note.
            Some(name) if name.trim_matches('/').is_empty() => Route::NotFound,
            Some(name) if matches!(method, "GET" | "PUT" | "DELETE") => Route::Note { method, name },
            Some(_) => Route::NotAllowed,
            None => Route::NotFound,
        },
        None => Route::NotFound,
    }
}

/// The response to `request`.
pub fn respond(store: &Store, request: &Request) -> Vec<u8> {
    let keep = request.keep_alive;
    let reply = |status, reason, body: &[u8]| http::response(status, reason, body, keep);
    match route(&request.method, &request.path) {
        Route::List => match names(store) {
            Ok(names) => reply(200, "OK", names.as_bytes()),
            Err(e) => failure(e, keep),
        },
        Route::Note { method: "GET", name } => match store.get(name) {
            Ok(value) => reply(200, "OK", &value),
            Err(e) => failure(e, keep),
        },
        Route::Note { method: "PUT", name } => {
            let existed = matches!(store.exists(name), Ok(Some(Kind::Value)));
            match store.set(name, &request.body).and_then(|()| store.flush()) {
                Ok(()) if existed => reply(204, "No Content", b""),
                Ok(()) => {
                    let location = format!("/notes/{name}");
                    http::with_headers(201, "Created", &[("Location", &location)], b"", keep)
                }
                Err(e) => failure(e, keep),
            }
        }
        Route::Note { name, .. } => {
            // A folder goes with its last note, not by a DELETE of its own.
            let removed = match store.exists(name) {
                Ok(Some(Kind::Dictionary)) => Err(Error::DictionaryExpected(name.to_string())),
                Ok(_) => store.remove(name).and_then(|()| store.flush()),
                Err(e) => Err(e),
            };
            match removed {
                Ok(()) => reply(204, "No Content", b""),
                Err(e) => failure(e, keep),
            }
        }
        Route::NotFound => reply(404, "Not Found", b"notes live under /notes/NAME\n"),
        Route::NotAllowed => http::with_headers(405, "Method Not Allowed", &[("Allow", "GET, PUT, DELETE")], b"", keep),
    }
}

/// Every note's name, one a line, sorted.
fn names(store: &Store) -> Result<String, Error> {
    let mut names = Vec::new();
    let mut pending = vec![String::new()];
    while let Some(folder) = pending.pop() {
        for entry in store.list(&folder)? {
            let name = if folder.is_empty() { entry.name } else { format!("{folder}/{}", entry.name) };
            match entry.kind {
                Kind::Value => names.push(name),
                Kind::Dictionary => pending.push(name),
            }
        }
    }
    names.sort();
    Ok(names.into_iter().map(|n| n + "\n").collect())
}

/// The response to a store's refusal.
fn failure(error: Error, keep: bool) -> Vec<u8> {
    let (status, reason, why) = match error {
        Error::NotFound(_) => (404, "Not Found", "no such note".to_string()),
        Error::InvalidKey(why) => (400, "Bad Request", why),
        Error::DictionaryExpected(key) => (409, "Conflict", format!("{key} is a folder of notes")),
        Error::ValueExpected(why) => (409, "Conflict", format!("{why}: a note cannot hold notes")),
        Error::InvalidRename(why) => (409, "Conflict", why),
        Error::NoSpace(why) => (507, "Insufficient Storage", why),
        Error::NoStore(why) | Error::Io(why) => (500, "Internal Server Error", why),
    };
    http::response(status, reason, format!("{why}\n").as_bytes(), keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route("GET", "/notes"), Route::List);
        assert_eq!(route("GET", "/notes/"), Route::List);
        assert_eq!(route("POST", "/notes"), Route::NotAllowed);
        assert_eq!(route("PUT", "/notes/a/b"), Route::Note { method: "PUT", name: "a/b" });
        assert_eq!(route("PATCH", "/notes/a"), Route::NotAllowed);
        assert_eq!(route("GET", "/notesx"), Route::NotFound);
        assert_eq!(route("GET", "/"), Route::NotFound);
        assert_eq!(route("DELETE", "/notes//"), Route::NotFound, "never the root");
        assert_eq!(route("DELETE", "/notes///"), Route::NotFound);
    }
}
