//! The one kind of URL this example fetches: `https://HOST[:PORT][/PATH]`.

/// An `https://` URL taken apart.
#[derive(Debug, PartialEq, Eq)]
pub struct Url {
    /// A DNS name or a dotted IPv4 address.
    pub host: String,
    pub port: u16,
    /// The path and query, from the first `/` (`/` when the URL has none).
    pub path: String,
}

impl Url {
    /// Parses `text`, or says in one line what is wrong with it.
    pub fn parse(text: &str) -> Result<Url, String> {
        let rest = match text.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => rest,
            Some((scheme, _)) => return Err(format!("'{text}': only https:// URLs are fetched, not {scheme}://")),
            None => return Err(format!("'{text}' is not a URL: give https://NAME[:PORT][/PATH]")),
        };
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(at) if rest[at..].starts_with('/') => (&rest[..at], rest[at..].to_string()),
            Some(at) => (&rest[..at], format!("/{}", &rest[at..])),
            None => (rest, "/".to_string()),
        };
        let path = path.split('#').next().unwrap_or("/").to_string();
        if authority.contains('@') {
            return Err(format!("'{text}': user names and passwords in URLs are not supported"));
        }
        if authority.starts_with('[') {
            return Err(format!("'{text}': IPv6 addresses are not supported; give a DNS name or an IPv4 address"));
        }
        let (host, port) = match authority.rsplit_once(':') {
            // An empty port is the default one (RFC 3986 section 6.2.3).
            Some((host, "")) => (host, 443),
            Some((host, port)) => {
                let port = port.parse::<u16>().ok().filter(|&p| p != 0 && !port.starts_with('+'));
                (host, port.ok_or_else(|| format!("'{text}': the port must be between 1 and 65535"))?)
            }
            None => (authority, 443),
        };
        if host.is_empty() {
            return Err(format!("'{text}': give a DNS name or an IPv4 address as the host"));
        }
        if path.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(format!("'{text}': the path holds spaces or control characters; percent-encode them"));
        }
        Ok(Url { host: host.to_ascii_lowercase(), port, path })
    }

    /// The host as an IPv4 address, when it is one.
    pub fn ipv4(&self) -> Option<(u8, u8, u8, u8)> {
        let parts: Vec<u8> = self.host.split('.').map(|p| p.parse().ok()).collect::<Option<_>>()?;
        match parts[..] {
            [a, b, c, d] => Some((a, b, c, d)),
            _ => None,
        }
    }

    /// The `Host` header's value: the port only when it is not 443.
    pub fn host_header(&self) -> String {
        if self.port == 443 { self.host.clone() } else { format!("{}:{}", self.host, self.port) }
    }
}

#[cfg(test)]
mod tests {
    use super::Url;

    #[test]
    fn urls_are_taken_apart() {
        let url = Url::parse("https://WWW.Example.test:8443/a/b.html?x=1#top").unwrap();
        assert_eq!(url, Url { host: "www.example.test".into(), port: 8443, path: "/a/b.html?x=1".into() });
        assert_eq!(url.host_header(), "www.example.test:8443");
        let url = Url::parse("https://10.0.0.1").unwrap();
        assert_eq!((url.port, url.path.as_str(), url.ipv4()), (443, "/", Some((10, 0, 0, 1))));
        assert_eq!(url.host_header(), "10.0.0.1");
        assert_eq!(Url::parse("https://a.test?q").unwrap().path, "/?q");
        assert_eq!(
            Url::parse("https://a.test#top").unwrap(),
            Url { host: "a.test".into(), port: 443, path: "/".into() }
        );
        assert_eq!(Url::parse("https://a.test:/x").unwrap().port, 443);
        assert_eq!(Url::parse("https://a.test").unwrap().ipv4(), None);
    }

    #[test]
    fn other_urls_are_refused_with_the_reason() {
        for (text, why) in [
            ("http://a.test/", "only https://"),
            ("a.test/x", "not a URL"),
            ("https://a.test:0/", "port"),
            ("https://a.test:+443/", "port"),
            ("https://a.test:99999/", "port"),
            ("https://u:p@a.test/", "passwords"),
            ("https:///x", "host"),
            ("https://[::1]/", "IPv6"),
            ("https://a.test/a b", "percent-encode"),
        ] {
            let error = Url::parse(text).unwrap_err();
            assert!(error.contains(why), "{text}: {error}");
        }
    }
}
