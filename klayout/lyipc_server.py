"""lyipc viewer server, inside the KLayout GUI: TCP on 127.0.0.1:11078 (docs/protocol.md).

Never blocks the GUI: Qt signals deliver bytes as they arrive, each connection buffers its
own, and a line is handled only when complete. A slow or silent client holds nothing but its
own buffer, which is capped, and is dropped after an idle timeout. The first line decides the
protocol: a JSON object is v2 (many requests per connection), anything else is the original
one-line lyipc protocol (v1). An optional second port answers klive's protocol (lyipc_klive)."""

import hmac
import json
import os
import re
import shutil
from socket import gethostname
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pya

import lyipc_settings
from lyipc_errors import answer, run
from lyipc_klive import handle_klive
from lyipc_params import check_params
from lyipc_v1 import handle_line
from lyipc_version import VERSION
from lyipc_viewer import Viewer, ViewerError

PROTOCOL = 2
MAX_LINE = 1024 * 1024  # bytes of one request line
MAX_CONNECTIONS = 64  # at once; bounds what a flood of connections can hold
V1_IDLE_MS = 10 * 1000  # from connecting to the one v1 line, complete
LINE_MS = 10 * 1000  # from the first byte of a v2 line to its end
V2_IDLE_MS = 10 * 60 * 1000
# After refusing a request the rest of it is read and dropped for this long before closing:
# closing with unread bytes makes TCP reset the connection, and the client may lose the reply.
DRAIN_MS = 500
METHODS = ("hello", "ping", "load", "upload", "reload", "status", "screenshot", "markers", "zoom", "close", "show_diff", "quit")
MAX_UPLOAD = 4 * 1024 ** 3  # bytes of one uploaded layout
UPLOADS_PREFIX = "lyipc-uploads-"


class Connection:
    def __init__(self, server, socket, protocol=None):
        self.server = server
        self.socket = socket
        self.buffer = b""
        self.protocol = protocol  # "klive" on the klive port; else decided by the first line
        # Peers on this machine are trusted (as with any loopback service); others must say
        # hello with the token first.
        self.trusted = socket.peerAddress().isLoopback()
        self.closing = False
        self.draining = False
        self.upload = None  # an Upload while the raw bytes of one are arriving
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

    def take_bytes(self):
        if self.draining:
            self.socket.readAll()
            self.timer.start(DRAIN_MS)
            return
        if self.closing:
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
                self.reply(self.server.finish_upload(upload))
                continue
            if b"\n" not in self.buffer:
                break
            line, self.buffer = self.buffer.split(b"\n", 1)
            lines += 1
            self.handle(line)
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

    def handle(self, line):
        if self.protocol is None:
            self.protocol = "v2" if line.lstrip().startswith(b"{") else "v1"
        if self.protocol == "klive":
            self.send(handle_klive(line, self.server.viewer))
            self.close()
        elif self.protocol == "v1":
            if not self.trusted and not self.server.settings["allowRemoteV1"]:
                self.refuse("UNAUTHORIZED", "lyipc: the v1 protocol is accepted from this machine only; "
                            "use v2 with the token, or set allowRemoteV1 in lyipc.json")
                return
            self.send(handle_line(line, self.server.viewer))
            self.close()
        elif line.strip():
            reply = self.server.dispatch(line, self)
            if isinstance(reply.get("result"), Upload):
                self.upload = reply["result"]  # answered once its bytes are in
            else:
                self.reply(reply)
                if not self.trusted:
                    self.drain_and_close()  # a peer without the token gets one answer

    def reply(self, obj):
        self.send((json.dumps(obj, separators=(",", ":")) + "\n").encode("utf-8"))

    def refuse(self, code, message):
        """An error in the connection's protocol, then the connection is closed."""
        if self.protocol == "v2":
            self.reply({"id": None, "ok": False, "error": {"code": code, "message": message}})
        elif self.protocol == "klive":
            self.send(json.dumps({"type": "error", "error": message}).encode("utf-8"))
        else:
            self.send(("ERR " + repr(message)).encode("utf-8"))
        self.drain_and_close()

    def drain_and_close(self):
        self.buffer = b""
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
        self.server.forget(self)


class Upload:
    """The raw bytes of one uploaded layout, written to a hidden temporary file as they
    arrive and renamed to a unique name in the server's cache folder when complete."""

    def __init__(self, request_id, folder, name, size, params):
        self.request_id = request_id
        self.params = params
        base = re.sub(r"[^\w.+-]", "_", os.path.basename(name.replace("\\", "/"))).lstrip(".") or "layout.gds"
        self.path = os.path.join(folder, "%s-%s" % (uuid.uuid4().hex[:12], base))
        self.temp = os.path.join(folder, ".%s.part" % os.path.basename(self.path))
        self.remaining = size
        self.file = open(self.temp, "wb")

    @property
    def complete(self):
        return self.remaining == 0

    def take(self, data):
        """Writes what belongs to this upload; returns the rest."""
        part, rest = data[:self.remaining], data[self.remaining:]
        self.file.write(part)
        self.remaining -= len(part)
        if self.complete:
            self.file.close()
            os.rename(self.temp, self.path)
        return rest

    def discard(self):
        self.file.close()
        if os.path.exists(self.temp):
            os.remove(self.temp)


class Server:
    def __init__(self, settings=None):
        """`settings` as lyipc_settings.load() gives them (the default reads them)."""
        self.settings = settings if settings is not None else lyipc_settings.load()
        self.host = self.settings["host"]
        self.port = self.settings["port"]
        self.viewer = Viewer()
        self.connections = []
        self.listeners = []
        self.klive_port = None
        self.klive_error = None
        # Uploaded layouts: kept for the session so that reload still finds them.
        self.cache = os.path.join(tempfile.gettempdir(), "%s%d" % (UPLOADS_PREFIX, os.getpid()))
        self.sources = {}  # an upload's `source` (the client's name for the file) -> its path here

    def start(self):
        self.listen(self.host, self.port, None)
        if self.settings["klive"]:
            try:
                self.listen("127.0.0.1", self.settings["klivePort"], "klive")
                self.klive_port = self.settings["klivePort"]
            except RuntimeError as exc:
                self.klive_error = str(exc)  # klive itself may hold the port: lyipc still serves
        remove_stale_caches()
        return self

    def listen(self, host, port, protocol):
        tcp = pya.QTcpServer()
        handler = lambda: self.accept(tcp, protocol)
        tcp.newConnection(handler)
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

    def accept(self, tcp, protocol):
        while tcp.hasPendingConnections():
            socket = tcp.nextPendingConnection()
            if len(self.connections) >= MAX_CONNECTIONS:
                socket.abort()
                continue
            # Kept in a list: a socket Python no longer references is collected.
            self.connections.append(Connection(self, socket, protocol))

    def forget(self, connection):
        if connection in self.connections:
            self.connections.remove(connection)

    def dispatch(self, line, connection):
        """The reply to one v2 line; its result is an Upload when raw bytes follow."""
        return answer(line, lambda request: self.call(request, connection))

    def call(self, request, connection):
        method = request.get("method")
        params = request.get("params") or {}
        if method not in METHODS:
            raise ViewerError("BAD_REQUEST", "unknown method %r" % method)
        if not isinstance(params, dict):
            raise ViewerError("BAD_REQUEST", "%s: params must be a JSON object" % method)
        if not connection.trusted:
            if method != "hello" or not self.token_matches(params.get("token")):
                raise ViewerError("UNAUTHORIZED", "this viewer accepts other machines only after hello with its token")
            connection.trusted = True
        check_params(method, params)
        if method == "hello":
            return self.hello()
        if method == "ping":
            return "pong"
        if method == "upload":
            return self.begin_upload(request)
        if method == "quit":
            return self.viewer.quit(params)
        return getattr(self.viewer, method)(params)

    def token_matches(self, token):
        expected = self.settings.get("token")
        return bool(expected) and isinstance(token, str) and hmac.compare_digest(token.encode("utf-8"), str(expected).encode("utf-8"))

    def hello(self):
        return {
            "protocol": PROTOCOL,
            "lyipc": VERSION,
            "klayout": self.viewer.klayout_version,
            # Lets a client on loopback tell this machine from the far end of an SSH tunnel.
            "machine": gethostname(),
            "methods": list(METHODS),
            "capabilities": {"upload": MAX_UPLOAD, "klive": self.klive_port, "token": bool(self.settings.get("token"))},
        }

    def begin_upload(self, request):
        params = request.get("params") or {}
        size = params.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= MAX_UPLOAD:
            raise ViewerError("BAD_REQUEST", "upload: size must be a byte count from 1 to %d" % MAX_UPLOAD)
        if not os.path.isdir(self.cache):
            os.makedirs(self.cache)
        return Upload(request.get("id"), self.cache, str(params.get("name") or "layout.gds"), size, params)

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


def remove_stale_caches():
    """Upload folders of KLayout processes that are gone (POSIX only: os.kill(pid, 0) probes)."""
    if os.name != "posix":
        return
    folder = tempfile.gettempdir()
    for name in os.listdir(folder):
        if not name.startswith(UPLOADS_PREFIX) or not name[len(UPLOADS_PREFIX):].isdigit():
            continue
        try:
            os.kill(int(name[len(UPLOADS_PREFIX):]), 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(folder, name), ignore_errors=True)
        except OSError:
            pass  # alive, another user's
