//! The composer's component loading and composition: any bytes as the application, loaded
//! (validated, componentized when a core module, its manifest and imports read) and, when
//! that succeeds, composed for each target and encoded; errors, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ukc::component::{Component, Origin};

fuzz_target!(|data: &[u8]| {
    let Ok(app) = Component::from_bytes(data.to_vec(), Origin::File("fuzz.wasm".into()), "fuzz") else { return };
    for target in ["unix", "hvt", "wasi"] {
        let options = ukc::Options { target: target.into(), ..Default::default() };
        if let Ok(composition) = ukc::Composition::new(app.clone(), &options) {
            let _ = composition.encode();
        }
    }
});
