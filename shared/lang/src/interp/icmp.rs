//! The ping lesson's helpers: the Internet checksum (RFC 1071), building an ICMP
//! echo request, and parsing an ICMP message with or without its IPv4 header.

use super::exception::Exception;
use super::repr::bytes_repr;

/// The 16-bit one's-complement sum of `data` (odd length padded with a zero
/// byte), complemented: the value to put in a checksum field.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for chunk in data.chunks(2) {
        let word = u16::from_be_bytes([chunk[0], chunk.get(1).copied().unwrap_or(0)]);
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Type 8, code 0, checksum, identifier and sequence (big-endian), then the payload.
pub fn echo_request(ident: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut packet = vec![8, 0, 0, 0];
    packet.extend_from_slice(&ident.to_be_bytes());
    packet.extend_from_slice(&seq.to_be_bytes());
    packet.extend_from_slice(payload);
    let sum = checksum(&packet);
    packet[2..4].copy_from_slice(&sum.to_be_bytes());
    packet
}

/// A parsed ICMP message, as `icmp_parse` returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct IcmpPacket {
    pub icmp_type: u8,
    pub code: u8,
    pub checksum: u16,
    /// Bytes 4-5 and 6-7 of the header (identifier and sequence for echo messages).
    pub ident: u16,
    pub seq: u16,
    pub payload: Vec<u8>,
    /// From the IPv4 header, when there was one.
    pub ip: Option<IpHeader>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IpHeader {
    pub ttl: u8,
    pub src: [u8; 4],
    pub dst: [u8; 4],
}

/// Parses a raw IPv4 packet (first nibble 4) or a bare ICMP message.
pub fn parse(data: &[u8]) -> Result<IcmpPacket, Exception> {
    let (ip, icmp) = match data.first() {
        Some(b) if b >> 4 == 4 => {
            let ihl = usize::from(b & 0x0f) * 4;
            if ihl < 20 || data.len() < ihl {
                return Err(Exception::value_error(format!(
                    "truncated IPv4 header: {} bytes, header length says {ihl}",
                    data.len()
                )));
            }
            let quad = |at: usize| [data[at], data[at + 1], data[at + 2], data[at + 3]];
            (
                Some(IpHeader {
                    ttl: data[8],
                    src: quad(12),
                    dst: quad(16),
                }),
                &data[ihl..],
            )
        }
        _ => (None, data),
    };
    if icmp.len() < 8 {
        return Err(Exception::value_error(format!(
            "truncated ICMP message: {} bytes, the header alone is 8",
            icmp.len()
        )));
    }
    Ok(IcmpPacket {
        icmp_type: icmp[0],
        code: icmp[1],
        checksum: u16::from_be_bytes([icmp[2], icmp[3]]),
        ident: u16::from_be_bytes([icmp[4], icmp[5]]),
        seq: u16::from_be_bytes([icmp[6], icmp[7]]),
        payload: icmp[8..].to_vec(),
        ip,
    })
}

impl IcmpPacket {
    pub fn repr(&self) -> String {
        let ttl = self
            .ip
            .as_ref()
            .map_or_else(|| "None".to_string(), |ip| ip.ttl.to_string());
        format!(
            "ICMP(type={}, code={}, ident={}, seq={}, ttl={ttl}, payload={})",
            self.icmp_type,
            self.code,
            self.ident,
            self.seq,
            bytes_repr(&self.payload)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2; the checksum is its complement.
        assert_eq!(
            checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            !0xddf2
        );
        assert_eq!(checksum(&[]), 0xffff);
        // Odd length: the last byte is padded with zero.
        assert_eq!(checksum(&[0x01]), !0x0100);
    }

    #[test]
    fn echo_request_checks_out() {
        let p = echo_request(0x1234, 1, b"hi");
        // 0800 + 1234 + 0001 + 6869 = 0x829e, complemented 0x7d61.
        assert_eq!(p, vec![8, 0, 0x7d, 0x61, 0x12, 0x34, 0, 1, b'h', b'i']);
        assert_eq!(checksum(&p), 0, "a packet with its checksum sums to zero");
        let parsed = parse(&p).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((parsed.icmp_type, parsed.ident, parsed.seq), (8, 0x1234, 1));
        assert!(parsed.ip.is_none());
    }
}
