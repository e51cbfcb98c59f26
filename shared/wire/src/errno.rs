//! Linux errno values: names, strerror text, and a plain-language explanation for learners.

/// (number, name, strerror, explanation)
const TABLE: &[(i32, &str, &str, &str)] = &[
    // The resolver's own code (a `socket.gaierror`), not the kernel's.
    (-2, "EAI_NONAME", "Name or service not known", "The lab has no DNS: numeric addresses, localhost, the session's host names and names like example.com (the HTTP lab peer) resolve; this one did not."),
    (1, "EPERM", "Operation not permitted", "The relay is not allowed to do this (for example a raw socket without privilege)."),
    (2, "ENOENT", "No such file or directory", "No socket file exists at that Unix path: is the server bound yet?"),
    (4, "EINTR", "Interrupted system call", "The call was interrupted before it finished (here: cancelled)."),
    (5, "EIO", "Input/output error", "A low-level I/O error."),
    (9, "EBADF", "Bad file descriptor", "The socket is closed (or was never open): no call can use it any more."),
    (11, "EAGAIN", "Resource temporarily unavailable", "The call would have to wait, and the socket is non-blocking or its timeout ran out: try again later."),
    (12, "ENOMEM", "Cannot allocate memory", "The kernel ran out of memory for this."),
    (13, "EACCES", "Permission denied", "Not permitted: a privileged port, a broadcast without SO_BROADCAST, or a ping socket that is switched off."),
    (14, "EFAULT", "Bad address", "A buffer address was invalid."),
    (16, "EBUSY", "Device or resource busy", "The resource is busy."),
    (17, "EEXIST", "File exists", "Something already exists at that path."),
    (20, "ENOTDIR", "Not a directory", "Part of the Unix socket path is not a directory."),
    (21, "EISDIR", "Is a directory", "The Unix socket path names a directory."),
    (22, "EINVAL", "Invalid argument", "An argument makes no sense for this socket in its current state (e.g. listen() on a UDP socket, bind() twice)."),
    (23, "ENFILE", "Too many open files in system", "The whole system has run out of file descriptors."),
    (24, "EMFILE", "Too many open files", "This process has too many sockets open: close some."),
    (28, "ENOSPC", "No space left on device", "No space left."),
    (32, "EPIPE", "Broken pipe", "You wrote to a connection whose sending side is shut down or whose peer has gone."),
    (34, "ERANGE", "Numerical result out of range", "A value is out of range."),
    (36, "ENAMETOOLONG", "File name too long", "The Unix socket path is too long (108 bytes at most)."),
    (38, "ENOSYS", "Function not implemented", "The kernel does not implement this call."),
    (39, "ENOTEMPTY", "Directory not empty", "The directory is not empty."),
    (40, "ELOOP", "Too many levels of symbolic links", "The path loops through symbolic links."),
    (88, "ENOTSOCK", "Socket operation on non-socket", "That descriptor is not a socket."),
    (89, "EDESTADDRREQ", "Destination address required", "A datagram socket with no peer needs an address: use sendto() or connect() first."),
    (90, "EMSGSIZE", "Message too long", "The datagram is bigger than the socket can send in one piece."),
    (91, "EPROTOTYPE", "Protocol wrong type for socket", "The address belongs to a socket of a different type (e.g. a stream client against a datagram socket)."),
    (92, "ENOPROTOOPT", "Protocol not available", "That socket option does not exist at that level for this socket."),
    (93, "EPROTONOSUPPORT", "Protocol not supported", "This family and type do not support that protocol number."),
    (94, "ESOCKTNOSUPPORT", "Socket type not supported", "This family does not support that socket type."),
    (95, "EOPNOTSUPP", "Operation not supported", "This socket type cannot do that (e.g. listen() or accept() on a datagram socket)."),
    (96, "EPFNOSUPPORT", "Protocol family not supported", "The protocol family is not supported."),
    (97, "EAFNOSUPPORT", "Address family not supported by protocol", "The address is of a different family than the socket (e.g. an IPv6 address on an AF_INET socket)."),
    (98, "EADDRINUSE", "Address already in use", "Another socket already holds this address and port (maybe one in TIME_WAIT: see SO_REUSEADDR)."),
    (99, "EADDRNOTAVAIL", "Cannot assign requested address", "That address does not belong to this machine, so nothing can bind to it."),
    (100, "ENETDOWN", "Network is down", "The network interface is down."),
    (101, "ENETUNREACH", "Network is unreachable", "There is no route to that network: in the sandbox only loopback exists."),
    (102, "ENETRESET", "Network dropped connection on reset", "The network dropped the connection."),
    (103, "ECONNABORTED", "Software caused connection abort", "The connection was aborted before it could be accepted."),
    (104, "ECONNRESET", "Connection reset by peer", "The peer answered with RST: it closed with unread data, or the connection was aborted."),
    (105, "ENOBUFS", "No buffer space available", "The kernel has no buffer space for this right now."),
    (106, "EISCONN", "Transport endpoint is already connected", "This socket is already connected."),
    (107, "ENOTCONN", "Transport endpoint is not connected", "The socket is not connected: connect() (or accept()) first."),
    (108, "ESHUTDOWN", "Cannot send after transport endpoint shutdown", "This direction was shut down with shutdown()."),
    (110, "ETIMEDOUT", "Connection timed out", "The peer never answered in time."),
    (111, "ECONNREFUSED", "Connection refused", "Nothing is listening on that address and port: the kernel there answered with RST (TCP) or ICMP port unreachable (UDP)."),
    (112, "EHOSTDOWN", "Host is down", "The host is down."),
    (113, "EHOSTUNREACH", "No route to host", "There is no route to that host."),
    (114, "EALREADY", "Operation already in progress", "A non-blocking connect() on this socket is still in progress."),
    (115, "EINPROGRESS", "Operation now in progress", "A non-blocking connect() has started; wait until the socket is writable, then check SO_ERROR."),
];

fn entry(num: i32) -> Option<&'static (i32, &'static str, &'static str, &'static str)> {
    TABLE.iter().find(|e| e.0 == num)
}

/// The errno name (`ECONNREFUSED`), or `E<num>` for one this table lacks.
pub fn name(num: i32) -> String {
    entry(num).map_or_else(|| format!("E{num}"), |e| e.1.to_string())
}

/// The C library's message for `num`.
pub fn strerror(num: i32) -> String {
    entry(num).map_or_else(|| format!("Unknown error {num}"), |e| e.2.to_string())
}

/// One plain-language sentence for a learner.
pub fn explain(num: i32) -> &'static str {
    entry(num).map_or("An error the kernel reported.", |e| e.3)
}

/// The number of an errno name, e.g. `number("EAGAIN") == Some(11)`. `EWOULDBLOCK` is `EAGAIN`.
pub fn number(name: &str) -> Option<i32> {
    if name == "EWOULDBLOCK" {
        return Some(11);
    }
    TABLE.iter().find(|e| e.1 == name).map(|e| e.0)
}

/// Every (number, name) pair, for exposing them as script constants.
pub fn all() -> impl Iterator<Item = (i32, &'static str)> {
    TABLE.iter().map(|e| (e.0, e.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_numbers_and_texts_agree() {
        assert_eq!(name(111), "ECONNREFUSED");
        assert_eq!(number("EADDRINUSE"), Some(98));
        assert_eq!(strerror(11), "Resource temporarily unavailable");
        assert_eq!(name(9999), "E9999");
        for (num, n) in all() {
            assert_eq!(number(n), Some(num));
            assert!(!explain(num).is_empty());
        }
    }
}
