"""Who may drive the viewer: only the user it runs as (docs/protocol.md, "Who may connect").

A connection over loopback is trusted when the socket at its other end belongs to this user.
On Linux the kernel says so: an exact lookup of the peer's socket over netlink (sock_diag, a
fraction of a millisecond however many sockets the machine has), else its row in
/proc/net/tcp or /proc/net/tcp6. Where neither exists (macOS, Windows, a /proc hidden from
us), the owner cannot be told: the server then writes a session token into a file only this
user can read, which lyipc's clients send with hello. Pure Python: no GUI needed."""

import errno
import os
import secrets
import socket
import struct

# The kind of peer at the other end of a connection.
OWNER = "owner"  # this user, on this machine
OTHER_USER = "other user"  # another user of this machine
UNKNOWN = "unknown"  # on this machine, owner not known (no way to look it up)
REMOTE = "remote"  # another machine (or this one through a non-loopback address)

_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST = 1
_NLMSG_ERROR = 2
_NO_COOKIE = 0xFFFFFFFF
_ALL_STATES = 0xFFFFFFFF


def plain_address(address):
    """An IPv4 address for an IPv4-mapped IPv6 one ("::ffff:127.0.0.1"), else the address."""
    if address.lower().startswith("::ffff:") and "." in address:
        return address[7:]
    return address


def is_loopback_address(address):
    address = plain_address(address)
    return address.startswith("127.") or address == "::1"


def _family(address):
    return socket.AF_INET6 if ":" in address else socket.AF_INET


class PeerLookup:
    """The uid owning the socket at the other end of a loopback TCP connection. `proc_net` is
    where the kernel lists TCP sockets (a test points it at an empty folder, with `netlink`
    off, to play a system without either)."""

    def __init__(self, proc_net="/proc/net", netlink=True):
        self.proc_net = proc_net
        self.netlink = netlink and hasattr(socket, "AF_NETLINK")

    def available(self):
        return self.netlink or os.path.exists(os.path.join(self.proc_net, "tcp"))

    def works(self, own_uid):
        """Whether a loopback connection this process makes itself is found and owned by
        `own_uid`: a system may offer the lists and still hide sockets in them (a sandbox)."""
        try:
            with socket.socket() as listener:
                listener.bind(("127.0.0.1", 0))
                listener.listen(1)
                with socket.create_connection(listener.getsockname(), timeout=1) as client:
                    accepted, _ = listener.accept()
                    with accepted:
                        return self.uid(client.getsockname(), listener.getsockname()) == own_uid
        except OSError:
            return False

    def uid(self, peer, local):
        """`peer` and `local` are (address, port) of the connection as the server sees it; None
        when the peer's socket is not found (it closed already, or no way to look)."""
        peer = (plain_address(peer[0]), peer[1])
        local = (plain_address(local[0]), local[1])
        if _family(peer[0]) != _family(local[0]):
            return None
        # The client's socket: its local end is our peer, its remote end is us. An IPv4 client
        # of a dual-stack listener has an IPv4 socket; an IPv6 client may use mapped addresses.
        candidates = [(_family(peer[0]), peer, local)]
        if _family(peer[0]) == socket.AF_INET:
            candidates.append((socket.AF_INET6, ("::ffff:" + peer[0], peer[1]), ("::ffff:" + local[0], local[1])))
        if self.netlink:
            try:
                for family, their_end, our_end in candidates:
                    found = _netlink_uid(family, their_end, our_end)
                    if found is not None:
                        return found
                return None
            except OSError:
                self.netlink = False  # no sock_diag here (a container, a seccomp filter): /proc
        for family, their_end, our_end in candidates:
            found = self._proc_uid(family, their_end, our_end)
            if found is not None:
                return found
        return None

    def _proc_uid(self, family, their_end, our_end):
        name = "tcp6" if family == socket.AF_INET6 else "tcp"
        try:
            # One read of the whole file: the kernel rebuilds it from the start for each read().
            with open(os.path.join(self.proc_net, name), "rb", buffering=0) as handle:
                data = handle.read(64 * 1024 * 1024)
        except OSError:
            return None
        key = (" %s %s " % (_proc_address(family, *their_end), _proc_address(family, *our_end))).encode("ascii")
        at = data.find(key)
        while at >= 0:
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            fields = data[start:end if end >= 0 else len(data)].split()
            # sl local rem st tx:rx tr:when retrnsmt uid timeout inode
            if len(fields) >= 10 and fields[9] != b"0":  # inode 0: a socket its process closed
                return int(fields[7])
            at = data.find(key, at + 1)
        return None


def _proc_address(family, address, port):
    """As /proc/net/tcp prints it: the address's 32-bit words in host order, in hex."""
    raw = socket.inet_pton(family, address)
    words = struct.unpack("=%dI" % (len(raw) // 4), raw)
    return "%s:%04X" % ("".join("%08X" % word for word in words), port)


def _netlink_uid(family, their_end, our_end):
    """sock_diag's exact lookup of one socket by its two ends; None when there is none."""

    def padded(address):
        raw = socket.inet_pton(family, address)
        return raw + b"\0" * (16 - len(raw))

    sockid = struct.pack(">HH", their_end[1], our_end[1]) + padded(their_end[0]) + padded(our_end[0]) + struct.pack("=III", 0, _NO_COOKIE, _NO_COOKIE)
    request = struct.pack("=BBBBI", family, socket.IPPROTO_TCP, 0, 0, _ALL_STATES) + sockid
    message = struct.pack("=IHHII", 16 + len(request), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST, 1, 0) + request
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_SOCK_DIAG) as link:
        link.settimeout(0.5)
        link.sendto(message, (0, 0))
        data = link.recv(65536)
    if len(data) < 16:
        return None
    kind = struct.unpack("=H", data[4:6])[0]
    if kind == _NLMSG_ERROR:
        code = -struct.unpack("=i", data[16:20])[0] if len(data) >= 20 else 0
        if code == errno.ENOENT:
            return None  # no such socket
        raise OSError(code, "sock_diag: %s" % os.strerror(code))  # not allowed here: use /proc
    body = data[16:]
    # inet_diag_msg: family, state, timer, retrans, the socket id (48 bytes), expires, rqueue,
    # wqueue, uid, inode
    if len(body) < 72:
        return None
    uid, inode = struct.unpack("=II", body[64:72])
    return uid if inode else None


def classify(peer_address, peer_port, local_address, local_port, lookup, own_uid):
    """(kind, uid) of a connection's peer: OWNER, OTHER_USER, UNKNOWN or REMOTE. `lookup` is
    None where owners cannot be looked up."""
    if not is_loopback_address(peer_address):
        return REMOTE, None
    if lookup is None:
        return UNKNOWN, None
    uid = lookup.uid((peer_address, peer_port), (local_address, local_port))
    if uid is None:
        # Looked, not found: the client is gone, or hides; never trusted.
        return OTHER_USER, None
    return (OWNER if uid == own_uid else OTHER_USER), uid


def token_file(home, port):
    """Where a server that cannot look up its peers keeps its session token."""
    return os.path.join(home, "lyipc-token-%d" % port)


def write_session_token(home, port):
    """A new random token in `token_file`, readable by this user only; returns the token."""
    token = secrets.token_urlsafe(24)
    path = token_file(home, port)
    os.makedirs(home, exist_ok=True)
    temp = "%s.%s.part" % (path, secrets.token_hex(4))
    handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(handle, token.encode("ascii"))
    finally:
        os.close(handle)
    os.replace(temp, path)
    return token


def remove_session_token(home, port, token):
    """Removes the token file if it still holds this server's token (a newer server may own it)."""
    path = token_file(home, port)
    try:
        with open(path) as handle:
            if handle.read().strip() != token:
                return
        os.remove(path)
    except OSError:
        pass
