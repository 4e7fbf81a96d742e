//! Answering one query from one zone, authoritatively (RFC 1034 section 4.3.2, without
//! delegation below the apex): the records of the name and type asked, a CNAME followed
//! inside the zone, NODATA and NXDOMAIN with the SOA for negative caching (RFC 2308),
//! REFUSED for names outside the zone, FORMERR for what cannot be read, NOTIMP for other
//! operations. A pure function of the zone and the query bytes.

use crate::zone::Zone;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::{DNSClass, LowerName, Name, RData, Record, RecordType};

/// The largest UDP answer without EDNS (RFC 1035).
pub const UDP_DEFAULT: usize = 512;
/// The largest UDP answer sent whatever a client's EDNS offers (RFC 9715's advice).
pub const UDP_MOST: usize = 1232;
/// CNAMEs followed for one query, at most.
const MAX_CHAIN: usize = 8;

/// How a query arrived: UDP answers must fit the client's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// Over UDP: answers larger than the client takes are truncated (TC set).
    Udp,
    /// Over TCP: any size up to 65,535 bytes.
    Tcp,
}

/// The answer to the message `query`, or `None` when no answer is due: it is not a query,
/// or too short to hold the ID an answer must carry.
pub fn answer(zone: &Zone, query: &[u8], transport: Transport) -> Option<Vec<u8>> {
    if query.len() < 12 || query[2] & 0x80 != 0 {
        return None;
    }
    let id = u16::from_be_bytes([query[0], query[1]]);
    let op_code = OpCode::from_u8((query[2] >> 3) & 0x0f);
    let request = match Message::from_vec(query) {
        Ok(message) => message,
        Err(_) => return encode(&error(id, op_code, ResponseCode::FormErr), UDP_DEFAULT, transport),
    };
    let limit = match (&request.edns, transport) {
        (_, Transport::Tcp) => usize::from(u16::MAX),
        (Some(edns), Transport::Udp) => usize::from(edns.max_payload()).clamp(UDP_DEFAULT, UDP_MOST),
        (None, Transport::Udp) => UDP_DEFAULT,
    };
    let mut response = respond(zone, &request);
    if request.edns.is_some() {
        let mut edns = Edns::new();
        edns.set_max_payload(UDP_MOST as u16);
        response.set_edns(edns);
    }
    encode(&response, limit, transport)
}

/// The response message to a well-formed message.
fn respond(zone: &Zone, request: &Message) -> Message {
    let meta = &request.metadata;
    if request.metadata.op_code != OpCode::Query {
        return error(meta.id, meta.op_code, ResponseCode::NotImp);
    }
    let [question] = request.queries.as_slice() else {
        return error(meta.id, meta.op_code, ResponseCode::FormErr);
    };
    let mut response = Message::new(meta.id, MessageType::Response, OpCode::Query);
    response.metadata.recursion_desired = meta.recursion_desired;
    response.add_query(question.clone());
    let name = LowerName::new(question.name());
    let class_served = matches!(question.query_class(), DNSClass::IN | DNSClass::ANY);
    if !class_served || !zone.holds(&name) {
        response.metadata.response_code = ResponseCode::Refused;
        return response;
    }
    let qtype = question.query_type();
    if matches!(qtype, RecordType::AXFR | RecordType::IXFR | RecordType::OPT) {
        response.metadata.response_code =
            if qtype == RecordType::OPT { ResponseCode::FormErr } else { ResponseCode::Refused };
        return response;
    }
    response.metadata.authoritative = true;
    let mut owner = name;
    for _ in 0..MAX_CHAIN {
        let records = zone.records(&owner);
        let matching: Vec<&Record> =
            records.iter().filter(|r| qtype == RecordType::ANY || r.record_type() == qtype).collect();
        if !matching.is_empty() {
            response.add_answers(matching.into_iter().cloned());
            break;
        }
        let cname = records.iter().find(|r| r.record_type() == RecordType::CNAME);
        match cname.map(|r| &r.data) {
            Some(RData::CNAME(target)) => {
                response.add_answer(cname.expect("found").clone());
                let target = LowerName::new(&target.0);
                if !zone.holds(&target) {
                    break;
                }
                owner = target;
            }
            _ => {
                if !zone.exists(&owner) {
                    response.metadata.response_code = ResponseCode::NXDomain;
                }
                response.add_authority(negative_soa(zone));
                break;
            }
        }
    }
    add_addresses(zone, &mut response);
    response
}

/// The addresses in the zone of the names MX and NS answers point to.
fn add_addresses(zone: &Zone, response: &mut Message) {
    let targets: Vec<Name> = response
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::MX(mx) => Some(mx.exchange.clone()),
            RData::NS(ns) => Some(ns.0.clone()),
            _ => None,
        })
        .collect();
    for target in targets {
        let addresses = zone
            .records(&LowerName::new(&target))
            .iter()
            .filter(|r| matches!(r.record_type(), RecordType::A | RecordType::AAAA))
            .cloned()
            .collect::<Vec<_>>();
        response.add_additionals(addresses);
    }
}

/// The SOA for a negative answer, with the TTL RFC 2308 asks: the lesser of its own and
/// its minimum.
fn negative_soa(zone: &Zone) -> Record {
    let mut soa = zone.soa.clone();
    if let RData::SOA(data) = &soa.data {
        soa.ttl = soa.ttl.min(data.minimum);
    }
    soa
}

fn error(id: u16, op_code: OpCode, code: ResponseCode) -> Message {
    Message::error_msg(id, op_code, code)
}

/// The message's bytes, truncated to `limit` with TC set when it does not fit (answers,
/// authority and additional records dropped; the question kept).
fn encode(message: &Message, limit: usize, transport: Transport) -> Option<Vec<u8>> {
    let bytes = message.to_vec().ok()?;
    if bytes.len() <= limit {
        return Some(bytes);
    }
    let mut truncated = message.truncate();
    truncated.metadata.truncation = transport == Transport::Udp;
    truncated.edns = message.edns.clone();
    truncated.to_vec().ok().filter(|b| b.len() <= limit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::tests::EXAMPLE;
    use hickory_proto::op::Query;

    fn ask(name: &str, qtype: RecordType) -> Message {
        let zone = Zone::parse(EXAMPLE).unwrap();
        let mut query = Message::new(0x1234, MessageType::Query, OpCode::Query);
        query.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
        let bytes = answer(&zone, &query.to_vec().unwrap(), Transport::Udp).expect("an answer");
        Message::from_vec(&bytes).unwrap()
    }

    fn rdata(message: &Message) -> Vec<String> {
        message.answers.iter().map(|r| format!("{} {}", r.record_type(), r.data)).collect()
    }

    #[test]
    fn answers_each_type_authoritatively() {
        let a = ask("ns1.example.test.", RecordType::A);
        assert_eq!(
            (a.metadata.id, a.metadata.response_code, a.metadata.authoritative),
            (0x1234, ResponseCode::NoError, true)
        );
        assert_eq!(rdata(&a), ["A 10.0.0.2"]);
        assert_eq!(rdata(&ask("MAIL.example.test.", RecordType::AAAA)), ["AAAA fd00::3"], "names are case-blind");
        let mx = ask("example.test.", RecordType::MX);
        assert_eq!(rdata(&mx), ["MX 10 mail.example.test."]);
        assert_eq!(mx.additionals.len(), 2, "the exchange's A and AAAA");
        assert_eq!(rdata(&ask("example.test.", RecordType::NS)), ["NS ns1.example.test."]);
        assert_eq!(ask("example.test.", RecordType::SOA).answers.len(), 1);
        assert_eq!(ask("example.test.", RecordType::TXT).answers.len(), 1);
        assert_eq!(ask("example.test.", RecordType::ANY).answers.len(), 4);
    }

    #[test]
    fn follows_a_cname_inside_the_zone() {
        let www = ask("www.example.test.", RecordType::A);
        assert_eq!(www.answers.len(), 1, "CNAME to the apex, which has no A");
        assert_eq!(www.answers[0].record_type(), RecordType::CNAME);
        assert_eq!(www.authorities.len(), 1, "NODATA at the target: the SOA");
        let cname = ask("www.example.test.", RecordType::CNAME);
        assert_eq!(rdata(&cname), ["CNAME example.test."]);
    }

    #[test]
    fn says_nxdomain_nodata_and_refused_where_due() {
        let missing = ask("nothere.example.test.", RecordType::A);
        assert_eq!(missing.metadata.response_code, ResponseCode::NXDomain);
        assert_eq!(missing.authorities[0].record_type(), RecordType::SOA);
        assert_eq!(missing.authorities[0].ttl, 300, "the SOA minimum caps its TTL");
        let nodata = ask("ns1.example.test.", RecordType::MX);
        assert_eq!((nodata.metadata.response_code, nodata.answers.len()), (ResponseCode::NoError, 0));
        let between = ask("deep.example.test.", RecordType::A);
        assert_eq!(between.metadata.response_code, ResponseCode::NoError, "an empty non-terminal is NODATA");
        let outside = ask("example.org.", RecordType::A);
        assert_eq!((outside.metadata.response_code, outside.metadata.authoritative), (ResponseCode::Refused, false));
        assert_eq!(ask("example.test.", RecordType::AXFR).metadata.response_code, ResponseCode::Refused);
    }

    #[test]
    fn malformed_queries_get_formerr_and_answers_are_ignored() {
        let zone = Zone::parse(EXAMPLE).unwrap();
        assert_eq!(answer(&zone, b"short", Transport::Udp), None);
        let garbage = [0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, b'x'];
        let reply = Message::from_vec(&answer(&zone, &garbage, Transport::Udp).unwrap()).unwrap();
        assert_eq!((reply.metadata.id, reply.metadata.response_code), (0xabcd, ResponseCode::FormErr));
        let mut response = garbage;
        response[2] |= 0x80;
        assert_eq!(answer(&zone, &response, Transport::Udp), None, "never answer an answer");
        let mut two = Message::new(7, MessageType::Query, OpCode::Query);
        two.add_query(Query::query(Name::from_ascii("a.example.test.").unwrap(), RecordType::A));
        two.add_query(Query::query(Name::from_ascii("b.example.test.").unwrap(), RecordType::A));
        let reply = Message::from_vec(&answer(&zone, &two.to_vec().unwrap(), Transport::Tcp).unwrap()).unwrap();
        assert_eq!(reply.metadata.response_code, ResponseCode::FormErr);
    }

    #[test]
    fn large_udp_answers_are_truncated() {
        let mut text = EXAMPLE.to_string();
        for i in 0..60 {
            text.push_str(&format!("big TXT \"{}\"\n", format!("{i:03}").repeat(20)));
        }
        let zone = Zone::parse(&text).unwrap();
        let mut query = Message::new(1, MessageType::Query, OpCode::Query);
        query.add_query(Query::query(Name::from_ascii("big.example.test.").unwrap(), RecordType::TXT));
        let udp = answer(&zone, &query.to_vec().unwrap(), Transport::Udp).unwrap();
        let reply = Message::from_vec(&udp).unwrap();
        assert!(udp.len() <= UDP_DEFAULT && reply.metadata.truncation && reply.answers.is_empty());
        let tcp = Message::from_vec(&answer(&zone, &query.to_vec().unwrap(), Transport::Tcp).unwrap()).unwrap();
        assert_eq!((tcp.answers.len(), tcp.metadata.truncation), (60, false));
    }
}
