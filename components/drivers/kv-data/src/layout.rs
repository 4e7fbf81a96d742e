//! The image's header (`ukc:kv/image`): `ukc-kv-image 1`, then `NAME OFFSET SIZE` per
//! store, ended by an empty line.

/// Bytes read for the header, at most: room for hundreds of stores.
pub const MAX_HEADER: u32 = 64 * 1024;

/// The stores the header lists: name, offset and size of each archive.
pub fn stores(header: &[u8]) -> Result<Vec<(String, u64, u64)>, String> {
    let bad = |why: &str| format!("the baked image's header is malformed: {why}");
    let end = header.windows(2).position(|w| w == b"\n\n").ok_or_else(|| bad("it has no end"))?;
    let text = std::str::from_utf8(&header[..end]).map_err(|_| bad("it is not text"))?;
    let mut lines = text.lines();
    if lines.next() != Some("ukc-kv-image 1") {
        return Err(bad("it does not start with `ukc-kv-image 1`"));
    }
    lines
        .map(|line| {
            let mut words = line.split(' ');
            let (name, offset, size) = (words.next(), words.next(), words.next());
            let number = |w: Option<&str>| w.and_then(|w| w.parse::<u64>().ok());
            match (name, number(offset), number(size), words.next()) {
                (Some(name), Some(offset), Some(size), None) if !name.is_empty() && offset % 512 == 0 => {
                    Ok((name.to_string(), offset, size))
                }
                _ => Err(bad(&format!("the line {line:?}"))),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::stores;

    #[test]
    fn headers_list_their_stores() {
        let header = b"ukc-kv-image 1\nstorage 1024 10240\ntls 11264 2048\n\n\0\0\0";
        assert_eq!(
            stores(header).unwrap(),
            vec![("storage".to_string(), 1024, 10240), ("tls".to_string(), 11264, 2048)]
        );
        assert_eq!(stores(b"ukc-kv-image 1\n\n").unwrap(), vec![]);
    }

    #[test]
    fn malformed_headers_are_refused() {
        for header in [
            &b"ukc-kv-image 2\n\n"[..],
            b"ukc-kv-image 1\nx 1 2\n\n",
            b"ukc-kv-image 1\nx 512\n\n",
            b"ukc-kv-image 1\n",
        ] {
            assert!(stores(header).is_err(), "{}", String::from_utf8_lossy(header));
        }
    }
}
