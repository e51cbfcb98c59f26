//! The session's hosts and links as calls: `lab_hosts` makes them (once, on
//! the namespace helper threads), `lab_link` sets a link's conditions, a
//! socket call names the host it is made on, and host names resolve.

use std::sync::Arc;

use socket2::Socket;
use socklab_kernel::hosts::Network;
use socklab_kernel::netns::Netns;
use socklab_wire::network::LinkConditions;
use socklab_wire::protocol::{Addr, Call, Ret};

use super::{ExecError, Executor, PendingCall, Raw, Started};

/// Why a host-mode relay refuses hosts and link conditions.
const HOST_MODE: &str = "hosts and link conditions need a private network namespace per session, \
     and this relay runs in host mode (--sandbox host, or namespaces unavailable): \
     its sessions share the relay's own network, where links cannot be made";

impl Executor {
    pub(super) fn lab_hosts(&mut self, hosts: Vec<String>) -> Started {
        let Some(session) = self.config.session_netns.clone() else {
            return Started::Done(Err(ExecError::NotAllowed { errno: libc::EPERM, why: HOST_MODE.into() }));
        };
        if let Some(bad) = hosts.iter().find(|name| !socklab_wire::network::is_host_name(name)) {
            return Started::Done(Err(ExecError::BadArgument(format!(
                "host name {bad:?}: use letters, digits, '_' and '-', starting with a letter or '_' (at most 63)"
            ))));
        }
        if let Some(network) = &self.network {
            let made: Vec<&str> = network.hosts().iter().map(|h| h.name.as_str()).collect();
            return Started::Done(if made == hosts.iter().map(String::as_str).collect::<Vec<_>>() {
                Ok(Ret::None)
            } else {
                Err(ExecError::BadArgument(format!("this session's hosts are made already: {}", made.join(", "))))
            });
        }
        Started::Pending(PendingCall::task(async move {
            match Network::create(session, hosts).await {
                Ok(network) => Ok(Raw::Network(Arc::new(network))),
                Err(e) => Err(ExecError::BadArgument(e.to_string())),
            }
        }))
    }

    pub(super) fn lab_link(&mut self, a: &str, b: Option<&str>, conditions: LinkConditions) -> Started {
        if self.config.session_netns.is_none() {
            return Started::Done(Err(ExecError::NotAllowed { errno: libc::EPERM, why: HOST_MODE.into() }));
        }
        let Some(network) = &self.network else {
            return Started::Done(Err(ExecError::BadArgument(
                "lab_link: this session has no hosts; place lanes on hosts with '# lane: NAME @ HOST'".into(),
            )));
        };
        if let Err(why) = network.ends(a, b) {
            return Started::Done(Err(ExecError::BadArgument(format!("ValueError: {why}"))));
        }
        let (network, a, b) = (network.clone(), a.to_owned(), b.map(str::to_owned));
        Started::Pending(PendingCall::task(async move {
            network
                .condition(&a, b.as_deref(), conditions)
                .await
                .map(|()| Raw::Ret(Ret::None))
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::InvalidInput | std::io::ErrorKind::Unsupported => {
                        ExecError::NotAllowed { errno: libc::EOPNOTSUPP, why: e.to_string() }
                    }
                    _ => ExecError::Os(e),
                })
        }))
    }

    /// A socket on `host`'s network.
    pub(super) fn host_socket(&self, host: &str, family: i32, ty: i32, proto: i32) -> Result<Socket, ExecError> {
        self.host_netns(host)?.socket(family, ty, proto).map_err(ExecError::Os)
    }

    /// The network namespace of the session's host `host`.
    pub(super) fn host_netns(&self, host: &str) -> Result<Arc<Netns>, ExecError> {
        let network = self.network.as_ref().ok_or_else(|| {
            ExecError::BadArgument(format!("host {host:?}: this session's hosts are not made yet (send lab_hosts first)"))
        })?;
        let host = network.host(host).ok_or_else(|| ExecError::BadArgument(format!("no host {host:?} in this session")))?;
        Ok(host.netns.clone())
    }

    /// The names of the session's links (empty without hosts), in capture order.
    pub fn link_names(&self) -> Vec<String> {
        self.network.as_ref().map(|network| network.links().into_iter().map(|(name, _)| name).collect()).unwrap_or_default()
    }

    /// The address policy for sockets on `host`: Unix paths live in a directory
    /// of the host's own, as on separate machines.
    pub(super) fn policy_for(&self, host: Option<&str>) -> super::AddrPolicy {
        let mut policy = self.config.policy.clone();
        if let Some(host) = host {
            policy.unix_root = policy.unix_root.join(format!("host-{host}"));
        }
        policy
    }

    /// A host name's address, when it names one of the session's hosts.
    pub(super) fn host_address(&self, name: &str) -> Option<String> {
        Some(self.network.as_ref()?.host(name)?.address.to_string())
    }

    /// `call` with the session's host names in its address replaced by their addresses.
    pub(super) fn resolve_hosts(&self, mut call: Call) -> Call {
        let Some(network) = &self.network else {
            return call;
        };
        if let Call::Bind { addr, .. } | Call::Connect { addr, .. } | Call::ConnectEx { addr, .. } | Call::Sendto { addr, .. } = &mut call
            && let Addr::Inet { host, .. } = addr
            && let Some(found) = network.host(host)
        {
            *host = found.address.to_string();
        }
        call
    }
}
