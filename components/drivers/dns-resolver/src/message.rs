//! Queries and what their answers say: pure functions of bytes, tested on the host.

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use std::net::Ipv4Addr;

/// CNAMEs followed within one answer, at most.
const MAX_CHAIN: usize = 8;

/// What one answer says about the name asked.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The name's addresses.
    Addresses(Vec<Ipv4Addr>),
    /// The name does not exist.
    NotFound,
    /// The name has no IPv4 address.
    NoAddress,
    /// The answer was cut to fit UDP: ask again over TCP.
    Truncated,
    /// The server refused or failed; the text says how.
    Server(String),
    /// Not an answer to this query (another ID or question, or not a response): keep
    /// waiting for the real one.
    Unrelated,
}

/// Reads a name as a user writes it; a name without a final `.` is taken as absolute.
pub fn name(text: &str) -> Result<Name, String> {
    if text.is_empty() || text.len() > 253 {
        return Err(format!("{text:?} is not a domain name (1 to 253 characters)"));
    }
    let mut name = Name::from_ascii(text).map_err(|e| format!("{text:?} is not a domain name: {e}"))?;
    name.set_fqdn(true);
    Ok(name)
}

/// The query for `name`'s A records, with ID `id`, recursion desired.
pub fn query(id: u16, name: &Name) -> Vec<u8> {
    let mut message = Message::new(id, MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(name.clone(), RecordType::A));
    message.to_vec().expect("a query of one valid name encodes")
}

/// What `bytes` say, as an answer to query `id` for `name`.
pub fn outcome(id: u16, name: &Name, bytes: &[u8]) -> Outcome {
    let Ok(message) = Message::from_vec(bytes) else { return Outcome::Unrelated };
    let meta = &message.metadata;
    let asked = message.queries.first().is_some_and(|q| q.name() == name && q.query_type() == RecordType::A);
    if meta.id != id || meta.message_type != MessageType::Response || !asked {
        return Outcome::Unrelated;
    }
    if meta.truncation {
        return Outcome::Truncated;
    }
    match meta.response_code {
        ResponseCode::NoError => {}
        ResponseCode::NXDomain => return Outcome::NotFound,
        code => return Outcome::Server(format!("the server answered {code}")),
    }
    let mut current = name.clone();
    for _ in 0..=MAX_CHAIN {
        let owned = message.answers.iter().filter(|r| r.name == current);
        let addresses: Vec<Ipv4Addr> =
            owned.clone().filter_map(|r| if let RData::A(a) = &r.data { Some(a.0) } else { None }).collect();
        if !addresses.is_empty() {
            return Outcome::Addresses(addresses);
        }
        match owned.filter_map(|r| if let RData::CNAME(c) = &r.data { Some(c.0.clone()) } else { None }).next() {
            Some(target) => current = target,
            None => return Outcome::NoAddress,
        }
    }
    Outcome::Server(format!("a chain of more than {MAX_CHAIN} CNAMEs"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::Record;
    use hickory_proto::rr::rdata::{A, CNAME};

    fn answer(id: u16, asked: &str, code: ResponseCode, records: Vec<Record>) -> Vec<u8> {
        let mut message = Message::new(id, MessageType::Response, OpCode::Query);
        message.metadata.response_code = code;
        message.add_query(Query::query(name(asked).unwrap(), RecordType::A));
        message.add_answers(records);
        message.to_vec().unwrap()
    }

    fn a(owner: &str, address: [u8; 4]) -> Record {
        Record::from_rdata(name(owner).unwrap(), 60, RData::A(A(Ipv4Addr::from(address))))
    }

    #[test]
    fn reads_addresses_through_cnames() {
        let www = name("www.example.test").unwrap();
        let cname = Record::from_rdata(www.clone(), 60, RData::CNAME(CNAME(name("mail.example.test").unwrap())));
        let bytes =
            answer(7, "www.example.test.", ResponseCode::NoError, vec![cname, a("mail.example.test", [10, 0, 0, 3])]);
        assert_eq!(outcome(7, &www, &bytes), Outcome::Addresses(vec![Ipv4Addr::new(10, 0, 0, 3)]));
    }

    #[test]
    fn says_why_there_is_no_address() {
        let n = name("x.example.test").unwrap();
        assert_eq!(outcome(1, &n, &answer(1, "x.example.test", ResponseCode::NXDomain, vec![])), Outcome::NotFound);
        assert_eq!(outcome(1, &n, &answer(1, "x.example.test", ResponseCode::NoError, vec![])), Outcome::NoAddress);
        let refused = outcome(1, &n, &answer(1, "x.example.test", ResponseCode::Refused, vec![]));
        assert!(matches!(refused, Outcome::Server(text) if text.contains("Refused")), "REFUSED");
    }

    #[test]
    fn ignores_what_answers_another_query() {
        let n = name("x.example.test").unwrap();
        let other_id = answer(2, "x.example.test", ResponseCode::NoError, vec![a("x.example.test", [1, 2, 3, 4])]);
        assert_eq!(outcome(1, &n, &other_id), Outcome::Unrelated);
        let other_name = answer(1, "y.example.test", ResponseCode::NoError, vec![a("y.example.test", [1, 2, 3, 4])]);
        assert_eq!(outcome(1, &n, &other_name), Outcome::Unrelated);
        assert_eq!(outcome(1, &n, &query(1, &n)), Outcome::Unrelated, "a query is no answer");
        assert_eq!(outcome(1, &n, b"\x00\x01garbage"), Outcome::Unrelated);
    }

    #[test]
    fn refuses_what_is_no_name() {
        assert!(name("").is_err() && name(&"a".repeat(300)).is_err() && name("a..b").is_err());
        assert_eq!(name("Example.Test").unwrap().to_string(), "Example.Test.");
    }
}
