//! What every ukc host shares: the engine and its compile cache, the command-line grammar
//! for devices, the boot checks against the unikernel's manifest, runtime arguments, and
//! the devices both the `unix` and `hvt` platforms provide, one module per device.
//!
//! A host parses its own command line into an [`launch::Invocation`] and hands it to
//! [`launch::launch`] with the host-specific devices it adds (the unix host's kv stores,
//! say); everything else happens here, the same way for every host.

pub mod args;
pub mod block;
pub mod cache;
mod clock;
mod console;
pub mod devices;
pub mod engine;
mod entropy;
pub mod exit;
pub mod flags;
pub mod launch;
pub mod net;
mod poll;
pub mod run;
pub mod socket_policy;
pub mod sockets;
pub mod tap;

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
                import ukc:args/undeclared@0.1.0;
                import ukc:exit/exit@0.1.0;
                import ukc:block/block@0.1.0;
                import ukc:net/net@0.1.0;
                import ukc:tcpip/ipv4@0.1.0;
                import ukc:tcpip/tcp@0.1.0;
                import ukc:tcpip/udp@0.1.0;
            }
        ",
        path: "../wit",
        imports: { default: trappable },
        with: {
            "ukc:block/block.device": crate::block::DeviceHandle,
            "ukc:net/net.device": crate::net::NetHandle,
            "ukc:tcpip/tcp.listener": crate::sockets::Listener,
            "ukc:tcpip/tcp.connection": crate::sockets::Connection,
            "ukc:tcpip/udp.socket": crate::sockets::Datagrams,
        },
    });
}

/// The state behind the shared interfaces: one per unikernel.
pub struct Devices {
    clock: clock::Clock,
    args: args::RuntimeArgs,
    blocks: Vec<block::BlockBackend>,
    nets: Vec<net::NetBackend>,
    watched: sockets::Watched,
    socket_policy: socket_policy::SocketPolicy,
    table: ResourceTable,
    time_limit: Option<(std::time::Instant, std::time::Duration)>,
}

impl Devices {
    /// Devices for a unikernel with these runtime arguments and attached devices.
    pub fn new(args: args::RuntimeArgs, blocks: Vec<block::BlockBackend>, nets: Vec<net::NetBackend>) -> Devices {
        Devices {
            clock: clock::Clock::new(),
            args,
            blocks,
            nets,
            watched: Default::default(),
            socket_policy: Default::default(),
            table: ResourceTable::new(),
            time_limit: None,
        }
    }

    /// Limits where the unikernel may listen and what it may reach on the host's sockets.
    pub fn restrict_sockets(&mut self, policy: socket_policy::SocketPolicy) {
        self.socket_policy = policy;
    }

    /// Stops the unikernel `limit` from now: `yield` then fails with [`exit::TimedOut`]
    /// instead of waiting past it.
    pub fn limit_time(&mut self, limit: std::time::Duration) {
        self.time_limit = Some((std::time::Instant::now() + limit, limit));
    }

    /// The attached block devices, in command-line order. A host that serves the
    /// unikernel from outside wasmtime (a VM's tender) names them by this index.
    pub fn blocks(&self) -> &[block::BlockBackend] {
        &self.blocks
    }

    /// The attached net devices, in command-line order (the index a tender uses).
    pub fn nets(&self) -> &[net::NetBackend] {
        &self.nets
    }

    /// The index in [`Devices::blocks`] of block device `name`, or the error that stops
    /// a unikernel acquiring a device it did not declare.
    pub fn block_index(&self, name: &str) -> wasmtime::Result<usize> {
        self.attached(&self.blocks.iter().map(block::BlockBackend::name).collect::<Vec<_>>(), name, "block")
    }

    /// The index in [`Devices::nets`] of net device `name`, as [`Devices::block_index`].
    pub fn net_index(&self, name: &str) -> wasmtime::Result<usize> {
        self.attached(&self.nets.iter().map(net::NetBackend::name).collect::<Vec<_>>(), name, "net")
    }

    /// The index of device `name` among the attached `names`. The host attached every
    /// device the manifest declares (and only those), so acquiring any other name is a
    /// bug in the unikernel: it stops it, naming the device, as Solo5 aborts.
    fn attached(&self, names: &[&str], name: &str, ty: &str) -> wasmtime::Result<usize> {
        names.iter().position(|n| *n == name).ok_or_else(|| {
            wasmtime::Error::msg(format!(
                "the unikernel acquired the {ty} device '{name}', which no component declares in its manifest"
            ))
        })
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
        ukc::args::undeclared::add_to_linker::<T, HasSelf<Devices>>(linker, get)?;
        ukc::exit::exit::add_to_linker::<T, HasSelf<Devices>>(linker, get)?;
        ukc::block::block::add_to_linker::<T, HasSelf<Devices>>(linker, get)?;
        ukc::net::net::add_to_linker::<T, HasSelf<Devices>>(linker, get)?;
        Ok(())
    }

    /// Adds the host socket stack (`ukc:tcpip` on the host's sockets), for hosts whose
    /// platform provides it.
    pub fn add_sockets_to_linker<T: 'static>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> &mut Devices,
    ) -> anyhow::Result<()> {
        use bindings::ukc::tcpip;
        tcpip::ipv4::add_to_linker::<T, HasSelf<Devices>>(linker, get)?;
        tcpip::tcp::add_to_linker::<T, HasSelf<Devices>>(linker, get)?;
        tcpip::udp::add_to_linker::<T, HasSelf<Devices>>(linker, get)?;
        Ok(())
    }
}
