//! Certificates for the TLS tests, made with `openssl`: CAs, and server certificates they
//! sign, valid now or only in the past.

use crate::{path_str, run};
use std::path::{Path, PathBuf};

const EC: [&str; 5] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/// When a certificate is valid.
#[derive(Clone, Copy)]
pub enum Validity {
    /// From now, for 30 days.
    Now,
    /// January 2020 only: expired.
    January2020,
}

/// A self-signed CA, `dir/NAME.pem`, its key `dir/NAME.key`; returns the certificate.
pub fn ca(dir: &Path, name: &str) -> PathBuf {
    let (key, pem) = (dir.join(format!("{name}.key")), dir.join(format!("{name}.pem")));
    let subject = format!("/CN={name}");
    let mut args =
        vec!["req", "-x509", "-days", "30", "-subj", &subject, "-keyout", path_str(&key), "-out", path_str(&pem)];
    args.extend(EC);
    run("openssl", &args).ok();
    pem
}

/// A certificate and key signed by the CA `dir/CA.pem`, for `alt_names` (a
/// subjectAltName value: `DNS:localhost,IP:127.0.0.1`), as `dir/NAME.pem` and
/// `dir/NAME.key`. Dates in the past need `openssl ca`: OpenSSL 3.0's `x509 -req` cannot.
pub fn certificate(dir: &Path, ca: &str, name: &str, alt_names: &str, validity: Validity) -> (PathBuf, PathBuf) {
    let file = |ext: &str| dir.join(format!("{name}.{ext}"));
    let (key, csr, cert, ext) = (file("key"), file("csr"), file("pem"), file("ext"));
    let mut request = vec!["req", "-subj", "/CN=ukc test server", "-keyout", path_str(&key), "-out", path_str(&csr)];
    request.extend(EC);
    run("openssl", &request).ok();
    std::fs::write(&ext, format!("subjectAltName={alt_names}\n")).unwrap();
    let (ca_pem, ca_key) = (dir.join(format!("{ca}.pem")), dir.join(format!("{ca}.key")));
    let signed = [path_str(&csr), path_str(&cert), path_str(&ext), path_str(&ca_pem), path_str(&ca_key)];
    let [csr, cert, ext, ca_pem, ca_key] = signed;
    match validity {
        Validity::Now => {
            let args = ["x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-CAcreateserial"];
            run("openssl", &[&args[..], &["-days", "30", "-out", cert, "-extfile", ext]].concat()).ok();
        }
        Validity::January2020 => {
            let db = dir.join(format!("{name}-ca-db"));
            std::fs::create_dir_all(&db).unwrap();
            std::fs::write(db.join("index.txt"), "").unwrap();
            std::fs::write(db.join("serial"), "1000\n").unwrap();
            let config = db.join("ca.cnf");
            let d = path_str(&db);
            let text = format!(
                "[ca]\ndefault_ca = test\n[test]\ndatabase = {d}/index.txt\nnew_certs_dir = {d}\n\
                 serial = {d}/serial\ndefault_md = sha256\npolicy = any\n[any]\ncommonName = supplied\n"
            );
            std::fs::write(&config, text).unwrap();
            let args = ["ca", "-batch", "-notext", "-config", path_str(&config), "-cert", ca_pem, "-keyfile", ca_key];
            let dates = ["-startdate", "20200101000000Z", "-enddate", "20200201000000Z"];
            run("openssl", &[&args[..], &dates[..], &["-in", csr, "-out", cert, "-extfile", ext]].concat()).ok();
        }
    }
    (PathBuf::from(cert), PathBuf::from(key.as_path()))
}
