//! When a certificate may be used: its validity period (RFC 5280 section 4.1.2.5), read
//! from its DER. rustls checks the peer's certificates, never the server's own; this lets
//! the server refuse, in one line, an identity every client would refuse.

/// The certificate's `notBefore` and `notAfter`, in seconds since the Unix epoch; `None`
/// when `der` is not a DER X.509 certificate.
pub fn period(der: &[u8]) -> Option<(i64, i64)> {
    let (certificate, _) = element(der, SEQUENCE)?;
    let (tbs, _) = element(certificate, SEQUENCE)?;
    let mut rest = tbs;
    if rest.first() == Some(&VERSION) {
        rest = element(rest, VERSION)?.1;
    }
    // serialNumber, signature, issuer
    for tag in [INTEGER, SEQUENCE, SEQUENCE] {
        rest = element(rest, tag)?.1;
    }
    let (validity, _) = element(rest, SEQUENCE)?;
    let (not_before, rest) = time(validity)?;
    let (not_after, _) = time(rest)?;
    Some((not_before, not_after))
}

/// `seconds` since the epoch as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn format(seconds: i64) -> String {
    let (days, second) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil(days);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC", second / 3600, second / 60 % 60, second % 60)
}

const INTEGER: u8 = 0x02;
const SEQUENCE: u8 = 0x30;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
/// `[0] EXPLICIT Version`.
const VERSION: u8 = 0xa0;

/// The contents of the DER element at the start of `input` if its tag is `tag`, and what
/// follows it.
fn element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&first, rest) = input.split_first()?;
    if first != tag {
        return None;
    }
    let (&length, mut rest) = rest.split_first()?;
    let length = if length < 0x80 {
        usize::from(length)
    } else {
        let count = usize::from(length & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, after) = rest.split_at(count);
        rest = after;
        bytes.iter().fold(0usize, |n, &b| n << 8 | usize::from(b))
    };
    (rest.len() >= length).then(|| rest.split_at(length))
}

/// A UTCTime (`YYMMDDHHMMSSZ`, years 1950–2049) or GeneralizedTime (`YYYYMMDDHHMMSSZ`) at
/// the start of `input`, in seconds since the epoch, and what follows it.
fn time(input: &[u8]) -> Option<(i64, &[u8])> {
    let (text, rest, year) = if let Some((text, rest)) = element(input, UTC_TIME) {
        let yy = digits(text.get(..2)?)?;
        (text.get(2..)?, rest, if yy >= 50 { 1900 + yy } else { 2000 + yy })
    } else {
        let (text, rest) = element(input, GENERALIZED_TIME)?;
        (text.get(4..)?, rest, digits(text.get(..4)?)?)
    };
    if text.len() != 11 || text[10] != b'Z' {
        return None;
    }
    let field = |at: usize| digits(&text[at..at + 2]);
    let (month, day, hour, minute, second) = (field(0)?, field(2)?, field(4)?, field(6)?, field(8)?);
    if !(1..=12).contains(&month) || day < 1 || day > month_days(year, month) || hour > 23 || minute > 59 || second > 59
    {
        return None;
    }
    let seconds = days(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    Some((seconds, rest))
}

/// The days of `month` in `year`, in the Gregorian calendar.
fn month_days(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn digits(text: &[u8]) -> Option<i64> {
    text.iter().try_fold(0i64, |n, &b| b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0')))
}

/// Days from 1970-01-01 to the date (the proleptic Gregorian calendar).
fn days(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date `days` after 1970-01-01.
fn civil(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::{format, period};
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    /// Made with `openssl ca -startdate 20200101000000Z -enddate 20200201000000Z`.
    pub(crate) const JANUARY_2020: &str = "-----BEGIN CERTIFICATE-----
MIIBdDCCARugAwIBAgICEAAwCgYIKoZIzj0EAwIwEjEQMA4GA1UEAwwHdGVzdCBD
QTAeFw0yMDAxMDEwMDAwMDBaFw0yMDAyMDEwMDAwMDBaMA4xDDAKBgNVBAMMA3d3
dzBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABHxJGaLo/3eM8CASzID0m7//AHHs
1JQMvpMeMoWudu5D6k6xbjQjW8dGDcuJxvz3RxdGd9VktuDBaVWE00ZBrjmjZTBj
MCEGA1UdEQQaMBiCEHd3dy5leGFtcGxlLnRlc3SHBH8AAAEwHQYDVR0OBBYEFPg0
D+cwpofvssdJ+leOpzBXkiVsMB8GA1UdIwQYMBaAFKQd+tm7RXIokwOaNwnvoSKq
bNLaMAoGCCqGSM49BAMCA0cAMEQCIBatK/wx5labhuXfa+xxen/6jL+2yjB5FYur
fDRj3XWnAiAqRSxv9tN6GizWjpISFmbdGm61nO0ZtsadE9S0fG45yQ==
-----END CERTIFICATE-----";

    /// From 2049-12-31 23:59:59 (the last UTCTime year) to 2060-02-29 12:00:00 (a
    /// GeneralizedTime, on a leap day).
    const UNTIL_2060: &str = "-----BEGIN CERTIFICATE-----
MIIBdjCCAR2gAwIBAgICEAEwCgYIKoZIzj0EAwIwEjEQMA4GA1UEAwwHdGVzdCBD
QTAgFw00OTEyMzEyMzU5NTlaGA8yMDYwMDIyOTEyMDAwMFowDjEMMAoGA1UEAwwD
d3d3MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEfEkZouj/d4zwIBLMgPSbv/8A
cezUlAy+kx4yha527kPqTrFuNCNbx0YNy4nG/PdHF0Z31WS24MFpVYTTRkGuOaNl
MGMwIQYDVR0RBBowGIIQd3d3LmV4YW1wbGUudGVzdIcEfwAAATAdBgNVHQ4EFgQU
+DQP5zCmh++yx0n6V46nMFeSJWwwHwYDVR0jBBgwFoAUpB362btFciiTA5o3Ce+h
Iqps0towCgYIKoZIzj0EAwIDRwAwRAIgEbUIwnN+uCeEbKuFf2NtSdEqn8qspmmu
xes9V7x5kCwCICFpjiIB3/laFkFgMwq71dMIKuzpYTUZdpMiEfB70OKO
-----END CERTIFICATE-----";

    fn der(pem: &str) -> Vec<u8> {
        CertificateDer::from_pem_slice(pem.as_bytes()).unwrap().to_vec()
    }

    #[test]
    fn validity_periods_are_read_in_both_time_forms() {
        assert_eq!(period(&der(JANUARY_2020)), Some((1_577_836_800, 1_580_515_200)));
        assert_eq!(period(&der(UNTIL_2060)), Some((2_524_607_999, 2_845_281_600)));
        assert_eq!(format(1_580_515_200), "2020-02-01 00:00:00 UTC");
        assert_eq!(format(2_845_281_600), "2060-02-29 12:00:00 UTC");
        assert_eq!(format(0), "1970-01-01 00:00:00 UTC");
    }

    #[test]
    fn what_is_not_a_certificate_has_no_period() {
        let good = der(JANUARY_2020);
        for cut in [0, 1, 2, 10, 40, 60] {
            assert_eq!(period(&good[..cut]), None, "cut at {cut}");
        }
        assert_eq!(period(b"not a certificate"), None);
        let mut month_13 = good.clone();
        let at = good.windows(4).position(|w| w == b"2001").unwrap(); // 200101000000Z
        month_13[at + 2..at + 4].copy_from_slice(b"13");
        assert_eq!(period(&month_13), None);
        let mut february_31 = good.clone();
        february_31[at + 2..at + 6].copy_from_slice(b"0231");
        assert_eq!(period(&february_31), None);
    }
}
