//! One module per `ukc` command.

pub mod compose;
pub mod describe;
pub mod drivers;
pub mod package;
mod plugins;
pub mod pull;
pub mod push;
pub mod targets;
pub mod wit;

use clap::Args as ClapArgs;
use ukc::resolve::Use;

/// The options every command that resolves a composition takes.
#[derive(ClapArgs)]
pub struct Selection {
    /// The target to compose for: unix, hvt or wasi (see `ukc targets`).
    #[arg(short, long, default_value = "unix")]
    pub target: String,
    /// A plugin driver, treated exactly like a built-in one (repeatable): a component
    /// file, oci:DIR[:TAG], oci-archive:FILE[:TAG] or oci://HOST/REPOSITORY[:TAG|@DIGEST].
    #[arg(long = "driver", value_name = "DRIVER")]
    pub drivers: Vec<String>,
    /// Fill INTERFACE, or every interface of a PACKAGE, with DRIVER (or `platform`)
    /// where several could (repeatable), e.g. --use ukc:kv/ro=kv-tar, --use ukc:tcpip=tcpip.
    #[arg(long = "use", value_name = "INTERFACE=DRIVER", value_parser = parse_use)]
    pub uses: Vec<Use>,
    /// Bake the directory DIR into the unikernel as the read-only kv store NAME, served
    /// from memory (repeatable), e.g. --data storage=./site: the app opens it as it opens
    /// any kv store, and no host attaches it. Other stores stay devices.
    #[arg(long = "data", value_name = "NAME=DIR", value_parser = parse_data)]
    pub data: Vec<ukc::image::Data>,
    /// Lend a WASI program the kv store NAME as its directory /NAME, read-only, or
    /// read-write with :rw (repeatable), e.g. --preopen site --preopen logs:rw: the host
    /// attaches the store like any kv device (--kv:site=DIR on ukc-unix)
    #[arg(long = "preopen", value_name = "NAME[:rw]", value_parser = parse_preopen)]
    pub preopens: Vec<ukc_manifest::Preopen>,
    #[command(flatten)]
    pub pinning: plugins::Pinning,
}

impl Selection {
    /// The library's options, with every plugin driver read (registry ones pinned in the
    /// returned lock, which the caller saves once it succeeded).
    pub fn options(&self) -> anyhow::Result<(ukc::Options, ukc_oci::Lock)> {
        let (drivers, lock) = plugins::load(&self.drivers, &self.pinning)?;
        let options = ukc::Options {
            target: self.target.clone(),
            drivers,
            uses: self.uses.clone(),
            data: self.data.clone(),
            preopens: self.preopens.clone(),
        };
        Ok((options, lock))
    }
}

fn parse_data(text: &str) -> Result<ukc::image::Data, String> {
    ukc::image::Data::parse(text).map_err(|e| e.to_string())
}

fn parse_preopen(text: &str) -> Result<ukc_manifest::Preopen, String> {
    ukc::preopen::parse(text).map_err(|e| e.to_string())
}

fn parse_use(text: &str) -> Result<Use, String> {
    Use::parse(text).map_err(|e| e.to_string())
}

/// Prints notes gathered while composing, on standard error.
pub fn print_notes(notes: &[String]) {
    for note in notes {
        eprintln!("ukc: note: {note}");
    }
}
