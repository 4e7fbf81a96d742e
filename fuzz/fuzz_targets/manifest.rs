//! Both manifests' parsers: any bytes give a manifest that passes its own checks and
//! survives a round trip through JSON, or an error; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ukc_manifest::{ComponentManifest, UnikernelManifest};

fuzz_target!(|data: &[u8]| {
    if let Ok(manifest) = ComponentManifest::from_json(data, "fuzz") {
        let again = ComponentManifest::from_json(&manifest.to_json(), "fuzz").expect("a valid manifest round-trips");
        assert_eq!(again, manifest);
    }
    if let Ok(manifest) = UnikernelManifest::from_json(data, "fuzz") {
        let again = UnikernelManifest::from_json(&manifest.to_json(), "fuzz").expect("a valid manifest round-trips");
        assert_eq!(again, manifest);
    }
    let _ = UnikernelManifest::from_wasm(data);
});
