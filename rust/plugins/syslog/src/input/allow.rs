//! `allow_from`: the senders an input takes. A connection from elsewhere
//! is closed at accept and a datagram from elsewhere dropped, both counted
//! (as Vector's `permit_origin`), before anything of theirs is read.

use std::net::IpAddr;

use ipnet::IpNet;

/// The address prefixes senders must come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowList(Vec<IpNet>);

impl AllowList {
    /// Parses `10.0.0.0/8`, `2001:db8::/32`, or a bare address (that one
    /// host). No entries: everyone is allowed (`None`).
    pub fn parse(entries: &[String]) -> Result<Option<AllowList>, String> {
        if entries.is_empty() {
            return Ok(None);
        }
        entries
            .iter()
            .map(|e| {
                e.parse::<IpNet>()
                    .map(|n| n.trunc())
                    .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!(
                            "allow_from '{e}': expected an address or a prefix \
                             such as 10.0.0.0/8 or 2001:db8::/32"
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|nets| Some(AllowList(nets)))
    }

    /// Whether `ip` is inside one of the prefixes. An IPv4 sender seen on
    /// a dual-stack IPv6 socket (`::ffff:192.0.2.1`) is matched as IPv4.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|n| n.contains(&ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> AllowList {
        let v: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        AllowList::parse(&v).unwrap().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn prefixes_and_bare_addresses() {
        let l = list(&["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"]);
        for yes in ["10.0.0.1", "10.255.255.255", "192.0.2.7", "2001:db8::1"] {
            assert!(l.permits(ip(yes)), "{yes}");
        }
        for no in ["11.0.0.1", "192.0.2.8", "2001:db9::1", "::1", "127.0.0.1"] {
            assert!(!l.permits(ip(no)), "{no}");
        }
    }

    #[test]
    fn ipv4_mapped_senders_match_ipv4_prefixes() {
        let l = list(&["127.0.0.0/8"]);
        assert!(l.permits(ip("::ffff:127.0.0.1")));
        assert!(!l.permits(ip("::ffff:10.0.0.1")));
    }

    #[test]
    fn host_bits_set_in_a_prefix_mean_the_network() {
        assert!(list(&["10.1.2.3/8"]).permits(ip("10.9.9.9")));
    }

    #[test]
    fn empty_allows_everyone_and_bad_entries_are_refused() {
        assert_eq!(AllowList::parse(&[]).unwrap(), None);
        for bad in ["10.0.0.0/33", "localhost", "10.0.0", ""] {
            let e = AllowList::parse(&[bad.to_string()]).unwrap_err();
            assert!(e.starts_with(&format!("allow_from '{bad}'")), "{e}");
        }
    }
}
