//! The reading of a certificate's validity period, for `fuzz/` (built with `--cfg
//! fuzzing`, as cargo-fuzz does, and for the test suite's smoke of it): a hand-written DER
//! walk over whatever `cert.pem` holds.

use crate::validity::{format, period};

/// Reads the validity period of `der` as if it were a certificate. Nothing panics, and a
/// period read is two dates of years 0 to 9999 (what the two DER time forms can say) that
/// print as such.
pub fn certificate(der: &[u8]) {
    if let Some((not_before, not_after)) = period(der) {
        for seconds in [not_before, not_after] {
            // 0000-01-01 and the end of 9999, in seconds since the epoch.
            assert!((-62_167_219_200..=253_402_300_799).contains(&seconds), "{seconds}");
            let text = format(seconds);
            assert_eq!(text.len(), "1970-01-01 00:00:00 UTC".len(), "{text}");
        }
    }
}

/// The smoke the test suite runs of what the fuzz target runs.
#[cfg(test)]
mod tests {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    #[test]
    fn real_cut_and_damaged_certificates_read_or_fail_cleanly() {
        let pem = crate::validity::tests::JANUARY_2020.as_bytes();
        let der = CertificateDer::from_pem_slice(pem).unwrap().to_vec();
        for cut in 0..=der.len() {
            super::certificate(&der[..cut]);
        }
        for at in 0..der.len() {
            let mut damaged = der.clone();
            damaged[at] ^= 0xff;
            super::certificate(&damaged);
        }
        super::certificate(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]);
        super::certificate(&[0x30, 0x80]);
    }
}
