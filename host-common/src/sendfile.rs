//! `ukc:sendfile` on `ukc-unix`: a value of a kv store on a directory sent on one of the
//! host's sockets with `sendfile(2)`, from the page cache to the socket, never through
//! the unikernel's memory nor this process's. [`crate::in_place`] reads the head where it
//! lies in the unikernel's memory.

use crate::Devices;
use crate::bindings::ukc::sendfile::sendfile::{Error, Host};
use crate::kv::StoreHandle;
use crate::sockets::Connection;
use wasmtime::component::Resource;

impl Devices {
    /// Sends `head`, then the bytes of the value `key` in `store` from `offset`, up to
    /// `len` and the value's end, on `connection`.
    pub(crate) fn send_kv_value(
        &mut self,
        connection: &Resource<Connection>,
        head: &[u8],
        store: &Resource<StoreHandle>,
        key: &str,
        offset: u64,
        len: u64,
    ) -> wasmtime::Result<Result<u64, Error>> {
        let (file, size) = match self.kv.held_value(store, key)? {
            Ok(held) => held,
            Err(e) => return Ok(Err(Error::Kv(e.into()))),
        };
        let len = len.min(size.saturating_sub(offset));
        // The file stays held (and open) until the unikernel yields or asks for another.
        Ok(self.tcp_send_file(connection, head, file, offset, len)?.map_err(Error::Tcp))
    }
}

impl Host for Devices {
    /// Not what unikernels call: [`crate::in_place`] replaces it (the trait requires it).
    fn send_value(
        &mut self,
        connection: Resource<Connection>,
        head: Vec<u8>,
        store: Resource<StoreHandle>,
        key: String,
        offset: u64,
        len: u64,
    ) -> wasmtime::Result<Result<u64, Error>> {
        self.send_kv_value(&connection, &head, &store, &key, offset, len)
    }
}
