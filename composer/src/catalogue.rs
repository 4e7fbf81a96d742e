//! The drivers a composition can draw on: the built-in ones embedded in `ukc`, and plugin
//! drivers passed with `--driver`, which are treated exactly alike.

use crate::component::{Component, Origin};
use crate::names::InterfaceName;
use crate::target::PLATFORM;
use anyhow::{Context, Result, bail};
use std::path::Path;

/// The drivers embedded in ukc: (name, component).
#[cfg(feature = "builtin-drivers")]
fn builtin_drivers() -> impl Iterator<Item = (&'static str, &'static [u8])> {
    ukc_components::DRIVERS.iter().map(|a| (a.name, a.bytes))
}

/// Without the `builtin-drivers` feature, there are none.
#[cfg(not(feature = "builtin-drivers"))]
fn builtin_drivers() -> impl Iterator<Item = (&'static str, &'static [u8])> {
    std::iter::empty()
}

/// A plugin driver: how the user named it (a file, or a registry reference) and its bytes.
#[derive(Clone, Debug)]
pub struct Plugin {
    /// The file or reference as given to `--driver`.
    pub shown: String,
    /// The component.
    pub bytes: Vec<u8>,
    /// Its file name, whose stem names a driver without a manifest: the file's own, or
    /// the title a package gives it.
    pub file_name: String,
}

impl Plugin {
    /// Reads the plugin driver in the file `path`.
    pub fn read(path: &str) -> Result<Plugin> {
        if !Path::new(path).is_file() {
            bail!("--driver {path}: no such file");
        }
        let bytes = std::fs::read(path).with_context(|| format!("--driver {path}: cannot read it"))?;
        Ok(Plugin { shown: path.to_string(), bytes, file_name: path.to_string() })
    }
}

/// The available drivers.
pub struct Catalogue {
    /// Every driver, built-ins first, each name once.
    pub drivers: Vec<Component>,
    /// Notes for the user (a plugin replacing a built-in, say), printed by the CLI.
    pub notes: Vec<String>,
}

impl Catalogue {
    /// The built-in drivers plus the `plugins`. A plugin with a built-in's name replaces
    /// it (with a note); two plugins with one name are an error.
    pub fn load(plugins: &[Plugin]) -> Result<Catalogue> {
        let mut drivers = Vec::new();
        for (name, bytes) in builtin_drivers() {
            drivers.push(Component::from_bytes(bytes.to_vec(), Origin::Builtin, name)?);
        }
        let mut notes = Vec::new();
        for Plugin { shown, bytes, file_name } in plugins {
            let stem = Path::new(file_name).file_stem().map_or("driver".into(), |s| s.to_string_lossy().into_owned());
            let plugin = Component::from_bytes(bytes.clone(), Origin::File(shown.clone()), &stem)?;
            if plugin.name == PLATFORM {
                bail!("--driver {shown}: a driver cannot be called {PLATFORM:?}; rename it in its manifest");
            }
            match drivers.iter().position(|d: &Component| d.name == plugin.name) {
                Some(i) if drivers[i].origin == Origin::Builtin => {
                    notes.push(format!("driver {shown} replaces the built-in driver {}", plugin.name));
                    drivers[i] = plugin;
                }
                Some(i) => bail!(
                    "--driver {shown} and --driver {} are both called {:?}; give one of them another name in its manifest",
                    drivers[i].origin.describe(),
                    plugin.name
                ),
                None => drivers.push(plugin),
            }
        }
        Ok(Catalogue { drivers, notes })
    }

    /// The driver called `name`.
    pub fn get(&self, name: &str) -> Option<&Component> {
        self.drivers.iter().find(|d| d.name == name)
    }

    /// Every driver exporting some version of the interface `path`, with the version.
    pub fn exporters<'a>(&'a self, path: &'a str) -> impl Iterator<Item = (&'a Component, InterfaceName)> + 'a {
        self.drivers.iter().filter_map(move |driver| {
            driver.exports.iter().filter_map(|e| InterfaceName::parse(e)).find(|e| e.path == path).map(|e| (driver, e))
        })
    }

    /// The names of the drivers a user can name (not the generated ones), for messages.
    pub fn names(&self) -> Vec<&str> {
        self.drivers.iter().filter(|d| d.origin != Origin::Generated).map(|d| d.name.as_str()).collect()
    }
}
