//! A session's hosts: one network namespace each, with `lo` and `eth0` on a
//! link shared with the other hosts (a veth pair between two hosts; for any
//! other number, or two on a kernel without netem, a bridge `br0` in the
//! session's own namespace with a veth port per host). Without netem, a link
//! given delay, loss and the like is emulated by the relay (`forward`): its
//! port leaves the bridge, and a task forwards its frames to a second veth
//! pair whose other end joins the bridge in its place. Addresses are 10.0.0.N/24 with only the connected route:
//! nothing is routed out, and no namespace has an interface outside the
//! session. Everything is made on the namespace maker thread; a session thread
//! only awaits it. Dropping the [`Network`] releases the namespaces, which takes
//! their veths and qdiscs with them.

use std::io;
use std::net::Ipv4Addr;
use std::sync::Arc;

use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage};
use netlink_packet_route::neighbour_table::{NeighbourTableAttribute, NeighbourTableMessage, NeighbourTableParameter};
use netlink_packet_route::AddressFamily;
use socklab_wire::network::{self, DEFAULT_MTU, LinkConditions, PREFIX_LEN};
use std::os::fd::AsRawFd;

use tokio::sync::watch;

use crate::forward;
use crate::links;
use crate::netns::{self, Netns, WorkerState};
use crate::rtnl::{Mode, Rtnl};

/// Each host's interface on the session's link, in its own namespace.
pub const HOST_IFNAME: &str = "eth0";
/// Its index (a fresh namespace has only `lo`, index 1).
pub(crate) const HOST_IFINDEX: u32 = 2;
/// The bridge in the session's namespace, when there is one.
const BRIDGE_IFINDEX: u32 = 2;
/// The bridge port of host `i` is index `PORT_IFINDEX + i`.
pub(crate) const PORT_IFINDEX: u32 = 10;
/// An emulated cable `i`: the bridge's end `JOIN_IFINDEX + i`, the forwarder's `TAP_IFINDEX + i`.
const JOIN_IFINDEX: u32 = 40;
const TAP_IFINDEX: u32 = 60;

/// One host of a session.
#[derive(Debug)]
pub struct Host {
    pub name: String,
    pub address: Ipv4Addr,
    pub netns: Arc<Netns>,
}

/// One end of a link: an interface in a namespace.
#[derive(Debug, Clone)]
pub struct End {
    pub netns: Arc<Netns>,
    pub ifindex: u32,
    /// The host whose interface this is (None: a bridge port in the session's namespace).
    pub host: Option<String>,
}

/// A session's hosts and the link between them.
#[derive(Debug)]
pub struct Network {
    session: Arc<Netns>,
    hosts: Vec<Host>,
    /// Whether the hosts' cables meet at a bridge (always but with two hosts where netem exists).
    bridged: bool,
    netem: bool,
    /// Each emulated link's forwarder, by link (dropping one ends its task).
    forwarders: tokio::sync::Mutex<Vec<Option<watch::Sender<LinkConditions>>>>,
    /// The duplicates they made, for the capture.
    copies: Arc<forward::Copies>,
}

/// Why hosts cannot be made as asked.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("a session may have at most {max} hosts, this script names {asked}")]
    TooMany { asked: usize, max: usize },
    #[error("host {0:?} is named twice")]
    Duplicate(String),
    #[error("making the session's hosts: {0}")]
    Kernel(#[from] io::Error),
}

impl Network {
    /// Makes a namespace per name in `names` (in order: the first gets
    /// 10.0.0.1) and links them, on the maker thread.
    pub async fn create(session: Arc<Netns>, names: Vec<String>) -> Result<Network, NetworkError> {
        if names.len() > network::MAX_HOSTS {
            return Err(NetworkError::TooMany { asked: names.len(), max: network::MAX_HOSTS });
        }
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                return Err(NetworkError::Duplicate(name.clone()));
            }
        }
        Ok(netns::on_maker(move |state| build(state, session, names)).await?)
    }

    /// The session's own namespace (where a bridge lives).
    pub fn session(&self) -> &Arc<Netns> {
        &self.session
    }

    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|host| host.name == name)
    }

    /// Whether the hosts share a bridge (any number but two).
    pub fn switched(&self) -> bool {
        self.hosts.len() != 2
    }

    pub(crate) fn copies(&self) -> &Arc<forward::Copies> {
        &self.copies
    }

    /// Whether the cables meet at a bridge in the session's namespace.
    pub fn bridged(&self) -> bool {
        self.bridged
    }

    /// The ends of the link `a`–`b`: with two hosts, the veth pair between
    /// them; with a bridge, host `a`'s cable to it (then `b` must be absent).
    pub fn ends(&self, a: &str, b: Option<&str>) -> Result<Vec<End>, String> {
        let index = |name: &str| {
            self.hosts.iter().position(|host| host.name == name).ok_or_else(|| {
                let known: Vec<&str> = self.hosts.iter().map(|h| h.name.as_str()).collect();
                format!("lab_link: no host {name:?} in this session (hosts: {})", known.join(", "))
            })
        };
        let end = |i: usize| End { netns: self.hosts[i].netns.clone(), ifindex: HOST_IFINDEX, host: Some(self.hosts[i].name.clone()) };
        let first = index(a)?;
        match b {
            Some(b) if !self.switched() => {
                let second = index(b)?;
                if second == first {
                    return Err(format!("lab_link: a link joins two different hosts, not {a:?} to itself"));
                }
                Ok(vec![end(first), end(second)])
            }
            None if !self.switched() => Ok(vec![end(0), end(1)]),
            Some(_) => Err(format!(
                "lab_link: with {} hosts each host has its own cable to a switch; name one host, as in lab_link({a:?}, …)",
                self.hosts.len()
            )),
            None => Ok(vec![
                end(first),
                End { netns: self.session.clone(), ifindex: PORT_IFINDEX + first as u32, host: None },
            ]),
        }
    }

    /// Every link, named `a—b` (two hosts) or by its host (a bridge), with
    /// the ends whose egress carries each of its packets once (for capture).
    pub fn links(&self) -> Vec<(String, Vec<End>)> {
        if self.switched() {
            self.hosts
                .iter()
                .map(|host| (host.name.clone(), self.ends(&host.name, None).unwrap_or_default()))
                .collect()
        } else {
            let name = format!("{}—{}", self.hosts[0].name, self.hosts[1].name);
            vec![(name, self.ends(&self.hosts[0].name, None).unwrap_or_default())]
        }
    }

    /// Sets the conditions of the link `a`–`b` (named as for [`Network::ends`]):
    /// qdiscs where the kernel can, else the rate and MTU as qdiscs and the
    /// rest emulated by a forwarder (started on the first such request, kept
    /// after, even for a perfect link).
    pub async fn condition(&self, a: &str, b: Option<&str>, conditions: LinkConditions) -> io::Result<()> {
        let invalid = |why: String| io::Error::new(io::ErrorKind::InvalidInput, why);
        let ends = self.ends(a, b).map_err(invalid)?;
        conditions.check().map_err(invalid)?;
        if self.netem {
            return Network::set_link(ends, conditions).await;
        }
        let link = if self.switched() { self.hosts.iter().position(|h| h.name == a).unwrap_or(0) } else { 0 };
        let mut forwarders = self.forwarders.lock().await;
        match &forwarders[link] {
            Some(forwarder) => {
                let _ = forwarder.send(conditions);
            }
            None if conditions.emulates() => forwarders[link] = Some(self.emulate(link, conditions).await?),
            None => {}
        }
        drop(forwarders);
        Network::set_link(ends, LinkConditions { rate: conditions.rate, mtu: conditions.mtu, ..Default::default() }).await
    }

    /// Moves cable `link` off the bridge onto a forwarder under `conditions`.
    async fn emulate(&self, link: usize, conditions: LinkConditions) -> io::Result<watch::Sender<LinkConditions>> {
        let (session, hosts) = (self.session.clone(), self.hosts.iter().map(|h| h.netns.clone()).collect::<Vec<_>>());
        let index = link as u32;
        netns::on_maker(move |state| {
            // The forwarder copies frames as bytes: every host must write its checksums itself.
            for host in &hosts {
                ethtool_off(host, &[ETHTOOL_STXCSUM])?;
            }
            state.enter(session.fd(), session.id())?;
            let mut rtnl = Rtnl::here()?;
            let tap = veth_end(&format!("t{index}"), TAP_IFINDEX + index, None);
            rtnl.request(RouteNetlinkMessage::NewLink(veth(&format!("j{index}"), JOIN_IFINDEX + index, tap)), Mode::Create)?;
            up(&mut rtnl, TAP_IFINDEX + index, None)?;
            up(&mut rtnl, JOIN_IFINDEX + index, Some(BRIDGE_IFINDEX))?;
            up(&mut rtnl, PORT_IFINDEX + index, Some(0))
        })
        .await?;
        let cable = forward::packet_socket(&self.session, PORT_IFINDEX + index)?;
        let bridge = forward::packet_socket(&self.session, TAP_IFINDEX + index)?;
        // A frame from the cable is its host's; from the bridge, with two hosts, the other's.
        let senders = [Some(link), (self.hosts.len() == 2).then_some(1 - link)];
        forward::spawn(cable, bridge, conditions, 0x50C4_1AB0 + u64::from(index), (self.copies.clone(), senders))
    }

    /// Sets the conditions of a link (each direction alike) as qdiscs, replacing the ones it had.
    pub async fn set_link(ends: Vec<End>, conditions: LinkConditions) -> io::Result<()> {
        conditions.check().map_err(|why| io::Error::new(io::ErrorKind::InvalidInput, why))?;
        netns::on_maker(move |_| {
            for end in &ends {
                let mut rtnl = Rtnl::inside(&end.netns)?;
                links::apply(&mut rtnl, end.ifindex, &conditions)?;
            }
            Ok(())
        })
        .await
    }
}

/// On the maker thread: the namespaces, their link, addresses, all up.
fn build(state: &mut WorkerState, session: Arc<Netns>, names: Vec<String>) -> io::Result<Network> {
    let count = names.len();
    let mut hosts = Vec::with_capacity(names.len());
    let mut sockets = Vec::with_capacity(names.len());
    for (i, name) in names.into_iter().enumerate() {
        let netns = netns::create_here(state)?;
        quiet_ipv6();
        sockets.push(Rtnl::here()?);
        hosts.push(Host { name, address: network::host_address(i), netns: Arc::new(netns) });
    }
    let netem = links::has_netem(&mut sockets[0], 1);
    let bridged = count != 2 || !netem;
    if !bridged {
        let peer = veth_end(HOST_IFNAME, HOST_IFINDEX, Some(&hosts[1].netns));
        sockets[0].request(RouteNetlinkMessage::NewLink(veth(HOST_IFNAME, HOST_IFINDEX, peer)), Mode::Create)?;
    } else {
        state.enter(session.fd(), session.id())?;
        quiet_ipv6();
        let mut rtnl = Rtnl::here()?;
        let mut bridge = LinkMessage::default();
        bridge.header.index = BRIDGE_IFINDEX;
        bridge.attributes.push(LinkAttribute::IfName("br0".into()));
        bridge.attributes.push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(InfoKind::Bridge)]));
        rtnl.request(RouteNetlinkMessage::NewLink(bridge), Mode::Create)?;
        up(&mut rtnl, BRIDGE_IFINDEX, None)?;
        for (i, host) in hosts.iter().enumerate() {
            let index = PORT_IFINDEX + i as u32;
            let peer = veth_end(HOST_IFNAME, HOST_IFINDEX, Some(&host.netns));
            rtnl.request(RouteNetlinkMessage::NewLink(veth(&format!("p{i}"), index, peer)), Mode::Create)?;
            up(&mut rtnl, index, Some(BRIDGE_IFINDEX))?;
        }
    }
    for (host, rtnl) in hosts.iter().zip(&mut sockets) {
        segment_in_software(&host.netns)?;
        patient_arp(rtnl)?;
        up(rtnl, HOST_IFINDEX, None)?;
        let mut address = AddressMessage::default();
        address.header.family = AddressFamily::Inet;
        address.header.prefix_len = PREFIX_LEN;
        address.header.index = HOST_IFINDEX;
        address.attributes.push(AddressAttribute::Local(host.address.into()));
        address.attributes.push(AddressAttribute::Address(host.address.into()));
        let octets = host.address.octets();
        address.attributes.push(AddressAttribute::Broadcast(Ipv4Addr::new(octets[0], octets[1], octets[2], 255)));
        rtnl.request(RouteNetlinkMessage::NewAddress(address), Mode::Create)?;
    }
    Ok(Network { session, hosts, bridged, netem, forwarders: tokio::sync::Mutex::new((0..if count == 2 { 1 } else { count }).map(|_| None).collect()),
        copies: Arc::default(),
    })
}

/// Turns off TCP segmentation offload and generic segmentation on the host's
/// interface, so the wire carries MTU-sized segments as a real NIC sends them
/// (a veth would otherwise pass 64 KB super-packets).
fn segment_in_software(netns: &Netns) -> io::Result<()> {
    const ETHTOOL_STSO: u32 = 0x1f;
    const ETHTOOL_SGSO: u32 = 0x24;
    ethtool_off(netns, &[ETHTOOL_STSO, ETHTOOL_SGSO])
}

/// Checksums computed by the stack, not left to the device.
const ETHTOOL_STXCSUM: u32 = 0x17;

/// Turns the ethtool features `cmds` off on the host's interface.
fn ethtool_off(netns: &Netns, cmds: &[u32]) -> io::Result<()> {
    let sock = netns.socket(libc::AF_INET, libc::SOCK_DGRAM, 0)?;
    for &cmd in cmds {
        #[repr(C)]
        struct EthtoolValue {
            cmd: u32,
            data: u32,
        }
        let mut value = EthtoolValue { cmd, data: 0 };
        // SAFETY: `ifreq` is plain old data; all-zero is a valid value.
        let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
        for (dst, src) in req.ifr_name.iter_mut().zip(HOST_IFNAME.as_bytes()) {
            *dst = *src as libc::c_char;
        }
        req.ifr_ifru.ifru_data = (&raw mut value).cast();
        // SAFETY: SIOCETHTOOL reads and writes the `ifreq` and the `ethtool_value` it
        // points to, both alive across the call.
        if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCETHTOOL, &mut req) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// ARP probes a host sends for a neighbour before it gives up (and drops
/// what waits for the answer), one a second.
pub const ARP_PROBES: u32 = 10;

/// ARP on the host's interface asks [`ARP_PROBES`] times rather than the
/// kernel's 3: a lab link may delay the answer by seconds, and the first
/// datagram to a neighbour waits for it rather than being dropped.
fn patient_arp(rtnl: &mut Rtnl) -> io::Result<()> {
    let mut table = NeighbourTableMessage::default();
    table.header.family = AddressFamily::Inet;
    table.attributes.push(NeighbourTableAttribute::Name("arp_cache".into()));
    table.attributes.push(NeighbourTableAttribute::Parms(vec![
        NeighbourTableParameter::Ifindex(HOST_IFINDEX),
        NeighbourTableParameter::McastProbes(ARP_PROBES),
        NeighbourTableParameter::UcastProbes(ARP_PROBES),
    ]));
    rtnl.request(RouteNetlinkMessage::SetNeighbourTable(table), Mode::Change)
}

/// No IPv6 on the interfaces made from now on in this namespace (no router
/// solicitations or multicast reports on the wire); `lo` keeps `::1`.
fn quiet_ipv6() {
    let _ = std::fs::write("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
}

fn veth_end(name: &str, index: u32, netns: Option<&Netns>) -> LinkMessage {
    let mut end = LinkMessage::default();
    end.header.index = index;
    end.attributes.push(LinkAttribute::IfName(name.into()));
    end.attributes.push(LinkAttribute::Mtu(DEFAULT_MTU));
    if let Some(netns) = netns {
        end.attributes.push(LinkAttribute::NetNsFd(netns.fd().as_raw_fd()));
    }
    end
}

fn veth(name: &str, index: u32, peer: LinkMessage) -> LinkMessage {
    let mut link = veth_end(name, index, None);
    link.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::Veth),
        LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
    ]));
    link
}

/// `ip link set INDEX up [master M]`.
fn up(rtnl: &mut Rtnl, index: u32, master: Option<u32>) -> io::Result<()> {
    let mut link = LinkMessage::default();
    link.header.index = index;
    link.header.flags = LinkFlags::Up;
    link.header.change_mask = LinkFlags::Up;
    if let Some(master) = master {
        link.attributes.push(LinkAttribute::Controller(master));
    }
    rtnl.request(RouteNetlinkMessage::SetLink(link), Mode::Change)
}
