//! `ukc`: composes a target-agnostic application component with driver components into
//! one component, a unikernel, whose only imports are its target platform's interfaces.
//!
//! The steps, each in its own module: [`component`] loads the application and the drivers;
//! [`resolve`] decides which provider fills each import and in which order to instantiate
//! them; `merge` merges their manifests; `encode` links them with wac-graph; and
//! [`describe`] and [`wac`] present the result to people and to `wac`. The public face is
//! what the `ukc` command line uses.
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! let app = ukc::component::Component::read("hello.wasm")?;
//! let composition = ukc::Composition::new(app, &ukc::Options { target: "unix".into(), ..Default::default() })?;
//! std::fs::write("hello.unix.wasm", composition.encode()?)?;
//! # Ok(()) }
//! ```

pub mod catalogue;
pub mod component;
mod declarations;
pub mod describe;
mod diagnose;
mod encode;
mod entry;
mod generated;
pub mod image;
mod merge;
pub mod names;
mod order;
pub mod output;
pub mod package;
pub mod preopen;
pub mod resolve;
pub mod target;
pub mod wac;
pub mod wit;

use anyhow::Result;
use catalogue::Catalogue;
use component::Component;
use resolve::{Plan, Use};
use target::{Platform, Target};
use ukc_manifest::UnikernelManifest;

/// What to compose for, and with which extra drivers and choices.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The target's name (`unix`, `hvt`, `wasi`).
    pub target: String,
    /// Plugin drivers.
    pub drivers: Vec<catalogue::Plugin>,
    /// `--use` choices.
    pub uses: Vec<Use>,
    /// `--data` choices: directories baked in as kv stores.
    pub data: Vec<image::Data>,
    /// `--preopen` choices: kv stores a WASI program sees as directories.
    pub preopens: Vec<ukc_manifest::Preopen>,
}

/// A resolved composition: the plan, the merged manifest and the platform it targets.
pub struct Composition {
    /// Which components are linked, how, and in which order.
    pub plan: Plan,
    /// The merged manifest.
    pub manifest: UnikernelManifest,
    /// The target's platform.
    pub platform: Platform,
    /// Notes for the user gathered on the way.
    pub notes: Vec<String>,
}

impl Composition {
    /// Resolves `app` for `options.target` with the built-in and plugin drivers.
    pub fn new(app: Component, options: &Options) -> Result<Composition> {
        let target = Target::find(&options.target)?;
        let platform = Platform::load(target)?;
        let mut catalogue = Catalogue::load(&options.drivers)?;
        // The generated components' contents do not change how anything resolves:
        // resolve with placeholders, then encode those that are linked.
        catalogue.drivers.push(declarations::GENERATED.placeholder());
        catalogue.drivers.push(preopen::GENERATED.placeholder());
        let image = match options.data.as_slice() {
            [] => None,
            data => {
                catalogue.drivers.push(image::GENERATED.placeholder());
                Some(image::build(data)?)
            }
        };
        let baked: Vec<String> = options.data.iter().map(|d| d.name.clone()).collect();
        if !options.preopens.is_empty() && target.name == "wasi" {
            anyhow::bail!(
                "--preopen is for the unix and hvt targets; on wasi the WASI runtime lends directories itself \
                 (`wasmtime run --dir DIR::/NAME`)"
            );
        }
        let shim = if target.name == "wasi" { None } else { preopen::shim(&app.imports, &options.preopens) };
        let implied = preopen::uses(shim, &options.preopens, &options.uses)?;
        let app_name = app.name.clone();
        let mut plan = resolve::resolve(app, &platform, &catalogue, &options.uses, &implied, &baked)?;
        preopen::declare(&mut plan, &app_name, &options.preopens)?;
        let mut manifest = merge::merge(&plan)?;
        manifest.preopens = options.preopens.clone();
        if let Some((_, stores)) = &image {
            manifest.baked = stores.clone();
        }
        for node in plan.nodes.iter_mut().filter(|n| n.origin == component::Origin::Generated) {
            *node = match (node.name.as_str(), &image) {
                (name, Some((bytes, _))) if name == image::GENERATED.name => image::component(bytes)?,
                (name, _) if name == preopen::GENERATED.name => preopen::component(&options.preopens)?,
                _ => declarations::component(&manifest.to_json())?,
            };
        }
        let mut notes = catalogue.notes;
        notes.extend(plan.notes.iter().cloned());
        notes.extend(baked_driver_stores(&plan));
        Ok(Composition { plan, manifest, platform, notes })
    }

    /// Encodes the unikernel.
    pub fn encode(&self) -> Result<Vec<u8>> {
        encode::encode(&self.plan, &self.platform, &self.manifest)
    }

    /// The name under which the unikernel exports its entry point.
    pub fn main_export_name(&self) -> String {
        self.platform.main.to_string()
    }

    /// The platform interfaces the unikernel imports, sorted.
    pub fn platform_imports(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .plan
            .links
            .iter()
            .filter_map(|l| match &l.provider {
                resolve::Provider::Platform(name) => Some(name.to_string()),
                resolve::Provider::Node { .. } => None,
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// A note for each baked store that a driver, not the application, declared: such stores
/// are usually provisioned at deploy time (a TLS identity), and baking one puts what it
/// holds into the image and wherever the image is pushed.
fn baked_driver_stores(plan: &Plan) -> Vec<String> {
    plan.baked
        .iter()
        .filter_map(|name| {
            let driver = plan.drivers().find(|(_, d)| d.manifest.devices.iter().any(|decl| &decl.name == name))?;
            Some(format!(
                "--data {name}: the store belongs to the {} driver, which expects it attached at deploy time; \
                 what it holds (a private key?) is now inside the image and goes wherever the image is pushed",
                driver.1.name
            ))
        })
        .collect()
}
