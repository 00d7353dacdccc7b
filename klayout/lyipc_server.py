"""lyipc viewer server, inside the KLayout GUI: TCP on 127.0.0.1:11078 (docs/protocol.md).

Never blocks the GUI: Qt signals deliver bytes as they arrive, each connection buffers its
own, and a line is handled only when complete. A slow or silent client holds nothing but its
own buffer, which is capped, and is dropped after an idle timeout. The first line decides the
protocol: a JSON object is v2 (many requests per connection), anything else is the original
one-line lyipc protocol (v1). An optional second port answers klive's protocol (lyipc_klive).

Only the user KLayout runs as may drive it (lyipc_access): another user of the machine is
refused in each protocol's words, unless it says hello with the token (v2).

Requests are handled one at a time, in order per connection. KLayout processes events while
it reads a large file (its progress bar): a request arriving then waits its turn instead of
running inside the one being handled; `ping` and `hello`, which touch nothing, are answered
at once. A screenshot drawn by a separate KLayout (lyipc_render) is answered when it is done,
and meanwhile the window serves everyone else."""

import atexit
import hmac
import json
import os
from socket import gethostname
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pya

import lyipc_access
import lyipc_settings
from lyipc_errors import JobError, Later, parse, run
from lyipc_klive import handle_klive, refusal as klive_refusal
from lyipc_params import check_params
from lyipc_render import Renderer
from lyipc_scratch import CONTEXT_COPIES, RENDERINGS, SHOWN_COPIES, UPLOADS, remove_stale
from lyipc_uploads import Cache
from lyipc_v1 import handle_line
from lyipc_version import VERSION
from lyipc_viewer import Viewer, ViewerError

PROTOCOL = 2
MAX_LINE = 1024 * 1024  # bytes of one request line
MAX_CONNECTIONS = 64  # at once; bounds what a flood of connections can hold
# Of those, held by anyone but this user (refused after their first line, or silent until
# V1_IDLE_MS): a stranger's flood never takes the owner's places.
MAX_STRANGER_CONNECTIONS = 8
V1_IDLE_MS = 10 * 1000  # from connecting to the one v1 line, complete
LINE_MS = 10 * 1000  # from the first byte of a v2 line to its end
V2_IDLE_MS = 10 * 60 * 1000
# After refusing a request the rest of it is read and dropped for this long before closing:
# closing with unread bytes makes TCP reset the connection, and the client may lose the reply.
DRAIN_MS = 500
METHODS = ("hello", "ping", "load", "upload", "reload", "status", "screenshot", "markers", "zoom", "close", "show_diff", "quit")
# Touch nothing in KLayout: answered at once, even while another request is being handled.
AT_ONCE = ("hello", "ping")


class Connection:
    def __init__(self, server, socket, protocol=None):
        self.server = server
        self.socket = socket
        self.buffer = b""
        self.protocol = protocol  # "klive" on the klive port; else decided by the first line
        self.peer, self.peer_uid = server.classify(socket)
        # This user on this machine is trusted; anyone else must say hello with the token first.
        self.trusted = self.peer == lyipc_access.OWNER
        self.closing = False
        self.draining = False
        self.upload = None  # an Upload while the raw bytes of one are arriving
        self.queue = []  # (kind, item) waiting for their turn, in order
        self.waiting = False  # a reply that comes later (a screenshot drawn elsewhere) is due
        self.timer = pya.QTimer()
        self.timer.setSingleShot(True)
        self.timer.timeout(self.idle)
        self.timer.start(V1_IDLE_MS)
        socket.readyRead(self.read)
        socket.disconnected(self.gone)

    def read(self):
        # Nothing a client sends may escape into KLayout: an uncaught error in a slot ends up in
        # a dialog, and a dialog blocks every client.
        try:
            self.take_bytes()
        except Exception as exc:
            self.discard_upload()
            self.refuse("INTERNAL", "%s: %s" % (type(exc).__name__, exc))
        self.server.pump()

    def take_bytes(self):
        if self.draining:
            self.socket.readAll()
            self.timer.start(DRAIN_MS)
            return
        if self.closing:
            self.socket.readAll()  # a v1 line is in: what else comes is dropped, not buffered
            return
        was_partial = bool(self.buffer)
        self.buffer += bytes(self.socket.readAll())
        lines = 0
        while not self.closing and not self.draining:
            if self.upload is not None:
                # Raw bytes go straight to the file; what follows them is the next request.
                self.timer.start(V2_IDLE_MS)  # an upload in progress is not idle
                self.buffer = self.upload.take(self.buffer)
                if not self.upload.complete:
                    return
                upload, self.upload = self.upload, None
                self.queue.append(("upload", upload))
                continue
            if b"\n" not in self.buffer:
                break
            line, self.buffer = self.buffer.split(b"\n", 1)
            lines += 1
            self.take_line(line)
        if self.closing or self.draining:
            return
        if len(self.buffer) > MAX_LINE:
            if self.protocol is None:
                # The reply is framed as the line would have been answered.
                self.protocol = "v2" if self.buffer.lstrip().startswith(b"{") else "v1"
            self.refuse("BAD_REQUEST", "request line longer than %d bytes" % MAX_LINE)
        elif self.protocol == "v2" and (lines or not was_partial):
            # Bytes that trickle in do not keep a connection alive: a line once begun must be
            # complete within LINE_MS; between lines a v2 connection may idle for V2_IDLE_MS.
            self.timer.start(LINE_MS if self.buffer else V2_IDLE_MS)
        # v1 (or not yet decided): the deadline set when the connection opened stands.

    def take_line(self, line):
        """Queues one complete line (v1 and klive: the only one; the connection reads no more)."""
        if self.protocol is None:
            self.protocol = "v2" if line.lstrip().startswith(b"{") else "v1"
        if self.protocol in ("v1", "klive"):
            refusal = self.server.refusal(self)
            if refusal:
                self.refuse("UNAUTHORIZED", refusal)
                return
            self.queue.append((self.protocol, line))
            self.closing = True  # one line per connection: the reply, then close
            self.timer.stop()
            return
        if not line.strip():
            return
        request = parse(line)
        if isinstance(request, JobError):
            self.queue.append(("reply", {"id": None, "ok": False, "error": request.to_json()}))
        elif request.get("method") == "upload":
            # Begun at once: its raw bytes follow the line and must go to the file, not be
            # read as requests. It is answered in turn, once they are in.
            self.begin_upload(request)
        elif request.get("method") in AT_ONCE and not self.queue and not self.waiting:
            self.answer(request)
        else:
            self.queue.append(("v2", request))

    def begin_upload(self, request):
        started = run(request.get("id"), lambda: self.server.begin_upload(request, self))
        if started["ok"]:
            self.upload = started["result"]
            return
        self.reply(started)
        size = (request.get("params") or {}).get("size") if isinstance(request.get("params"), dict) else None
        if isinstance(size, int) and not isinstance(size, bool) and size > 0:
            self.drain_and_close()  # its bytes follow and cannot be taken: dropped, then close

    def answer(self, request):
        """Handles a v2 request now: replies, or notes that the reply comes later."""
        reply = self.server.dispatch(request, self)
        result = reply.get("result")
        if isinstance(result, Later):
            self.waiting = True
            result.then(lambda outcome: self.answer_later(request.get("id"), outcome))
            return
        self.reply(reply)
        if not self.trusted:
            self.drain_and_close()  # a peer without the token gets one answer

    def answer_later(self, request_id, outcome):
        self.waiting = False
        try:
            if isinstance(outcome, JobError):
                self.reply({"id": request_id, "ok": False, "error": outcome.to_json()})
            else:
                self.reply({"id": request_id, "ok": True, "result": outcome})
        except Exception:
            self.socket.abort()  # gone meanwhile; never raised into Qt
        self.server.pump_soon()

    def ready(self):
        return bool(self.queue) and not self.waiting and not self.draining

    def run_next(self):
        """Handles the next queued item."""
        kind, item = self.queue.pop(0)
        if kind == "reply":
            self.reply(item)
        elif kind == "v2":
            self.answer(item)
        elif kind == "upload":
            self.reply(self.server.finish_upload(item))
        elif kind == "v1":
            self.send(handle_line(item, self.server.viewer))
            self.close()
        elif kind == "klive":
            self.send(handle_klive(item, self.server.viewer))
            self.close()

    def reply(self, obj):
        self.send((json.dumps(obj, separators=(",", ":")) + "\n").encode("utf-8"))

    def refuse(self, code, message):
        """An error in the connection's protocol, then the connection is closed."""
        if self.protocol == "v2":
            self.reply({"id": None, "ok": False, "error": {"code": code, "message": message}})
        elif self.protocol == "klive":
            self.send(klive_refusal(self.server.viewer, message))
        else:
            self.send(("ERR " + repr(message)).encode("utf-8"))
        self.drain_and_close()

    def drain_and_close(self):
        self.buffer = b""
        self.queue = []
        self.draining = True
        self.timer.start(DRAIN_MS)

    def send(self, data):
        self.socket.write(data)
        self.socket.flush()

    def idle(self):
        self.draining = False
        self.close()

    def close(self):
        self.closing = True
        self.timer.stop()
        self.socket.disconnectFromHost()  # after the reply has been written

    def discard_upload(self):
        if self.upload is not None:
            self.upload.discard()  # no half file stays
            self.upload = None

    def gone(self):
        self.timer.stop()
        self.discard_upload()
        self.queue = []
        self.server.forget(self)


class Server:
    def __init__(self, settings=None):
        """`settings` as lyipc_settings.load() gives them (the default reads them)."""
        self.settings = settings if settings is not None else lyipc_settings.load()
        self.host = self.settings["host"]
        self.port = self.settings["port"]
        self.home = self.settings.get("home") or lyipc_settings.klayout_home()
        self.viewer = Viewer()
        self.renderer = Renderer(time.time)
        self.viewer.renderer = self.renderer
        self.viewer.screenshot_timeout = self.settings["screenshotTimeout"]
        self.connections = []
        self.listeners = []
        self.klive_port = None
        self.klive_error = None
        self.busy = False  # a request is being handled (KLayout may process events inside it)
        self.pump_timer = pya.QTimer()
        self.pump_timer.setSingleShot(True)
        self.pump_timer.timeout(self.pump)
        self.uid = os.geteuid() if hasattr(os, "geteuid") else None
        proc_net = os.environ.get("LYIPC_PROC_NET")  # tests: a folder without the kernel's lists
        self.peers = lyipc_access.PeerLookup(proc_net or "/proc/net", netlink=not proc_net)
        self.session_token = None
        # Uploaded layouts: kept for the session so that reload still finds them.
        self.cache = Cache(self.settings["uploadQuota"], lambda path: bool(self.viewer.views_showing(path)))
        self.sources = {}  # an upload's `source` (the client's name for the file) -> its path here

    def start(self):
        self.listen(self.host, self.port, None)
        if self.settings["klive"]:
            try:
                self.listen("127.0.0.1", self.settings["klivePort"], "klive")
                self.klive_port = self.settings["klivePort"]
            except RuntimeError as exc:
                self.klive_error = str(exc)  # klive itself may hold the port: lyipc still serves
        if self.uid is None or not self.peers.available() or not self.peers.works(self.uid):
            # Who connects cannot be told here: v2 clients on this machine prove it is their
            # user by reading this file (lyipc's clients do).
            self.peers = None
            self.session_token = lyipc_access.write_session_token(self.home, self.port)
            atexit.register(lyipc_access.remove_session_token, self.home, self.port, self.session_token)
        remove_stale(UPLOADS, CONTEXT_COPIES, RENDERINGS, SHOWN_COPIES)  # left by a KLayout killed outright
        return self

    def listen(self, host, port, protocol):
        tcp = pya.QTcpServer()
        handler = lambda: self.accept(tcp, protocol)
        tcp.newConnection(handler)
        if host == "::":
            # Every address, IPv6 and IPv4 (Qt's "::" alone would be IPv6 only).
            address = pya.QHostAddress.new_special(pya.QHostAddress.Any)
        else:
            address = pya.QHostAddress("127.0.0.1" if host == "localhost" else host)
        if address.isNull() or not tcp.listen(address, port):
            raise RuntimeError("lyipc server: cannot listen on %s:%d: %s" % (host, port, tcp.errorString() if not address.isNull() else "not an IP address"))
        self.listeners.append((tcp, handler))  # both referenced as long as the server lives

    def stop(self):
        for tcp, _ in self.listeners:
            tcp.close()
        self.listeners = []
        for connection in list(self.connections):
            connection.socket.abort()
        self.connections = []
        self.renderer.stop()
        self.viewer.shown.remove_all()  # the copies go with the server that made them
        if self.session_token:
            lyipc_access.remove_session_token(self.home, self.port, self.session_token)

    def accept(self, tcp, protocol):
        while tcp.hasPendingConnections():
            socket = tcp.nextPendingConnection()
            if len(self.connections) >= MAX_CONNECTIONS:
                socket.abort()
                continue
            connection = Connection(self, socket, protocol)
            if not connection.trusted and sum(1 for other in self.connections if not other.trusted) >= MAX_STRANGER_CONNECTIONS:
                connection.timer.stop()
                socket.abort()
                continue
            # Kept in a list: a socket Python no longer references is collected.
            self.connections.append(connection)

    def forget(self, connection):
        if connection in self.connections:
            self.connections.remove(connection)

    def classify(self, socket):
        try:
            return lyipc_access.classify(socket.peerAddress().toString(), socket.peerPort(), socket.localAddress().toString(), socket.localPort(), self.peers, self.uid)
        except (OSError, ValueError):
            return lyipc_access.OTHER_USER, None  # when in doubt, not trusted

    def refusal(self, connection):
        """Why a v1 or klive connection (no token possible) is refused, or None."""
        peer = connection.peer
        if peer in (lyipc_access.OWNER, lyipc_access.UNKNOWN):
            return None
        if peer == lyipc_access.REMOTE:
            if connection.protocol == "v1" and self.settings["allowRemoteV1"]:
                return None
            return ("lyipc: the v1 protocol is accepted from this machine only; use v2 with the token, "
                    "or set allowRemoteV1 in lyipc.json")
        return "lyipc: %s; the %s protocol cannot carry a token" % (self.other_user(connection), "old lyipc (v1)" if connection.protocol == "v1" else "klive")

    def other_user(self, connection):
        if connection.peer_uid is None:
            return "this viewer serves only the user it runs as, and the owner of this connection could not be found"
        return "this viewer serves only the user it runs as (uid %s); this connection is from uid %d" % (self.uid, connection.peer_uid)

    def pump_soon(self):
        """pump() once the current Qt slot has returned."""
        self.pump_timer.start(0)

    def pump(self):
        """Handles queued requests, one at a time, a turn per connection, until none is ready.
        A call while one is being handled (KLayout processing events inside it) returns at
        once: the running loop takes the new request afterwards."""
        if self.busy:
            return
        self.busy = True
        try:
            handled = True
            while handled:
                handled = False
                for connection in list(self.connections):
                    if connection.ready():
                        handled = True
                        try:
                            connection.run_next()
                        except Exception as exc:  # a bug: answered, never raised into Qt
                            connection.refuse("INTERNAL", "%s: %s" % (type(exc).__name__, exc))
        finally:
            self.busy = False

    def dispatch(self, request, connection):
        """The reply to one v2 request; its result is a Later when it comes later."""
        return run(request.get("id"), lambda: self.call(request, connection))

    def call(self, request, connection):
        method = request.get("method")
        params = request.get("params") or {}
        if method not in METHODS:
            raise ViewerError("BAD_REQUEST", "unknown method %r" % (method,))
        if not isinstance(params, dict):
            raise ViewerError("BAD_REQUEST", "%s: params must be a JSON object" % method)
        self.check_trust(connection, method, params)
        check_params(method, params)
        if method == "hello":
            return self.hello()
        if method == "ping":
            return "pong"
        if method == "quit":
            result = self.viewer.quit(params)
            self.renderer.stop()  # no separate KLayout outlives the viewer
            return result
        return getattr(self.viewer, method)(params)

    def check_trust(self, connection, method, params):
        if connection.trusted:
            return
        if method == "hello" and self.token_matches(params.get("token")):
            connection.trusted = True
            return
        peer = connection.peer
        if peer == lyipc_access.REMOTE:
            raise ViewerError("UNAUTHORIZED", "this viewer accepts other machines only after hello with its token")
        if peer == lyipc_access.UNKNOWN:
            raise ViewerError("UNAUTHORIZED", "this viewer cannot tell which user connects on this system: say hello with the token in lyipc-token-%d in its KLAYOUT_HOME (lyipc's clients do)" % self.port)
        how = "; other users need hello with its token" if self.settings.get("token") else ""
        raise ViewerError("UNAUTHORIZED", self.other_user(connection) + how)

    def token_matches(self, token):
        if not isinstance(token, str):
            return False
        given = token.encode("utf-8")
        return any(bool(expected) and hmac.compare_digest(given, str(expected).encode("utf-8")) for expected in (self.settings.get("token"), self.session_token))

    def hello(self):
        return {
            "protocol": PROTOCOL,
            "lyipc": VERSION,
            "klayout": self.viewer.klayout_version,
            # Lets a client on loopback tell this machine from the far end of an SSH tunnel.
            "machine": gethostname(),
            "methods": list(METHODS),
            "capabilities": {"upload": self.cache.quota, "klive": self.klive_port, "token": bool(self.settings.get("token"))},
        }

    def begin_upload(self, request, connection):
        """The Upload that takes the bytes following the request line."""
        params = request.get("params")
        if not isinstance(params, dict):
            raise ViewerError("BAD_REQUEST", "upload: params must be a JSON object")
        self.check_trust(connection, "upload", params)
        check_params("upload", params)
        return self.cache.begin(request.get("id"), str(params.get("name") or "layout.gds"), params["size"], params)

    def finish_upload(self, upload):
        """The reply to an upload whose bytes are all in (docs/protocol.md: store, reload, load)."""
        return run(upload.request_id, lambda: self.place_upload(upload))

    def place_upload(self, upload):
        params = upload.params
        source = params.get("source")
        earlier = self.sources.get(source) if source else None
        if params.get("store"):
            result = {"path": upload.path}
        elif params.get("reload") and earlier and self.viewer.views_showing(earlier):
            # New bytes for a file on show: they take its place, its cellviews reload in place.
            os.replace(upload.path, earlier)
            result = {"path": earlier, "reloaded": self.viewer.reload_file(earlier)}
        else:
            load = dict((k, v) for k, v in params.items() if k not in ("name", "size", "source", "store", "reload"))
            load["path"] = upload.path
            result = dict(self.viewer.load(load), path=upload.path)
        if source:
            self.sources[source] = result["path"]
        return result


def running_server():
    """The server this KLayout runs already, if any: installed and started from the menu or at
    start-up (TOGGLE, lyipc_menu), or started by lyipc_boot (SERVER)."""
    toggle = globals().get("TOGGLE")
    if toggle is not None and toggle.server is not None:
        return toggle.server
    return globals().get("SERVER")
