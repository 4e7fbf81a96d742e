//! The bulk writes (`block`'s, `net`'s, TCP's, `sendfile`'s head) defined over bindgen's so that they read
//! the unikernel's bytes where they lie: bindgen's lift a `list<u8>` into a new `Vec`
//! first, an allocation and a copy per call on the hot paths of serving and storing.

use crate::Devices;
use crate::block::DeviceHandle;
use crate::kv::StoreHandle;
use crate::net::NetHandle;
use crate::sockets::Connection;
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource, WasmList};

/// Replaces the bulk writes of `target`'s world in `linker` with ones that read in place.
pub(crate) fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    target: &str,
    get: fn(&mut T) -> &mut Devices,
) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut block = linker.instance("ukc:block/block@0.1.0")?;
    block.func_wrap(
        "[method]device.write",
        move |mut store: StoreContextMut<'_, T>,
              (device, offset, data): (Resource<DeviceHandle>, u64, WasmList<u8>)| {
            let (devices, data) = in_place(&mut store, get, &data);
            Ok((devices.block(&device)?.write(offset, data),))
        },
    )?;
    let mut net = linker.instance("ukc:net/net@0.1.1")?;
    net.func_wrap(
        "[method]device.write",
        move |mut store: StoreContextMut<'_, T>, (device, frame): (Resource<NetHandle>, WasmList<u8>)| {
            let (devices, frame) = in_place(&mut store, get, &frame);
            Ok((devices.net(&device)?.write(frame),))
        },
    )?;
    net.func_wrap(
        "[method]device.write-segments",
        move |mut store: StoreContextMut<'_, T>, (device, frame, segment): (Resource<NetHandle>, WasmList<u8>, u32)| {
            let (devices, frame) = in_place(&mut store, get, &frame);
            Ok((devices.net(&device)?.write_segments(frame, segment),))
        },
    )?;
    if target == "unix" {
        linker.instance("ukc:tcpip/tcp@0.1.0")?.func_wrap(
            "[method]connection.write",
            move |mut store: StoreContextMut<'_, T>, (connection, data): (Resource<Connection>, WasmList<u8>)| {
                let (devices, data) = in_place(&mut store, get, &data);
                Ok((devices.tcp_write(&connection, data)?,))
            },
        )?;
        linker.instance("ukc:sendfile/sendfile@0.1.0")?.func_wrap(
            "send-value",
            move |mut store: StoreContextMut<'_, T>, (connection, head, kv, key, offset, len): SendValue| {
                let (devices, head) = in_place(&mut store, get, &head);
                Ok((devices.send_kv_value(&connection, head, &kv, &key, offset, len)?,))
            },
        )?;
    }
    linker.allow_shadowing(false);
    Ok(())
}

/// `ukc:sendfile`'s `send-value` arguments: connection, head, store, key, offset, length.
type SendValue = (Resource<Connection>, WasmList<u8>, Resource<StoreHandle>, String, u64, u64);

/// The bytes of `list`, read in place from the unikernel's memory, next to the devices.
fn in_place<'a, T: 'static>(
    store: &'a mut StoreContextMut<'_, T>,
    get: fn(&mut T) -> &mut Devices,
    list: &WasmList<u8>,
) -> (&'a mut Devices, &'a [u8]) {
    let bytes = list.as_le_slice(&*store);
    let (at, len) = (bytes.as_ptr(), bytes.len());
    // SAFETY: the bytes lie in the unikernel's linear memory, which no other thread
    // shares (no shared memories) and which neither moves nor changes while this host
    // function runs: no wasm runs meanwhile, and the devices never touch guest memory;
    // `Devices` lives in the store's data, a separate allocation.
    (get(store.data_mut()), unsafe { std::slice::from_raw_parts(at, len) })
}
