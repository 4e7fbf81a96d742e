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

/// Defines `kind` and `error`, which turn [`store::Kind`] and [`store::Error`] into the
/// `Kind` and `Error` of the calling driver's `ukc:kv/ro` bindings (in scope where it is
/// called): every driver generates its own types of the same shape.
#[macro_export]
macro_rules! ro_conversions {
    () => {
        fn kind(kind: $crate::store::Kind) -> Kind {
            match kind {
                $crate::store::Kind::Value => Kind::Value,
                $crate::store::Kind::Dictionary => Kind::Dictionary,
            }
        }

        fn error(error: $crate::store::Error) -> Error {
            match error {
                $crate::store::Error::NotFound(key) => Error::NotFound(key),
                $crate::store::Error::DictionaryExpected(key) => Error::DictionaryExpected(key),
                $crate::store::Error::ValueExpected(key) => Error::ValueExpected(key),
                $crate::store::Error::InvalidKey(key) => Error::InvalidKey(key),
                $crate::store::Error::Io(message) => Error::Io(message),
            }
        }
    };
}
