//! What every ukc host shares: the engine and its compile cache, the command-line grammar
//! for devices, the boot checks against the unikernel's manifest, runtime arguments, and
//! the devices of the `unix` and `hvt` platforms, one module per device.
//!
//! A host parses its own command line into an [`launch::Invocation`] and hands it to
//! [`launch::launch`], which links the unikernel with its target's platform world
//! (`wit/platform.wit`); everything else happens here, the same way for every host.

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
mod in_place;
pub mod kv;
pub mod launch;
pub mod net;
mod offloads;
mod poll;
pub mod run;
mod sendfile;
pub mod socket_policy;
pub mod sockets;
pub mod tap;

pub use exit::Exit;

use wasmtime::component::{HasSelf, Linker, ResourceTable};

/// Host bindings of the platforms' worlds (`wit/platform.wit`): `unix` holds every
/// interface a ukc host provides, and `hvt`, which `unix` includes, shares its types.
pub mod bindings {
    /// The `ukc:platform/unix` world.
    #[allow(missing_docs)] // generated
    pub mod unix {
        wasmtime::component::bindgen!({
            path: "../wit",
            world: "ukc:platform/unix",
            imports: { default: trappable },
            with: {
                "ukc:block/block.device": crate::block::DeviceHandle,
                "ukc:net/net.device": crate::net::NetHandle,
                "ukc:kv/ro.store": crate::kv::StoreHandle,
                "ukc:kv/rw.store": crate::kv::RwStoreHandle,
                "ukc:tcpip/tcp.listener": crate::sockets::Listener,
                "ukc:tcpip/tcp.connection": crate::sockets::Connection,
                "ukc:tcpip/udp.socket": crate::sockets::Datagrams,
            },
        });
    }

    /// The `ukc:platform/hvt` world, on the `unix` world's interfaces.
    #[allow(missing_docs)] // generated
    pub mod hvt {
        wasmtime::component::bindgen!({
            path: "../wit",
            world: "ukc:platform/hvt",
            imports: { default: trappable },
            with: { "ukc": super::unix::ukc },
        });
    }

    pub use unix::ukc;
}

/// The state behind the shared interfaces: one per unikernel.
pub struct Devices {
    clock: clock::Clock,
    args: args::RuntimeArgs,
    blocks: Vec<block::BlockBackend>,
    nets: Vec<net::NetBackend>,
    kv: kv::KvStores,
    watched: sockets::Watched,
    socket_policy: socket_policy::SocketPolicy,
    table: ResourceTable,
    time_limit: Option<(std::time::Instant, std::time::Duration)>,
}

impl Devices {
    /// The runtime arguments, as parsed at launch.
    pub fn args(&self) -> &args::RuntimeArgs {
        &self.args
    }

    /// Devices for a unikernel with these runtime arguments and attached devices.
    pub fn new(args: args::RuntimeArgs, blocks: Vec<block::BlockBackend>, nets: Vec<net::NetBackend>) -> Devices {
        Devices {
            clock: clock::Clock::new(),
            args,
            blocks,
            nets,
            kv: Default::default(),
            watched: Default::default(),
            socket_policy: Default::default(),
            table: ResourceTable::new(),
            time_limit: None,
        }
    }

    /// Attaches kv stores (on the unix platform, whose host serves them).
    pub fn attach_kv(&mut self, stores: kv::KvStores) {
        self.kv = stores;
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

    /// Adds every interface of `target`'s platform world to `linker`; `get` finds the
    /// devices in the store's data.
    pub fn add_to_linker<T: 'static>(
        linker: &mut Linker<T>,
        target: &str,
        get: fn(&mut T) -> &mut Devices,
    ) -> anyhow::Result<()> {
        match target {
            "unix" => bindings::unix::Unix::add_to_linker::<T, HasSelf<Devices>>(linker, get)?,
            "hvt" => bindings::hvt::Hvt::add_to_linker::<T, HasSelf<Devices>>(linker, get)?,
            other => anyhow::bail!("no host platform world for the {other} target"),
        }
        in_place::add_to_linker(linker, target, get)?;
        Ok(())
    }
}
