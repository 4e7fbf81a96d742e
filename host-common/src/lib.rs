//! What every ukc host shares: the engine and its compile cache, the command-line grammar
//! for devices, the boot checks against the unikernel's manifest, runtime arguments, and
//! the devices both the `unix` and `hvt` platforms provide, one module per device.
//!
//! A host builds a [`Devices`] from its command line, adds it to a wasmtime linker with
//! [`Devices::add_to_linker`], adds its own devices (the unix host's kv stores, say), and
//! boots with [`run::boot`].

pub mod args;
pub mod block;
mod clock;
mod console;
pub mod engine;
mod entropy;
pub mod exit;
pub mod flags;
mod poll;
pub mod run;

pub use exit::Exit;

use wasmtime::component::{HasSelf, Linker, ResourceTable};

/// Host bindings of the interfaces every platform provides.
pub mod bindings {
    wasmtime::component::bindgen!({
        inline: "
            package ukc:host;
            world shared {
                import ukc:console/console@0.1.0;
                import ukc:clock/monotonic@0.1.0;
                import ukc:clock/wall@0.1.0;
                import ukc:entropy/entropy@0.1.0;
                import ukc:poll/poll@0.1.0;
                import ukc:args/args@0.1.0;
                import ukc:exit/exit@0.1.0;
                import ukc:block/block@0.1.0;
            }
        ",
        path: "../wit",
        imports: { default: trappable },
        with: { "ukc:block/block.device": crate::block::DeviceHandle },
    });
}

/// The state behind the shared interfaces: one per unikernel.
pub struct Devices {
    clock: clock::Clock,
    args: args::RuntimeArgs,
    blocks: block::Blocks,
    table: ResourceTable,
}

impl Devices {
    /// Devices for a unikernel with these runtime arguments and attached block devices.
    pub fn new(args: args::RuntimeArgs, blocks: Vec<block::BlockBackend>) -> Devices {
        Devices {
            clock: clock::Clock::new(),
            args,
            blocks: block::Blocks::new(blocks),
            table: ResourceTable::new(),
        }
    }

    /// Adds every shared interface to `linker`; `get` finds the devices in the store's data.
    pub fn add_to_linker<T: 'static>(linker: &mut Linker<T>, get: fn(&mut T) -> &mut Devices) -> anyhow::Result<()> {
        use bindings::ukc;
        ukc::console::console::add_to_linker::<T, HasSelf<Devices>>(linker, get)?;
        ukc::clock::monotonic::add_to_linker::<T, HasSelf<Devices>>(linker, get)?;
        ukc::clock::wall::add_to_linker::<T, HasSelf<Devices>>(linker, get)?;
        ukc::entropy::entropy::add_to_linker::<T, HasSelf<Devices>>(linker, get)?;
        ukc::poll::poll::add_to_linker::<T, HasSelf<Devices>>(linker, get)?;
        ukc::args::args::add_to_linker::<T, HasSelf<Devices>>(linker, get)?;
        ukc::exit::exit::add_to_linker::<T, HasSelf<Devices>>(linker, get)?;
        ukc::block::block::add_to_linker::<T, HasSelf<Devices>>(linker, get)?;
        Ok(())
    }
}
