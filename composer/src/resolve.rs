//! Resolution: which provider fills each import of the application and, transitively, of
//! every driver it pulls in; then the instantiation order.
//!
//! For an import of interface `I` by component `C`, the first rule that applies wins:
//! 1. `--use I=D` names the provider (`platform`, or a driver other than `C`);
//! 2. an *interposer* already linked (a driver other than `C` that both imports and
//!    exports `I`, such as a TCP/IP stack exporting `yield`) captures `I`;
//! 3. the target's default for `I`;
//! 4. the platform, when it provides `I` and `C` takes from it every interface whose
//!    resources `I` uses (the host's `ukc:sendfile` sends the host's kv values on the host's
//!    connections; with the kv store from a driver, a driver's `ukc:sendfile` it is);
//! 5. the one driver exporting `I`; several are an ambiguity, none an error that lists
//!    what exists at other versions.
//!
//! Before any of them: an entry adapter ([`crate::entry`]) imports the application's
//! entry point, which only the application fills.
//!
//! A provider must export `I` on the import's semver track. Rule 2 can only apply once
//! the interposer is linked, so resolution repeats until the set of drivers is stable.

use crate::catalogue::Catalogue;
use crate::component::Component;
use crate::diagnose;
use crate::entry::{self, Entry};
use crate::names::InterfaceName;
use crate::target::{PLATFORM, Platform, Target};
use anyhow::{Result, anyhow, bail};

/// A `--use IFACE=DRIVER` choice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Use {
    /// The interface, without version (`ukc:kv/ro`), or a whole package (`ukc:tcpip`).
    pub interface: String,
    /// A driver name, or `platform`.
    pub provider: String,
}

impl Use {
    /// Parses `IFACE=DRIVER` or `PACKAGE=DRIVER`; a version is accepted and ignored.
    pub fn parse(text: &str) -> Result<Use> {
        let (interface, provider) = text
            .split_once('=')
            .ok_or_else(|| anyhow!("--use {text}: expected INTERFACE=DRIVER, such as ukc:kv/ro=kv-tar"))?;
        let unversioned = interface.split('@').next().unwrap_or_default();
        let package = InterfaceName::parse(&format!("{unversioned}/x")).filter(|_| !unversioned.contains('/'));
        let name = InterfaceName::parse(interface).or(package.clone()).ok_or_else(|| {
            anyhow!(
                "--use {text}: {interface:?} is not an interface such as ukc:kv/ro, nor a package such as ukc:tcpip"
            )
        })?;
        if provider.is_empty() {
            bail!("--use {text}: name a driver (see `ukc drivers`) or `platform` after '='");
        }
        let interface = if package.is_some() { name.package().to_string() } else { name.path };
        Ok(Use { interface, provider: provider.to_string() })
    }

    /// Whether this choice covers the interface `want` (by its path, or its package).
    pub fn covers(&self, want: &InterfaceName) -> bool {
        self.interface == want.path || self.interface == want.package()
    }
}

/// Who fills an import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Provider {
    /// The host, under the platform's name for the interface.
    Platform(InterfaceName),
    /// A linked component.
    Node {
        /// Its index in [`Plan::nodes`].
        node: usize,
        /// Its export that fills the import.
        export: String,
    },
}

/// One filled import.
#[derive(Clone, Debug)]
pub struct Link {
    /// Index of the importing node.
    pub importer: usize,
    /// The import's exact name.
    pub import: String,
    /// Who fills it.
    pub provider: Provider,
}

/// The resolved composition.
pub struct Plan {
    /// The target composed for.
    pub target: &'static Target,
    /// The linked components in instantiation order: every provider before its importers,
    /// and the entry adapter, if any, after the application.
    pub nodes: Vec<Component>,
    /// Every import of every node, filled.
    pub links: Vec<Link>,
    /// Index of the application in [`Plan::nodes`].
    pub app_node: usize,
    /// Index of the node whose export is the unikernel's entry point: the application,
    /// or the entry adapter linked after it.
    pub entry_node: usize,
    /// That node's export of the platform's entry point.
    pub entry_export: String,
    /// Notes for the user (unused `--use`, say).
    pub notes: Vec<String>,
    /// The kv stores baked into the unikernel (`--data`), which the `kv-data` driver
    /// serves.
    pub baked: Vec<String>,
}

impl Plan {
    /// Index of the application node.
    pub fn app(&self) -> usize {
        self.app_node
    }

    /// Every node but the application: the drivers, in instantiation order.
    pub fn drivers(&self) -> impl Iterator<Item = (usize, &Component)> {
        self.nodes.iter().enumerate().filter(move |(i, _)| *i != self.app_node)
    }

    /// The links of one importer, in import order.
    pub fn links_of(&self, importer: usize) -> impl Iterator<Item = &Link> {
        self.links.iter().filter(move |l| l.importer == importer)
    }
}

/// Resolves `app` against `platform` and the `catalogue`; with `baked` kv stores, the
/// `kv-data` driver is linked from the start, to interpose on `ukc:kv/ro`. `implied`
/// are choices ukc makes itself (the WASI shim a program needs, see `preopen.rs`): they
/// act as `--use` where the user's `uses` say nothing, and, being nobody's words, never
/// earn a note that they had no effect.
pub fn resolve(
    app: Component,
    platform: &Platform,
    catalogue: &Catalogue,
    uses: &[Use],
    implied: &[Use],
    baked: &[String],
) -> Result<Plan> {
    let choices: Vec<Use> = uses.iter().chain(implied).cloned().collect();
    for u in &choices {
        if u.provider != PLATFORM && catalogue.get(&u.provider).is_none() {
            bail!(
                "--use {}={}: there is no driver called {:?}; the drivers are: {} (or `platform`)",
                u.interface,
                u.provider,
                u.provider,
                catalogue.names().join(", ")
            );
        }
    }
    let entry = entry::find(&app, platform, catalogue)?;
    // An entry adapter is always linked: it is the first seed, node 1.
    let mut seeds: Vec<String> = match &entry {
        Entry::Adapter { adapter, .. } => vec![adapter.clone()],
        Entry::Direct(_) => Vec::new(),
    };
    if !baked.is_empty() {
        if catalogue.get(crate::image::DRIVER).is_none() {
            bail!("--data needs the {} driver, which this ukc was built without", crate::image::DRIVER);
        }
        seeds.push(crate::image::DRIVER.to_string());
    }
    let wiring = loop {
        let wiring = Wiring::run(&app, platform, catalogue, &choices, &entry, &seeds)?;
        let new: Vec<String> =
            wiring.nodes[1..].iter().map(|d| d.name.clone()).filter(|n| !seeds.contains(n)).collect();
        if new.is_empty() {
            break wiring;
        }
        seeds.extend(new);
    };
    let notes = uses
        .iter()
        .filter(|u| !wiring.used_interfaces.iter().any(|used| u.covers(used)))
        .map(|u| format!("--use {}={} had no effect: nothing imports {}", u.interface, u.provider, u.interface))
        .collect();
    let (root, export) = match &entry {
        Entry::Direct(export) => (0, export.clone()),
        Entry::Adapter { .. } => (1, export_for(&wiring.nodes[1], &platform.main)),
    };
    let ordered = crate::order::instantiation_order(wiring.nodes, wiring.links, root)?;
    Ok(Plan {
        target: platform.target,
        app_node: ordered.index[0],
        entry_node: ordered.index[root],
        entry_export: export,
        nodes: ordered.nodes,
        links: ordered.links,
        notes,
        baked: baked.to_vec(),
    })
}

/// One pass of resolution with a given set of drivers already linked.
struct Wiring<'a> {
    platform: &'a Platform,
    catalogue: &'a Catalogue,
    uses: &'a [Use],
    entry: &'a Entry,
    /// Node 0 is the application; then the seeds, then drivers pulled in by this pass.
    nodes: Vec<Component>,
    links: Vec<Link>,
    used_interfaces: Vec<InterfaceName>,
}

impl<'a> Wiring<'a> {
    fn run(
        app: &Component,
        platform: &'a Platform,
        catalogue: &'a Catalogue,
        uses: &'a [Use],
        entry: &'a Entry,
        seeds: &[String],
    ) -> Result<Wiring<'a>> {
        let mut nodes = vec![app.clone()];
        nodes.extend(seeds.iter().filter_map(|s| catalogue.get(s)).cloned());
        let mut wiring =
            Wiring { platform, catalogue, uses, entry, nodes, links: Vec::new(), used_interfaces: Vec::new() };
        let mut next = 0;
        while next < wiring.nodes.len() {
            for import in wiring.nodes[next].imports.clone() {
                let provider = wiring.choose(next, &import)?;
                wiring.links.push(Link { importer: next, import, provider });
            }
            next += 1;
        }
        Ok(wiring)
    }

    /// Picks the provider of `import` for node `importer`, following the rules above.
    fn choose(&mut self, importer: usize, import: &str) -> Result<Provider> {
        let component = &self.nodes[importer];
        let want = InterfaceName::parse(import).ok_or_else(|| diagnose::not_an_interface(component, import))?;
        self.used_interfaces.push(want.clone());
        // The entry adapter (node 1) imports the application's entry point.
        if let Entry::Adapter { app_export, .. } = self.entry
            && importer == 1
            && InterfaceName::parse(app_export).is_some_and(|e| want.same_track(&e))
        {
            return Ok(Provider::Node { node: 0, export: app_export.clone() });
        }
        if let Some(u) = self.uses.iter().find(|u| u.covers(&want))
            && u.provider != component.name
        {
            return self.named_provider(importer, &want, &u.provider, "--use");
        }
        if let Some(node) = self.interposer(importer, &want)? {
            return Ok(node);
        }
        if let Some(default) = self.platform.target.default_for(&want)
            && default != component.name
            && self.offers(default, &want)
        {
            return self.named_provider(importer, &want, default, "the target's default");
        }
        if let Some(p) = self.platform.provided(&want.path).filter(|p| want.same_track(p))
            && self.resources_from_platform(importer, &want)
        {
            return Ok(Provider::Platform(p.clone()));
        }
        let candidates: Vec<_> = self
            .catalogue
            .exporters(&want.path)
            .filter(|(d, e)| d.name != component.name && want.same_track(e))
            .collect();
        match candidates.as_slice() {
            [(driver, _)] => {
                let name = driver.name.clone();
                Ok(self.link_driver(&name, &want))
            }
            [] => Err(diagnose::missing(component, &want, self.platform, self.catalogue)),
            several => Err(diagnose::ambiguous(component, &want, several)),
        }
    }

    /// Whether `importer` takes from the platform every interface whose resources the
    /// platform's `want` uses. Those come first in a component's imports (its types need
    /// them), so their links are made already.
    fn resources_from_platform(&self, importer: usize, want: &InterfaceName) -> bool {
        self.resources_not_from_platform(importer, want).is_empty()
    }

    /// Those of the interfaces whose resources the platform's `want` uses that `importer`
    /// takes from a driver, each with the driver: `ukc:kv/ro (kv-tar)`.
    fn resources_not_from_platform(&self, importer: usize, want: &InterfaceName) -> Vec<String> {
        let used = self.platform.uses_of(&want.path);
        self.links_of(importer)
            .filter_map(|link| match &link.provider {
                Provider::Node { node, .. } => {
                    let path = InterfaceName::parse(&link.import)?.path;
                    used.contains(&path).then(|| format!("{path} ({})", self.nodes[*node].name))
                }
                Provider::Platform(_) => None,
            })
            .collect()
    }

    fn links_of(&self, importer: usize) -> impl Iterator<Item = &Link> {
        self.links.iter().filter(move |link| link.importer == importer)
    }

    /// Whether `provider` (a driver name or `platform`) offers `want` on its track.
    fn offers(&self, provider: &str, want: &InterfaceName) -> bool {
        if provider == PLATFORM {
            return self.platform.provided(&want.path).is_some_and(|p| want.same_track(p));
        }
        self.catalogue.exporters(&want.path).any(|(d, e)| d.name == provider && want.same_track(&e))
    }

    /// The provider chosen by name (with `--use` or a target default).
    fn named_provider(&mut self, importer: usize, want: &InterfaceName, provider: &str, by: &str) -> Result<Provider> {
        if !self.offers(provider, want) {
            return Err(diagnose::chosen_provider_lacks(
                &self.nodes[importer],
                want,
                provider,
                by,
                self.platform,
                self.catalogue,
            ));
        }
        if provider == PLATFORM {
            let elsewhere = self.resources_not_from_platform(importer, want);
            if !elsewhere.is_empty() {
                bail!(
                    "{by} {}={PLATFORM}: {} takes {} from a driver, and the platform's {} works only with its own; \
                     leave {} to a driver (see `ukc drivers`)",
                    want.path,
                    self.nodes[importer].name,
                    elsewhere.join(", "),
                    want.path,
                    want.path
                );
            }
            let p = self.platform.provided(&want.path).expect("checked by offers");
            return Ok(Provider::Platform(p.clone()));
        }
        Ok(self.link_driver(provider, want))
    }

    /// A linked interposer of `want` other than `importer`, if there is exactly one.
    fn interposer(&self, importer: usize, want: &InterfaceName) -> Result<Option<Provider>> {
        let found: Vec<usize> =
            (1..self.nodes.len()).filter(|&i| i != importer && is_interposer(&self.nodes[i], want)).collect();
        match found.as_slice() {
            [] => Ok(None),
            [node] => Ok(Some(Provider::Node { node: *node, export: export_for(&self.nodes[*node], want) })),
            several => {
                let names: Vec<&str> = several.iter().map(|&i| self.nodes[i].name.as_str()).collect();
                Err(anyhow!(
                    "drivers {} all interpose on {}, and ukc cannot tell in which order to chain them; \
                     leave out all but one",
                    names.join(", "),
                    want.path
                ))
            }
        }
    }

    /// Links the driver `name` (adding it on first use) as the provider of `want`.
    fn link_driver(&mut self, name: &str, want: &InterfaceName) -> Provider {
        let node = match self.nodes.iter().skip(1).position(|n| n.name == name) {
            Some(i) => i + 1,
            None => {
                let driver = self.catalogue.get(name).expect("providers come from the catalogue");
                self.nodes.push(driver.clone());
                self.nodes.len() - 1
            }
        };
        Provider::Node { node, export: export_for(&self.nodes[node], want) }
    }
}

/// A component that imports and exports the same interface sits between its importers
/// and the next provider down.
fn is_interposer(component: &Component, want: &InterfaceName) -> bool {
    let on_track = |names: &[String]| names.iter().filter_map(|n| InterfaceName::parse(n)).any(|n| want.same_track(&n));
    on_track(&component.imports) && on_track(&component.exports)
}

/// The exact export name through which `component` provides `want`.
fn export_for(component: &Component, want: &InterfaceName) -> String {
    component
        .exports
        .iter()
        .find(|e| InterfaceName::parse(e).is_some_and(|e| want.same_track(&e)))
        .cloned()
        .expect("providers export the interface on the track")
}

#[cfg(test)]
mod tests;
