//! Resolution, instantiation order and manifest merging over components without code:
//! only their names, imports, exports and manifests matter here, so each case writes
//! those down, resolves, and checks who fills what (or the error), the order and the
//! merged devices.

use super::*;
use crate::component::Origin;
use crate::merge::merge;
use ukc_manifest::{ComponentManifest, DeviceType};

const MAIN: &str = "ukc:app/main@0.1.0";
const CONSOLE: &str = "ukc:console/console@0.1.0";
const POLL: &str = "ukc:poll/poll@0.1.0";
const BLOCK: &str = "ukc:block/block@0.1.0";
const KV: &str = "ukc:kv/ro@0.1.0";
const TCP: &str = "ukc:tcpip/tcp@0.1.0";

/// A component with no code: `imports` and `exports` by name, and a manifest from JSON
/// fields (`"devices": [...]`, `"maps": [...]`), or none.
fn component(name: &str, imports: &[&str], exports: &[&str], manifest: &str) -> Component {
    let json =
        format!(r#"{{"name": "{name}", "version": "0.1.0"{}{manifest}}}"#, if manifest.is_empty() { "" } else { ", " });
    Component {
        name: name.to_string(),
        origin: Origin::Builtin,
        bytes: Vec::new(),
        manifest: ComponentManifest::from_json(json.as_bytes(), name).unwrap(),
        has_manifest: true,
        imports: imports.iter().map(|s| s.to_string()).collect(),
        exports: exports.iter().map(|s| s.to_string()).collect(),
    }
}

/// An application exporting `ukc:app/main` with these imports and manifest fields.
fn app(imports: &[&str], manifest: &str) -> Component {
    component("app", imports, &[MAIN], manifest)
}

/// Resolves `app` for `target` with `drivers` and the `--use` choices `uses`.
fn resolve_with(target: &str, app: Component, drivers: Vec<Component>, uses: &[&str]) -> Result<Plan> {
    let platform = Platform::load(Target::find(target).unwrap()).unwrap();
    let catalogue = Catalogue { drivers, notes: Vec::new() };
    let uses: Vec<Use> = uses.iter().map(|u| Use::parse(u).unwrap()).collect();
    resolve(app, &platform, &catalogue, &uses, &[], &[])
}

/// Every link as `importer: import <- provider`, in plan order.
fn links(plan: &Plan) -> Vec<String> {
    plan.links
        .iter()
        .map(|l| {
            let provider = match &l.provider {
                Provider::Platform(name) => format!("platform {name}"),
                Provider::Node { node, export } => format!("{} {export}", plan.nodes[*node].name),
            };
            format!("{}: {} <- {provider}", plan.nodes[l.importer].name, l.import)
        })
        .collect()
}

fn order(plan: &Plan) -> Vec<&str> {
    plan.nodes.iter().map(|n| n.name.as_str()).collect()
}

fn error(result: Result<Plan>) -> String {
    match result {
        Ok(plan) => panic!("resolved: {:?}", links(&plan)),
        Err(e) => format!("{e:#}"),
    }
}

#[test]
fn each_rule_picks_the_provider_it_names() {
    let kv_tar = || component("kv-tar", &[BLOCK], &[KV], r#""maps": [{"type": "kv", "onto": "block"}]"#);
    let kv_mem = || component("kv-mem", &[], &[KV], r#""maps": [{"type": "kv"}]"#);
    let console_log = || component("console-log", &[], &[CONSOLE], "");
    // hvt's default for ukc:tcpip is the tcpip driver, absent here: the rule passes over it.
    let tcp_only = || component("tcp-only", &[], &[TCP], "");
    // (target, app's imports, drivers, --use, the app's links)
    type Case = (&'static str, &'static [&'static str], Vec<Component>, &'static [&'static str], Vec<&'static str>);
    let cases: Vec<Case> = vec![
        // 4. the platform provides it; a driver exporting it too is not consulted.
        (
            "hvt",
            &[CONSOLE],
            vec![console_log()],
            &[],
            vec!["app: ukc:console/console@0.1.0 <- platform ukc:console/console@0.1.0"],
        ),
        // 1. --use overrides the platform...
        (
            "hvt",
            &[CONSOLE],
            vec![console_log()],
            &["ukc:console=console-log"],
            vec!["app: ukc:console/console@0.1.0 <- console-log ukc:console/console@0.1.0"],
        ),
        // 3. the target's default wins over another driver exporting the interface...
        ("hvt", &[KV], vec![kv_mem(), kv_tar()], &[], vec!["app: ukc:kv/ro@0.1.0 <- kv-tar ukc:kv/ro@0.1.0"]),
        // ...and --use over the default.
        (
            "hvt",
            &[KV],
            vec![kv_mem(), kv_tar()],
            &["ukc:kv/ro=kv-mem"],
            vec!["app: ukc:kv/ro@0.1.0 <- kv-mem ukc:kv/ro@0.1.0"],
        ),
        // 5. the one driver exporting it, where neither a default nor the platform does...
        ("hvt", &[TCP], vec![tcp_only()], &[], vec!["app: ukc:tcpip/tcp@0.1.0 <- tcp-only ukc:tcpip/tcp@0.1.0"]),
        // ...and --use a driver over the platform that provides it too (unix has kv stores).
        ("unix", &[KV], vec![kv_mem()], &["ukc:kv/ro=kv-mem"], vec!["app: ukc:kv/ro@0.1.0 <- kv-mem ukc:kv/ro@0.1.0"]),
        ("unix", &[KV], vec![kv_mem()], &[], vec!["app: ukc:kv/ro@0.1.0 <- platform ukc:kv/ro@0.1.0"]),
        // Semver: a newer patch on the 0.1 track is the same interface.
        (
            "hvt",
            &["ukc:console/console@0.1.7"],
            vec![],
            &[],
            vec!["app: ukc:console/console@0.1.7 <- platform ukc:console/console@0.1.0"],
        ),
    ];
    for (target, imports, drivers, uses, expected) in cases {
        let plan = resolve_with(target, app(imports, ""), drivers, uses).unwrap();
        let app_links: Vec<String> = links(&plan).into_iter().filter(|l| l.starts_with("app:")).collect();
        assert_eq!(app_links, expected, "{target} {imports:?} --use {uses:?}");
    }
}

#[test]
fn semver_tracks_decide_what_matches() {
    let driver = |export: &str| component("d", &[], &[export], "");
    // (import, export, matches)
    let cases = [
        ("x:y/z@1.2.0", "x:y/z@1.9.3", true),
        ("x:y/z@1.2.0", "x:y/z@2.0.0", false),
        ("x:y/z@0.2.1", "x:y/z@0.2.9", true),
        ("x:y/z@0.2.1", "x:y/z@0.3.0", false),
        ("x:y/z@0.0.1", "x:y/z@0.0.1", true),
        ("x:y/z@0.0.1", "x:y/z@0.0.2", false),
    ];
    for (import, export, matches) in cases {
        let result = resolve_with("hvt", app(&[import], ""), vec![driver(export)], &[]);
        if matches {
            assert_eq!(links(&result.unwrap())[0], format!("app: {import} <- d {export}"));
        } else {
            let e = error(result);
            assert!(e.contains(&format!("imports {import}")) && e.contains(export), "{import} vs {export}: {e}");
        }
    }
}

#[test]
fn an_interposer_sits_between_its_importers_and_the_next_provider() {
    // A TCP/IP stack exports `poll` (it must run its timers) and imports the platform's.
    let stack = component("stack", &[POLL], &[TCP, POLL], "");
    let plan = resolve_with("hvt", app(&[TCP, POLL], ""), vec![stack], &[]).unwrap();
    assert_eq!(
        links(&plan),
        [
            "app: ukc:tcpip/tcp@0.1.0 <- stack ukc:tcpip/tcp@0.1.0",
            "app: ukc:poll/poll@0.1.0 <- stack ukc:poll/poll@0.1.0",
            "stack: ukc:poll/poll@0.1.0 <- platform ukc:poll/poll@0.1.0",
        ]
    );
    assert_eq!(order(&plan), ["stack", "app"]);
    // Two interposers on one interface cannot be ordered.
    let other = component("other", &[POLL], &[POLL, "x:o/o@0.1.0"], "");
    let stack = component("stack", &[POLL], &[TCP, POLL], "");
    let e = error(resolve_with("hvt", app(&[TCP, "x:o/o@0.1.0", POLL], ""), vec![stack, other], &[]));
    assert!(e.contains("all interpose on ukc:poll/poll"), "{e}");
}

#[test]
fn ambiguity_cycles_and_bad_choices_are_errors_that_say_what_to_do() {
    let a = || component("a", &[], &["x:y/z@0.1.0"], "");
    let b = || component("b", &[], &["x:y/z@0.1.0"], "");
    let e = error(resolve_with("hvt", app(&["x:y/z@0.1.0"], ""), vec![a(), b()], &[]));
    assert!(e.contains("several drivers export") && e.contains("--use x:y/z="), "{e}");
    assert!(resolve_with("hvt", app(&["x:y/z@0.1.0"], ""), vec![a(), b()], &["x:y/z=b"]).is_ok());

    let e = error(resolve_with("hvt", app(&["x:y/z@0.1.0"], ""), vec![a()], &["x:y/z=nobody"]));
    assert!(e.contains("there is no driver called \"nobody\""), "{e}");
    let e = error(resolve_with("hvt", app(&[KV], ""), vec![a()], &["ukc:kv/ro=a"]));
    assert!(e.contains("--use picks driver a for ukc:kv/ro, but driver a does not provide it"), "{e}");

    let p = component("p", &["x:q/q@0.1.0"], &["x:p/p@0.1.0"], "");
    let q = component("q", &["x:p/p@0.1.0"], &["x:q/q@0.1.0"], "");
    let e = error(resolve_with("hvt", app(&["x:p/p@0.1.0"], ""), vec![p, q], &[]));
    assert!(e.contains("cycle") && e.contains("x:p/p@0.1.0") && e.contains("x:q/q@0.1.0"), "{e}");

    let plan = resolve_with("hvt", app(&[CONSOLE], ""), vec![a()], &["x:y/z=a"]).unwrap();
    assert_eq!(plan.notes, ["--use x:y/z=a had no effect: nothing imports x:y/z"]);
    // A choice ukc implies says nothing when nothing uses it; the user's still does.
    let platform = Platform::load(Target::find("hvt").unwrap()).unwrap();
    let catalogue = Catalogue { drivers: vec![a()], notes: Vec::new() };
    let (given, implied) = ([Use::parse("x:y/z=a").unwrap()], [Use::parse("x:w=a").unwrap()]);
    let plan = resolve(app(&[CONSOLE], ""), &platform, &catalogue, &given, &implied, &[]).unwrap();
    assert_eq!(plan.notes, ["--use x:y/z=a had no effect: nothing imports x:y/z"]);
    assert_eq!(order(&plan), ["app"], "a driver nothing imports is not linked");
}

#[test]
fn devices_follow_the_chain_of_drivers_down_to_the_host() {
    let kv_tar =
        || component("kv-tar", &[BLOCK], &[KV], r#""maps": [{"type": "kv", "onto": "block", "read-only": true}]"#);
    let app_kv = || app(&[KV], r#""devices": [{"name": "storage", "type": "kv"}]"#);
    // On hvt kv-tar serves the store from the block device of the same name, read-only.
    let plan = resolve_with("hvt", app_kv(), vec![kv_tar()], &[]).unwrap();
    let merged = merge(&plan).unwrap();
    let device = &merged.devices[0];
    assert_eq!((device.name.as_str(), device.ty, device.read_only), ("storage", DeviceType::Block, true));
    assert_eq!(device.by, ["app", "kv-tar"]);
    // On unix the host attaches the store itself.
    let plan = resolve_with("unix", app_kv(), vec![kv_tar()], &[]).unwrap();
    assert_eq!(merge(&plan).unwrap().devices[0].ty, DeviceType::Kv);
    // A driver serving from its own contents leaves nothing to attach.
    let kv_mem = component("kv-mem", &[], &[KV], r#""maps": [{"type": "kv"}]"#);
    let plan = resolve_with("hvt", app_kv(), vec![kv_mem], &["ukc:kv/ro=kv-mem"]).unwrap();
    assert!(merge(&plan).unwrap().devices.is_empty());
    // A driver that serves devices without saying how is refused, naming the fix.
    let silent = component("silent", &[BLOCK], &[KV], "");
    let plan = resolve_with("hvt", app_kv(), vec![silent], &["ukc:kv/ro=silent"]).unwrap();
    let e = format!("{:#}", merge(&plan).unwrap_err());
    assert!(e.contains("driver silent serves the kv device \"storage\"") && e.contains("\"maps\""), "{e}");
    // One name acquired as two types, by two components, is refused.
    let logger =
        component("logger", &[BLOCK], &["x:log/log@0.1.0"], r#""devices": [{"name": "storage", "type": "block"}]"#);
    let both = app(&[KV, "x:log/log@0.1.0"], r#""devices": [{"name": "storage", "type": "kv"}]"#);
    let plan = resolve_with("unix", both, vec![logger], &[]).unwrap();
    let e = format!("{:#}", merge(&plan).unwrap_err());
    assert!(e.contains("as a kv device by app and as a block device by logger"), "{e}");
}

#[test]
fn uses_name_interfaces_or_packages() {
    let u = Use::parse("ukc:kv/ro@0.1.0=kv-tar").unwrap();
    assert_eq!(u, Use { interface: "ukc:kv/ro".into(), provider: "kv-tar".into() });
    let p = Use::parse("ukc:tcpip=tcpip").unwrap();
    assert_eq!(p.interface, "ukc:tcpip");
    assert!(p.covers(&InterfaceName::parse("ukc:tcpip/tcp@0.1.0").unwrap()));
    assert!(!p.covers(&InterfaceName::parse("ukc:net/net@0.1.0").unwrap()));
    assert!(Use::parse("kv-tar").is_err());
    assert!(Use::parse("kv=kv-tar").is_err());
    assert!(Use::parse("ukc:kv/ro=").is_err());
}

#[test]
fn the_host_sends_values_only_of_its_own_stores_on_its_own_connections() {
    const SENDFILE: &str = "ukc:sendfile/sendfile@0.1.0";
    let kv_tar = || component("kv-tar", &[BLOCK], &[KV], r#""maps": [{"type": "kv", "onto": "block"}]"#);
    let driver = || component("sendfile", &[KV, TCP], &[SENDFILE], "");
    let web = || app(&[KV, TCP, SENDFILE], "");
    let sendfile_from = |plan: &Plan| {
        let link = plan.links.iter().find(|l| plan.nodes[l.importer].name == "app" && l.import == SENDFILE).unwrap();
        match &link.provider {
            Provider::Platform(_) => "platform".to_string(),
            Provider::Node { node, .. } => plan.nodes[*node].name.clone(),
        }
    };
    let plan = resolve_with("unix", web(), vec![kv_tar(), driver()], &[]).unwrap();
    assert_eq!(sendfile_from(&plan), "platform", "the host's stores and sockets: the host's sendfile");
    let plan = resolve_with("unix", web(), vec![kv_tar(), driver()], &["ukc:kv/ro=kv-tar"]).unwrap();
    assert_eq!(sendfile_from(&plan), "sendfile", "a driver's store: the driver reads it");
    assert!(links(&plan).contains(&format!("sendfile: {KV} <- kv-tar {KV}")), "{:?}", links(&plan));
    let plan = resolve_with("hvt", web(), vec![kv_tar(), driver(), component("tcpip", &[], &[TCP], "")], &[]).unwrap();
    assert_eq!(sendfile_from(&plan), "sendfile", "hvt's host has no sendfile");
    // kv/rw uses kv/ro's kind and entry, plain types that match by structure: still the host's.
    const KV_RW: &str = "ukc:kv/rw@0.1.0";
    let notes = app(&[KV, KV_RW], "");
    let plan = resolve_with("unix", notes, vec![kv_tar()], &["ukc:kv/ro=kv-tar"]).unwrap();
    assert!(links(&plan).contains(&format!("app: {KV_RW} <- platform {KV_RW}")), "{:?}", links(&plan));
    let forced = resolve_with("unix", web(), vec![kv_tar(), driver()], &["ukc:kv/ro=kv-tar", "ukc:sendfile=platform"]);
    assert_eq!(
        error(forced),
        "--use ukc:sendfile/sendfile=platform: app takes ukc:kv/ro (kv-tar) from a driver, and the platform's \
         ukc:sendfile/sendfile works only with its own; leave ukc:sendfile/sendfile to a driver (see `ukc drivers`)"
    );
}
