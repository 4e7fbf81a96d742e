//! Points `wit_bindgen::generate!` at the WASI WIT the wasip2 crate ships (never a copy).

fn main() {
    ukc_wasi_wit::export_to_rustc();
}
