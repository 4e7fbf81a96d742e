//! One module per `ukc` command.

pub mod compose;
pub mod describe;
pub mod drivers;
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
    /// A plugin driver component, treated exactly like a built-in one (repeatable).
    #[arg(long = "driver", value_name = "FILE")]
    pub drivers: Vec<String>,
    /// Fill INTERFACE, or every interface of a PACKAGE, with DRIVER (or `platform`)
    /// where several could (repeatable), e.g. --use ukc:kv/ro=kv-tar, --use ukc:tcpip=tcpip.
    #[arg(long = "use", value_name = "INTERFACE=DRIVER", value_parser = parse_use)]
    pub uses: Vec<Use>,
}

impl Selection {
    /// The library's options.
    pub fn options(&self) -> ukc::Options {
        ukc::Options { target: self.target.clone(), drivers: self.drivers.clone(), uses: self.uses.clone() }
    }
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
