//! The `wasi-random` driver: `ukc:entropy` on `wasi:random/random`, the WASI host's
//! cryptographically secure generator. A driver of its own so that unikernels that use
//! no entropy do not import `wasi:random`.

wit_bindgen::generate!({
    inline: "
        package ukc-driver:wasi-random;
        world wasi-random {
            export ukc:entropy/entropy@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

/// The most `fill` returns at once, as `ukc:entropy` documents.
const FILL_LIMIT: u32 = 65536;

struct Random;

impl exports::ukc::entropy::entropy::Guest for Random {
    fn fill(len: u32) -> Vec<u8> {
        wasip2::random::random::get_random_bytes(u64::from(len.min(FILL_LIMIT)))
    }
}

export!(Random);
