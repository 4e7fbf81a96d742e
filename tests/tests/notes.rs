//! The notes example (a pastebin over HTTP on `ukc:kv/rw`) against curl: on ukc-unix
//! over the host's sockets with the store on a directory, and on ukc-hvt over a tap with
//! the tcpip and kv-log drivers and the store on a disk image, in process and in KVM.
//! Each host is killed with SIGKILL and started again on the same store, which still
//! holds every note it acknowledged. Each run in its own network namespace.

use std::path::Path;
use std::time::Duration;
use ukc_tests::netns::Netns;
use ukc_tests::web::Background;
use ukc_tests::*;

/// `curl -X METHOD [--data-binary @FILE] URL`: the status code and the body.
fn request(netns: &Netns, method: &str, url: &str, data: Option<&Path>, scratch: &Path) -> (String, Vec<u8>) {
    let body = scratch.join("body");
    let _ = std::fs::remove_file(&body);
    let mut words = vec!["curl", "-sS", "--path-as-is", "--max-time", "5", "-o", path_str(&body)];
    words.extend(["-w", "%{http_code}", "-X", method]);
    let upload = data.map(|d| format!("@{}", path_str(d)));
    if let Some(upload) = &upload {
        words.extend(["--data-binary", upload]);
    }
    words.push(url);
    let run = netns.run(&words, Duration::from_secs(10));
    (String::from_utf8_lossy(&run.stdout).trim().to_string(), std::fs::read(&body).unwrap_or_default())
}

/// Every route of the service, and what a client that breaks the rules gets.
fn exercise(netns: &Netns, base: &str, scratch: &Path) {
    let file = |name: &str, bytes: &[u8]| {
        let path = scratch.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let first = file("first", b"hi there");
    let second = file("second", b"hello again");
    let binary: Vec<u8> = (0..60_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let big = file("big", &binary);
    let too_big = file("too-big", &vec![b'x'; 70 * 1024]);
    let url = |path: &str| format!("{base}{path}");
    let code = |method, path: &str, data: Option<&Path>| request(netns, method, &url(path), data, scratch).0;

    assert_eq!(code("PUT", "/notes/hello", Some(&first)), "201");
    assert_eq!(code("PUT", "/notes/hello", Some(&second)), "204", "replaced");
    assert_eq!(request(netns, "GET", &url("/notes/hello"), None, scratch), ("200".into(), b"hello again".to_vec()));
    assert_eq!(code("PUT", "/notes/folder/a", Some(&big)), "201");
    assert_eq!(request(netns, "GET", &url("/notes/folder/a"), None, scratch), ("200".into(), binary));
    assert_eq!(request(netns, "GET", &url("/notes"), None, scratch), ("200".into(), b"folder/a\nhello\n".to_vec()));
    assert_eq!(code("PUT", "/notes/hello/inside", Some(&first)), "409", "a note holds no notes");
    assert_eq!(code("PUT", "/notes/folder", Some(&first)), "409", "a folder is no note");
    assert_eq!(code("PUT", "/notes/too-big", Some(&too_big)), "413");
    assert_eq!(code("PUT", "/notes/a/../b", Some(&first)), "400");
    assert_eq!(code("GET", "/notes/missing", None), "404");
    assert_eq!(code("DELETE", "/notes/missing", None), "404");
    assert_eq!(code("GET", "/elsewhere", None), "404");
    assert_eq!(code("POST", "/notes", None), "405");
    assert_eq!(code("DELETE", "/notes/folder", None), "409", "a folder goes with its last note");
    assert_eq!(code("DELETE", "/notes//", None), "404", "never the whole store");
    assert_eq!(code("DELETE", "/notes/folder/a", None), "204");
    assert_eq!(request(netns, "GET", &url("/notes"), None, scratch), ("200".into(), b"hello\n".to_vec()));
}

#[test]
fn notes_on_unix_are_files_that_outlive_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let notes = compose(&component("notes"), "unix", dir.path(), "notes.unix.wasm", &[]);
    let store = dir.path().join("store");
    std::fs::create_dir(&store).unwrap();
    let netns = Netns::loopback("notes-unix");
    let attach = format!("--kv-rw:notes={}", path_str(&store));
    let start = || {
        let server = Background::start(netns.command(path_str(&bin("ukc-unix")), &[path_str(&notes), &attach]));
        netns.wait_for_port("127.0.0.1", 8080);
        server
    };
    let server = start();
    exercise(&netns, "http://127.0.0.1:8080", dir.path());
    let log = server.stop();
    assert!(log.contains("notes: serving on port 8080"), "{log}");
    assert_eq!(std::fs::read_to_string(store.join("hello")).unwrap(), "hello again");
    assert!(!store.join("folder").exists(), "a folder its last note left is gone");
    let server = start();
    let again = request(&netns, "GET", "http://127.0.0.1:8080/notes/hello", None, dir.path());
    assert_eq!(again, ("200".into(), b"hello again".to_vec()));
    server.stop();
}

#[test]
fn notes_on_hvt_outlive_the_host_on_a_disk_image_in_process_and_in_kvm() {
    let dir = tempfile::tempdir().unwrap();
    let notes = compose(&component("notes"), "hvt", dir.path(), "notes.hvt.wasm", &[]);
    let described = ukc(&["describe", path_str(&notes)]).ok();
    assert!(described.contains("acquired by notes -> kv-log"), "{described}");
    for isolation in ["--isolation=process", "--isolation=kvm"] {
        let image = dir.path().join("notes.img");
        let _ = std::fs::remove_file(&image);
        std::fs::File::create(&image).unwrap().set_len(8 << 20).unwrap();
        let netns = Netns::with_tap(&format!("notes-{}", &isolation["--isolation=".len()..]));
        let block = format!("--block:notes={}", path_str(&image));
        let words = [isolation, "--net:service=tap0", &block, "--", path_str(&notes), "--ipv4=10.0.0.2/24"];
        let start = || {
            let server = Background::start(netns.command(path_str(&bin("ukc-hvt")), &words));
            netns.wait_for_port("10.0.0.2", 8080);
            server
        };
        let server = start();
        exercise(&netns, "http://10.0.0.2:8080", dir.path());
        let log = server.stop();
        assert!(log.contains("notes: serving on port 8080"), "{isolation}: {log}");
        let server = start();
        let again = request(&netns, "GET", "http://10.0.0.2:8080/notes/hello", None, dir.path());
        assert_eq!(again, ("200".into(), b"hello again".to_vec()), "{isolation}");
        let listed = request(&netns, "GET", "http://10.0.0.2:8080/notes", None, dir.path());
        assert_eq!(listed, ("200".into(), b"hello\n".to_vec()), "{isolation}");
        server.stop();
    }
}
