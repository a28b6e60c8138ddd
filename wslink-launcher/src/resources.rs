//! Ports for sessions: the `resources` of the config as a pool.
//!
//! Each resource is a host with an inclusive port range. A new session takes one port:
//! from the host with the most free ports, the highest free port of that host (the
//! reference's order, so sessions land where they did before). The port comes back when
//! the session ends — however it ends (stopped, timed out, failed to start, its process
//! exited) — because the session owns a [`Lease`] that the manager returns.
//!
//! The pool only hands out numbers: it does not check that nothing else listens on
//! them. Give the launcher ranges nobody else uses.

use std::collections::BTreeSet;

use crate::config::Resource;

/// One allocated `(host, port)`; give it back with [`PortPool::release`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lease {
    /// Host of the resource.
    pub host: String,
    /// The port.
    pub port: u16,
}

#[derive(Debug)]
struct HostPorts {
    host: String,
    all: BTreeSet<u16>,
    free: BTreeSet<u16>,
}

/// The free ports of every resource.
#[derive(Debug)]
pub struct PortPool {
    hosts: Vec<HostPorts>,
}

impl PortPool {
    /// A pool with every port of `resources` free. Resources naming the same host are
    /// merged.
    pub fn new(resources: &[Resource]) -> PortPool {
        let mut hosts: Vec<HostPorts> = Vec::new();
        for r in resources {
            let ports = r.port_range[0]..=r.port_range[1];
            match hosts.iter_mut().find(|h| h.host == r.host) {
                Some(h) => {
                    h.all.extend(ports.clone());
                    h.free.extend(ports);
                }
                None => hosts.push(HostPorts {
                    host: r.host.clone(),
                    all: ports.clone().collect(),
                    free: ports.collect(),
                }),
            }
        }
        PortPool { hosts }
    }

    /// Takes a port, or `None` when every port is in use.
    pub fn allocate(&mut self) -> Option<Lease> {
        // `max_by_key` returns the last of equals; reverse so the first host wins ties.
        let host = self
            .hosts
            .iter_mut()
            .rev()
            .filter(|h| !h.free.is_empty())
            .max_by_key(|h| h.free.len())?;
        let port = host.free.pop_last()?;
        Some(Lease {
            host: host.host.clone(),
            port,
        })
    }

    /// Gives a port back (a lease not from this pool is ignored).
    pub fn release(&mut self, lease: &Lease) {
        if let Some(h) = self.hosts.iter_mut().find(|h| h.host == lease.host) {
            if h.all.contains(&lease.port) && !h.free.insert(lease.port) {
                tracing::warn!(host = %lease.host, port = lease.port, "port released twice");
            }
        }
    }

    /// Free ports in total.
    pub fn free(&self) -> usize {
        self.hosts.iter().map(|h| h.free.len()).sum()
    }

    /// Ports in total.
    pub fn capacity(&self) -> usize {
        self.hosts.iter().map(|h| h.all.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(host: &str, a: u16, b: u16) -> Resource {
        Resource {
            host: host.into(),
            port_range: [a, b],
        }
    }

    #[test]
    fn most_free_host_then_highest_port() {
        let mut pool = PortPool::new(&[res("a", 10, 11), res("b", 20, 22)]);
        assert_eq!(pool.capacity(), 5);
        let take = |p: &mut PortPool| {
            let l = p.allocate().unwrap();
            format!("{}:{}", l.host, l.port)
        };
        assert_eq!(take(&mut pool), "b:22");
        // a and b both have 2 free: the first listed wins.
        assert_eq!(take(&mut pool), "a:11");
        assert_eq!(take(&mut pool), "b:21");
        assert_eq!(take(&mut pool), "a:10");
        assert_eq!(take(&mut pool), "b:20");
        assert_eq!(pool.allocate(), None);
        assert_eq!(pool.free(), 0);
    }

    #[test]
    fn released_ports_come_back_once() {
        let mut pool = PortPool::new(&[res("h", 5000, 5001), res("h", 6000, 6000)]);
        let a = pool.allocate().unwrap();
        assert_eq!(a.port, 6000);
        pool.release(&a);
        pool.release(&a);
        pool.release(&Lease {
            host: "h".into(),
            port: 7,
        });
        pool.release(&Lease {
            host: "other".into(),
            port: 6000,
        });
        assert_eq!(pool.free(), 3);
        let ports: Vec<u16> = std::iter::from_fn(|| pool.allocate().map(|l| l.port)).collect();
        assert_eq!(ports, [6000, 5001, 5000]);
    }
}
