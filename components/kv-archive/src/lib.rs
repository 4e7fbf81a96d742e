//! Read-only kv stores over a tar archive (ustar, GNU and pax) on anything that reads
//! bytes at offsets: a block device for the `kv-tar` driver, the image `ukc compose --data`
//! bakes in for the `kv-data` driver. The parsing (`tar`), the index (`index`) and the
//! store operations ([`store`]) know nothing of WIT bindings; each driver adapts them to
//! its own generated types.

pub mod blocks;
#[cfg(any(fuzzing, test))]
pub mod fuzzing;
mod index;
pub mod store;
mod tar;
#[cfg(test)]
mod testutil;
