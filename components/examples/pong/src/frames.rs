//! Just enough Ethernet, ARP, IPv4 and ICMP to answer who-has and echo requests.

use crate::{show_ip, show_mac};

const ETHERTYPE_ARP: u16 = 0x0806;
const ETHERTYPE_IPV4: u16 = 0x0800;
use ukc_hvt_abi::net_frame::ETHERNET_HEADER;

/// A frame to send back, and what it answers.
pub struct Answer {
    pub frame: Vec<u8>,
    kind: Kind,
}

enum Kind {
    Arp { asker: [u8; 4], mac: Vec<u8> },
    Echo { from: [u8; 4], sequence: u16 },
}

impl Answer {
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Arp { asker, mac } => {
                format!("pong: ARP who-has from {} ({}), answered", show_ip(asker), show_mac(mac))
            }
            Kind::Echo { from, sequence } => format!("pong: ping from {} seq {sequence}, answered", show_ip(from)),
        }
    }

    pub fn is_echo_reply(&self) -> bool {
        matches!(self.kind, Kind::Echo { .. })
    }
}

/// The answer to `frame`, if it is an ARP request or ping for `ip`.
pub fn answer(frame: &[u8], mac: &[u8; 6], ip: &[u8; 4]) -> Option<Answer> {
    if frame.len() < ETHERNET_HEADER {
        return None;
    }
    match u16::from_be_bytes([frame[12], frame[13]]) {
        ETHERTYPE_ARP => arp_reply(frame, mac, ip),
        ETHERTYPE_IPV4 => echo_reply(frame, mac, ip),
        _ => None,
    }
}

/// An ARP request (Ethernet/IPv4, operation 1) for `ip` gets a reply from `mac`.
fn arp_reply(frame: &[u8], mac: &[u8; 6], ip: &[u8; 4]) -> Option<Answer> {
    let arp = frame.get(ETHERNET_HEADER..ETHERNET_HEADER + 28)?;
    let is_request = arp[0..8] == [0, 1, 8, 0, 6, 4, 0, 1];
    if !is_request || arp[24..28] != ip[..] {
        return None;
    }
    let (asker_mac, asker_ip) = (&arp[8..14], &arp[14..18]);
    let mut reply = Vec::with_capacity(ETHERNET_HEADER + 28);
    reply.extend_from_slice(asker_mac);
    reply.extend_from_slice(mac);
    reply.extend_from_slice(&ETHERTYPE_ARP.to_be_bytes());
    reply.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 2]);
    reply.extend_from_slice(mac);
    reply.extend_from_slice(ip);
    reply.extend_from_slice(asker_mac);
    reply.extend_from_slice(asker_ip);
    Some(Answer { frame: reply, kind: Kind::Arp { asker: asker_ip.try_into().ok()?, mac: asker_mac.to_vec() } })
}

/// An ICMP echo request to `ip` gets an echo reply: addresses swapped, type 0,
/// checksums recomputed.
fn echo_reply(frame: &[u8], mac: &[u8; 6], ip: &[u8; 4]) -> Option<Answer> {
    let packet = &frame[ETHERNET_HEADER..];
    let header_len = usize::from(packet.first()? & 0x0f) * 4;
    let total_len = usize::from(u16::from_be_bytes([*packet.get(2)?, *packet.get(3)?]));
    let is_echo = packet[0] >> 4 == 4 && packet.get(9) == Some(&1) && packet.get(16..20) == Some(&ip[..]);
    if !is_echo || header_len < 20 || total_len > packet.len() || total_len < header_len + 8 {
        return None;
    }
    let icmp = &packet[header_len..total_len];
    if icmp[0] != 8 || icmp[1] != 0 {
        return None;
    }
    let from: [u8; 4] = packet[12..16].try_into().ok()?;
    let sequence = u16::from_be_bytes([icmp[6], icmp[7]]);

    let mut reply = Vec::with_capacity(ETHERNET_HEADER + total_len);
    reply.extend_from_slice(&frame[6..12]);
    reply.extend_from_slice(mac);
    reply.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
    let mut ip_header = packet[..header_len].to_vec();
    ip_header[8] = 64;
    ip_header[10..12].fill(0);
    ip_header[12..16].copy_from_slice(ip);
    ip_header[16..20].copy_from_slice(&from);
    let checksum = internet_checksum(&ip_header);
    ip_header[10..12].copy_from_slice(&checksum.to_be_bytes());
    reply.extend_from_slice(&ip_header);
    let mut message = icmp.to_vec();
    message[0] = 0;
    message[2..4].fill(0);
    let checksum = internet_checksum(&message);
    message[2..4].copy_from_slice(&checksum.to_be_bytes());
    reply.extend_from_slice(&message);
    Some(Answer { frame: reply, kind: Kind::Echo { from, sequence } })
}

/// RFC 1071: the ones' complement of the ones' complement sum of 16-bit words.
fn internet_checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 =
        bytes.chunks(2).map(|pair| u32::from(u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]))).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_a_known_header() {
        // The IPv4 header from RFC 1071's example family: checksum field zeroed.
        let header = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00,
            0xc7,
        ];
        assert_eq!(internet_checksum(&header), 0xb861);
    }

    #[test]
    fn answers_arp_for_its_address_only() {
        let mac = [2, 0, 0, 0, 0, 2];
        let mut request = vec![0xff; 6];
        request.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1]);
        request.extend_from_slice(&[2, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2]);
        let reply = answer(&request, &mac, &[10, 0, 0, 2]).expect("an ARP reply");
        assert_eq!(&reply.frame[0..6], &[2, 0, 0, 0, 0, 1]);
        assert_eq!(&reply.frame[20..22], &[0, 2]);
        assert_eq!(&reply.frame[22..28], &mac);
        assert!(answer(&request, &mac, &[10, 0, 0, 3]).is_none());
    }
}
