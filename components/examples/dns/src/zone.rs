//! The zone file: an RFC 1035 master file (section 5) with the records this server
//! answers: A, AAAA, CNAME, MX, TXT, NS and SOA, `$ORIGIN` and `$TTL`, `@`, relative
//! names, an owner left blank for the previous one, parentheses across lines, quoted
//! strings and `;` comments. Every error names its line.

use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, NS, SOA, TXT};
use hickory_proto::rr::{LowerName, Name, RData, Record, RecordType};
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The largest zone file read, in bytes.
pub const MAX_ZONE: u64 = 4 << 20;

/// One zone: its origin, its SOA and its records by owner.
#[derive(Debug)]
pub struct Zone {
    /// The zone's apex.
    pub origin: Name,
    /// The SOA record at the apex.
    pub soa: Record,
    /// The apex, lowercased once for the comparisons every query makes.
    apex: LowerName,
    records: BTreeMap<LowerName, Vec<Record>>,
}

impl Zone {
    /// Parses a zone file. `origin` is the zone's name when the file sets no `$ORIGIN`
    /// before its first relative name.
    pub fn parse(text: &str) -> Result<Zone, String> {
        let mut parser =
            Parser { apex: None, origin: None, ttl: None, owner: None, records: BTreeMap::new(), soa: None };
        for (line, fields) in logical_lines(text)? {
            parser.line(&fields).map_err(|e| format!("line {line}: {e}"))?;
        }
        let origin = parser.apex.ok_or("the zone file has no records")?;
        let soa = parser.soa.ok_or_else(|| format!("the zone has no SOA record at its origin {origin}"))?;
        if !parser
            .records
            .get(&LowerName::new(&origin))
            .is_some_and(|r| r.iter().any(|r| r.record_type() == RecordType::NS))
        {
            return Err(format!("the zone has no NS record at its origin {origin}"));
        }
        Ok(Zone { apex: LowerName::new(&origin), origin, soa, records: parser.records })
    }

    /// Whether `name` is the apex or below it: a name this server answers for.
    pub fn holds(&self, name: &LowerName) -> bool {
        self.apex.zone_of(name)
    }

    /// The records owned by `name`.
    pub fn records(&self, name: &LowerName) -> &[Record] {
        self.records.get(name).map_or(&[], Vec::as_slice)
    }

    /// Whether `name` exists in the zone: it owns records, or names below it do (an
    /// empty non-terminal, RFC 8020).
    pub fn exists(&self, name: &LowerName) -> bool {
        // Names sort in DNS canonical order (RFC 4034 section 6.1), where the names below
        // `name` come right after it: the first owner from `name` on tells.
        self.records.range(name.clone()..).next().is_some_and(|(owner, _)| name.zone_of(owner))
    }

    /// How many records the zone holds.
    pub fn len(&self) -> usize {
        self.records.values().map(Vec::len).sum()
    }

    /// Whether the zone holds no records (never, once parsed: it has its SOA).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

struct Parser {
    /// The zone's apex: the first origin, set by `$ORIGIN` or by the first absolute name.
    apex: Option<Name>,
    /// Where relative names are rooted now (`$ORIGIN` may move it within the zone).
    origin: Option<Name>,
    ttl: Option<u32>,
    owner: Option<Name>,
    records: BTreeMap<LowerName, Vec<Record>>,
    soa: Option<Record>,
}

/// A field of a line, and whether it was quoted.
#[derive(Debug)]
struct Field {
    text: String,
    quoted: bool,
    /// Whether it began the physical line (an owner name), or came after blanks.
    first: bool,
}

impl Parser {
    fn line(&mut self, fields: &[Field]) -> Result<(), String> {
        let Some(head) = fields.first() else { return Ok(()) };
        match head.text.as_str() {
            "$ORIGIN" if !head.quoted => {
                let [_, name] = fields else { return Err("$ORIGIN takes one name".into()) };
                let name = Name::from_ascii(&name.text).map_err(|e| format!("$ORIGIN {}: {e}", name.text))?;
                if !name.is_fqdn() {
                    return Err("$ORIGIN needs an absolute name, ending with '.'".into());
                }
                self.set_origin(name)
            }
            "$TTL" if !head.quoted => {
                let [_, ttl] = fields else { return Err("$TTL takes one time".into()) };
                self.ttl = Some(ttl_of(&ttl.text)?);
                Ok(())
            }
            "$INCLUDE" | "$GENERATE" if !head.quoted => Err(format!("{} is not supported", head.text)),
            _ => self.record(fields),
        }
    }

    fn set_origin(&mut self, name: Name) -> Result<(), String> {
        match &self.apex {
            Some(apex) if !apex.zone_of(&name) => {
                Err(format!("$ORIGIN {name} is outside the zone {apex}; one file holds one zone"))
            }
            Some(_) => {
                self.origin = Some(name);
                Ok(())
            }
            None => {
                self.apex = Some(name.clone());
                self.origin = Some(name);
                Ok(())
            }
        }
    }

    fn record(&mut self, fields: &[Field]) -> Result<(), String> {
        let mut rest = fields;
        let owner = if fields[0].first {
            rest = &fields[1..];
            let owner = self.name(&fields[0].text)?;
            self.owner = Some(owner.clone());
            owner
        } else {
            self.owner.clone().ok_or("the first record needs an owner name")?
        };
        let mut ttl = None;
        let mut kind = None;
        while let Some(field) = rest.first() {
            let upper = field.text.to_ascii_uppercase();
            if upper == "IN" {
            } else if upper == "CH" || upper == "HS" || upper == "CS" {
                return Err(format!("class {upper}: only IN is served"));
            } else if field.text.starts_with(|c: char| c.is_ascii_digit()) && ttl.is_none() {
                ttl = Some(ttl_of(&field.text)?);
            } else {
                kind = Some(upper);
                rest = &rest[1..];
                break;
            }
            rest = &rest[1..];
        }
        let kind = kind.ok_or("no record type")?;
        let data = self.rdata(&kind, rest)?;
        let ttl = match (ttl, self.ttl, &data) {
            (Some(ttl), _, _) => ttl,
            (None, Some(ttl), _) => ttl,
            // RFC 2308: without $TTL, the SOA's minimum is the default.
            (None, None, RData::SOA(soa)) => soa.minimum,
            (None, None, _) => match &self.soa {
                Some(soa) => soa.ttl,
                None => return Err("no TTL: give one, or a $TTL line before the first record".into()),
            },
        };
        let apex = self.apex.clone().expect("a name was read, so the apex is set");
        if !apex.zone_of(&owner) {
            return Err(format!("{owner} is outside the zone {apex}"));
        }
        if matches!(data, RData::SOA(_)) && (owner != apex || self.soa.is_some()) {
            return Err("one SOA record, at the zone's origin".into());
        }
        let record = Record::from_rdata(owner.clone(), ttl, data);
        if let RData::SOA(_) = record.data {
            self.soa = Some(record.clone());
        }
        let owned = self.records.entry(LowerName::new(&owner)).or_default();
        let cname = |r: &Record| r.record_type() == RecordType::CNAME;
        if (cname(&record) && !owned.is_empty()) || owned.iter().any(cname) {
            return Err(format!("{owner} has a CNAME and other records; a CNAME must stand alone (RFC 1034)"));
        }
        if !owned.contains(&record) {
            owned.push(record);
        }
        Ok(())
    }

    /// A name as the file writes it: `@`, absolute, or relative to the origin. The first
    /// name read sets the origin when `$ORIGIN` has not.
    fn name(&mut self, text: &str) -> Result<Name, String> {
        if text == "@" {
            return self.origin.clone().ok_or_else(|| "@ before any $ORIGIN".to_string());
        }
        let name = Name::from_ascii(text).map_err(|e| format!("{text:?} is not a domain name: {e}"))?;
        if name.is_fqdn() {
            if self.origin.is_none() {
                self.apex = Some(name.clone());
                self.origin = Some(name.clone());
            }
            return Ok(name);
        }
        let origin = self.origin.as_ref().ok_or_else(|| format!("{text}: a relative name before any $ORIGIN"))?;
        name.append_domain(origin).map_err(|e| format!("{text}: {e}"))
    }

    fn rdata(&mut self, kind: &str, fields: &[Field]) -> Result<RData, String> {
        let texts: Vec<&str> = fields.iter().map(|f| f.text.as_str()).collect();
        let count = |n: usize| {
            if texts.len() == n { Ok(()) } else { Err(format!("{kind} takes {n} fields, not {}", texts.len())) }
        };
        Ok(match kind {
            "A" => {
                count(1)?;
                RData::A(A(texts[0]
                    .parse::<Ipv4Addr>()
                    .map_err(|_| format!("{:?} is not an IPv4 address", texts[0]))?))
            }
            "AAAA" => {
                count(1)?;
                let address =
                    texts[0].parse::<Ipv6Addr>().map_err(|_| format!("{:?} is not an IPv6 address", texts[0]))?;
                RData::AAAA(AAAA(address))
            }
            "CNAME" => {
                count(1)?;
                RData::CNAME(CNAME(self.name(texts[0])?))
            }
            "NS" => {
                count(1)?;
                RData::NS(NS(self.name(texts[0])?))
            }
            "MX" => {
                count(2)?;
                let preference =
                    texts[0].parse().map_err(|_| format!("MX preference {:?} is not 0 to 65535", texts[0]))?;
                RData::MX(MX::new(preference, self.name(texts[1])?))
            }
            "TXT" => {
                if texts.is_empty() {
                    return Err("TXT needs at least one string".into());
                }
                let strings = texts.iter().map(|t| unescape(t)).collect::<Result<Vec<_>, _>>()?;
                if let Some(long) = strings.iter().find(|t| t.len() > 255) {
                    return Err(format!("a TXT string is at most 255 bytes, not {}", long.len()));
                }
                RData::TXT(TXT::from_bytes(strings.iter().map(Vec::as_slice).collect()))
            }
            "SOA" => {
                count(7)?;
                let number = |i: usize| ttl_of(texts[i]).map_err(|e| format!("SOA field {}: {e}", i + 1));
                let signed = |i: usize| number(i).map(|n| n.min(i32::MAX as u32) as i32);
                RData::SOA(SOA::new(
                    self.name(texts[0])?,
                    self.name(texts[1])?,
                    texts[2].parse().map_err(|_| format!("SOA serial {:?} is not 0 to 4294967295", texts[2]))?,
                    signed(3)?,
                    signed(4)?,
                    signed(5)?,
                    number(6)?,
                ))
            }
            other => return Err(format!("record type {other} is not served (A, AAAA, CNAME, MX, NS, SOA, TXT)")),
        })
    }
}

/// A time in seconds, plain or with units (`1h30m`, `2d`, `1w`).
fn ttl_of(text: &str) -> Result<u32, String> {
    let bad = || format!("{text:?} is not a time (seconds, or a number with s, m, h, d or w)");
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().map_err(|_| bad());
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for c in text.chars() {
        match c.to_ascii_lowercase() {
            d @ '0'..='9' => {
                number = Some(number.unwrap_or(0).checked_mul(10).ok_or_else(bad)? + u64::from(d as u8 - b'0'))
            }
            unit @ ('s' | 'm' | 'h' | 'd' | 'w') => {
                let scale = match unit {
                    's' => 1,
                    'm' => 60,
                    'h' => 3600,
                    'd' => 86_400,
                    _ => 604_800,
                };
                total = total
                    .checked_add(number.take().ok_or_else(bad)?.checked_mul(scale).ok_or_else(bad)?)
                    .ok_or_else(bad)?;
            }
            _ => return Err(bad()),
        }
    }
    if number.is_some() {
        return Err(bad());
    }
    u32::try_from(total).map_err(|_| bad())
}

/// The file's logical lines (parentheses join physical ones), each with the number of the
/// line it starts on and its fields.
fn logical_lines(text: &str) -> Result<Vec<(usize, Vec<Field>)>, String> {
    let mut lines = Vec::new();
    let mut fields: Vec<Field> = Vec::new();
    let mut depth = 0usize;
    let mut start = 1;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        if depth == 0 {
            start = number;
        }
        let mut chars = raw.chars().peekable();
        let mut at_start = depth == 0;
        let mut first_field = true;
        loop {
            match chars.peek().copied() {
                None => break,
                Some(';') => break,
                Some(c) if c.is_whitespace() => {
                    chars.next();
                    at_start = false;
                }
                Some('(') => {
                    chars.next();
                    depth += 1;
                    at_start = false;
                }
                Some(')') => {
                    chars.next();
                    depth = depth.checked_sub(1).ok_or(format!("line {number}: ')' without '('"))?;
                }
                Some('"') => {
                    chars.next();
                    let mut text = String::new();
                    loop {
                        match chars.next() {
                            None => return Err(format!("line {number}: a quoted string does not end")),
                            Some('"') => break,
                            Some('\\') => {
                                text.push('\\');
                                text.push(chars.next().ok_or(format!("line {number}: a line ends in '\\'"))?);
                            }
                            Some(c) => text.push(c),
                        }
                    }
                    fields.push(Field { text, quoted: true, first: at_start && first_field });
                    first_field = false;
                    at_start = false;
                }
                Some(_) => {
                    let mut text = String::new();
                    while let Some(&c) = chars.peek() {
                        if c.is_whitespace() || matches!(c, ';' | '(' | ')' | '"') {
                            break;
                        }
                        chars.next();
                        text.push(c);
                        // An escaped character never ends the field; escapes are kept as
                        // written, for names (hickory reads `\.`, `\DDD`) and TXT (unescape).
                        if c == '\\' {
                            text.push(chars.next().ok_or(format!("line {number}: a line ends in '\\'"))?);
                        }
                    }
                    fields.push(Field { text, quoted: false, first: at_start && first_field });
                    first_field = false;
                    at_start = false;
                }
            }
        }
        if depth == 0 && !fields.is_empty() {
            lines.push((start, std::mem::take(&mut fields)));
        }
    }
    if depth > 0 {
        return Err(format!("line {start}: '(' is never closed"));
    }
    Ok(lines)
}

/// A character string's bytes (RFC 1035 section 5.1): `\X` is X, `\DDD` the byte DDD.
fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes().iter();
    while let Some(&b) = rest.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match rest.next() {
            Some(d) if d.is_ascii_digit() => {
                let mut value = u32::from(d - b'0');
                for _ in 0..2 {
                    match rest.next() {
                        Some(d) if d.is_ascii_digit() => value = value * 10 + u32::from(d - b'0'),
                        _ => return Err("\\DDD needs three digits".into()),
                    }
                }
                bytes.push(u8::try_from(value).map_err(|_| format!("\\{value} is not a byte"))?);
            }
            Some(&c) => bytes.push(c),
            None => return Err("a string ends in '\\'".into()),
        }
    }
    Ok(bytes)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The zone the tests of this crate answer from.
    pub const EXAMPLE: &str = "\
$ORIGIN example.test.
$TTL 3600
@   IN SOA ns1 hostmaster ( 2026120601 ; serial
            1h 15m 1w 300 )
    IN NS  ns1
    IN MX  10 mail
    IN TXT \"v=spf1 -all\" \"second string\"
ns1     A    10.0.0.2
mail 60 IN A 10.0.0.3
        AAAA fd00::3
www     CNAME @
a.b.deep TXT plain
";

    #[test]
    fn reads_a_zone_as_rfc_1035_writes_it() {
        let zone = Zone::parse(EXAMPLE).unwrap();
        assert_eq!(zone.origin.to_string(), "example.test.");
        let RData::SOA(soa) = zone.soa.data.clone() else { panic!("the SOA is an SOA") };
        assert_eq!((soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum), (2026120601, 3600, 900, 604800, 300));
        assert_eq!(soa.mname.to_string(), "ns1.example.test.");
        let name = |n: &str| LowerName::new(&Name::from_ascii(n).unwrap());
        let mail = zone.records(&name("mail.example.test."));
        assert_eq!(mail.len(), 2);
        assert_eq!(mail[0].ttl, 60);
        assert_eq!(mail[1].ttl, 3600, "the owner carries over, the TTL does not");
        let apex = zone.records(&name("example.test."));
        let txt = apex.iter().find(|r| r.record_type() == RecordType::TXT).unwrap();
        let RData::TXT(strings) = &txt.data else { panic!("a TXT is a TXT") };
        assert_eq!(
            strings.txt_data.iter().map(|s| &s[..]).collect::<Vec<_>>(),
            [&b"v=spf1 -all"[..], b"second string"]
        );
        assert!(zone.exists(&name("b.deep.example.test.")), "an empty non-terminal exists");
        assert!(!zone.exists(&name("nothere.example.test.")));
        assert_eq!(zone.len(), 9);
    }

    #[test]
    fn origin_may_move_within_the_zone() {
        let text = "$ORIGIN example.test.\n$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\n$ORIGIN sub.example.test.\nwww A 10.0.0.9\n";
        let zone = Zone::parse(text).unwrap();
        assert_eq!(zone.origin.to_string(), "example.test.", "the apex stays the zone's");
        assert_eq!(zone.records(&LowerName::new(&Name::from_ascii("www.sub.example.test.").unwrap())).len(), 1);
        let outside = "$ORIGIN example.test.\n$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\n$ORIGIN other.test.\n";
        assert!(Zone::parse(outside).unwrap_err().contains("line 5: $ORIGIN other.test. is outside the zone"));
    }

    #[test]
    fn errors_name_their_line() {
        for (text, wanted) in [
            ("$TTL 60\n@ SOA a b 1 2 3 4 5\n", "line 2: @ before any $ORIGIN"),
            ("", "no records"),
            ("$ORIGIN x.\n$TTL 60\n@ SOA a b 1 2 3 4 5\n@ NS a\nwww A 300.1.1.1\n", "line 5"),
            ("$ORIGIN x.\n$TTL 60\n@ NS a\n", "no SOA"),
            ("$ORIGIN x.\n$TTL 60\n@ SOA a b 1 2 3 4 5\n", "no NS"),
            ("$ORIGIN x.\n$TTL 60\n@ SOA a b ( 1 2 3 4 5\n", "never closed"),
            ("$ORIGIN x.\n$TTL 60\n@ SOA a b 1 2 3 4 5\n@ NS a\nw CNAME a\nw A 1.2.3.4\n", "stand alone"),
            ("$ORIGIN x.\n$TTL 60\n@ SOA a b 1 2 3 4 5\n@ NS a\nother. A 1.2.3.4\n", "outside the zone"),
            ("$ORIGIN x.\n$TTL 60\n@ SOA a b 1 2 3 4 5\n@ NS a\nw SRV 1 2 3 a\n", "not served"),
            ("$ORIGIN x.\n@ 1q SOA a b 1 2 3 4 5\n", "line 2"),
        ] {
            let err = Zone::parse(text).unwrap_err();
            assert!(err.contains(wanted), "{text:?}: {err}");
        }
    }

    #[test]
    fn escapes_reach_names_and_strings_as_rfc_1035_says() {
        let text = "$ORIGIN example.test.\n$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\na\\.b TXT \"say \\\"hi\\\"\" caf\\195\\169\n";
        let zone = Zone::parse(text).unwrap();
        let owner = Name::from_ascii("a\\.b.example.test.").unwrap();
        assert_eq!(owner.num_labels(), 3, "an escaped dot stays in its label");
        let records = zone.records(&LowerName::new(&owner));
        let RData::TXT(txt) = &records[0].data else { panic!("a TXT") };
        assert_eq!(&txt.txt_data[0][..], b"say \"hi\"");
        assert_eq!(&txt.txt_data[1][..], "café".as_bytes(), "\\DDD is a byte");
        assert!(Zone::parse(&text.replace("195", "300")).unwrap_err().contains("not a byte"));
    }

    #[test]
    fn times_take_units() {
        assert_eq!(ttl_of("3600"), Ok(3600));
        assert_eq!(ttl_of("1h30m"), Ok(5400));
        assert_eq!(ttl_of("1W"), Ok(604_800));
        assert!(
            ttl_of("10x").is_err() && ttl_of("h").is_err() && ttl_of("5h3").is_err() && ttl_of("99999999999").is_err()
        );
    }
}
