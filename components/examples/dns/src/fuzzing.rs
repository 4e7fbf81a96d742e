//! The DNS server's untrusted inputs, for `fuzz/` (built with `--cfg fuzzing`, as
//! cargo-fuzz does) and for the test suite's smoke of it: any bytes as a query (UDP and
//! TCP) against a fixed zone, and as a zone file.

use crate::answer::{Transport, UDP_DEFAULT, UDP_MOST, answer};
use crate::zone::Zone;
use hickory_proto::op::{Message, MessageType};

/// The zone queries are answered from.
const ZONE: &str = "\
$ORIGIN example.test.
$TTL 3600
@   SOA ns1 hostmaster ( 1 1h 15m 1w 300 )
    NS  ns1
    MX  10 mail
    TXT \"v=spf1 -all\"
ns1  A  10.0.0.2
mail A  10.0.0.3
     AAAA fd00::3
www  CNAME @
loop1 CNAME loop2
loop2 CNAME loop1
";

/// Answers `input` as a query and reads it as a zone file. Panics only when the server
/// panics, or when an answer breaks a rule: every answer reads back as a response with
/// the query's ID, and a UDP answer fits the largest buffer the server ever fills.
pub fn query_and_zone(input: &[u8]) {
    let zone = Zone::parse(ZONE).expect("the fuzzing zone parses");
    for transport in [Transport::Udp, Transport::Tcp] {
        let Some(reply) = answer(&zone, input, transport) else { continue };
        let message = Message::from_vec(&reply).expect("every answer is a well-formed message");
        assert_eq!(message.metadata.message_type, MessageType::Response);
        assert_eq!(message.metadata.id, u16::from_be_bytes([input[0], input[1]]), "the answer carries the query's ID");
        if transport == Transport::Udp {
            // The server adds EDNS to an answer only when the query had it; without it,
            // the client's buffer is 512 bytes.
            let limit = if message.edns.is_some() { UDP_MOST } else { UDP_DEFAULT };
            assert!(reply.len() <= limit, "a UDP answer of {} bytes (limit {limit})", reply.len());
        }
    }
    if let Ok(text) = std::str::from_utf8(input)
        && let Ok(zone) = Zone::parse(text)
    {
        assert!(zone.origin.is_fqdn() && !zone.is_empty());
    }
}

#[cfg(test)]
mod tests {
    use hickory_proto::op::{Message, MessageType, OpCode, Query};
    use hickory_proto::rr::{Name, RecordType};

    /// Real queries cut at every length, flipped bits, and the zone file cut at every
    /// length: what the fuzz target starts from.
    #[test]
    fn queries_and_zones_cut_and_damaged_never_panic() {
        let mut queries = Vec::new();
        for (name, qtype) in
            [("www.example.test.", RecordType::A), ("loop1.example.test.", RecordType::A), ("x.org.", RecordType::MX)]
        {
            let mut query = Message::new(0x4242, MessageType::Query, OpCode::Query);
            query.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
            queries.push(query.to_vec().unwrap());
        }
        for query in &queries {
            for cut in 0..=query.len() {
                super::query_and_zone(&query[..cut]);
            }
            for bit in 0..query.len() * 8 {
                let mut flipped = query.clone();
                flipped[bit / 8] ^= 1 << (bit % 8);
                super::query_and_zone(&flipped);
            }
        }
        for cut in 0..=super::ZONE.len() {
            super::query_and_zone(&super::ZONE.as_bytes()[..cut]);
        }
    }
}
