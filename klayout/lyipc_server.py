"""lyipc viewer server, inside the KLayout GUI: TCP on 127.0.0.1:11078 (docs/protocol.md).

Never blocks the GUI: Qt signals deliver bytes as they arrive, each connection buffers its
own, and a line is handled only when complete. A slow or silent client holds nothing but its
own buffer, which is capped, and is dropped after an idle timeout. The first line decides the
protocol: a JSON object is v2 (many requests per connection), anything else is the original
one-line lyipc protocol (v1)."""

import json
import os
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pya  # noqa: E402

from lyipc_errors import answer  # noqa: E402
from lyipc_v1 import handle_line  # noqa: E402
from lyipc_viewer import Viewer, ViewerError  # noqa: E402

PROTOCOL = 2
DEFAULT_PORT = 11078
MAX_LINE = 1024 * 1024  # bytes of one request line
V1_IDLE_MS = 10 * 1000
V2_IDLE_MS = 10 * 60 * 1000
# After refusing a request the rest of it is read and dropped for this long before closing:
# closing with unread bytes makes TCP reset the connection, and the client may lose the reply.
DRAIN_MS = 500
METHODS = ("hello", "ping", "load", "upload", "reload", "status", "screenshot", "markers", "zoom", "close", "show_diff")
MAX_UPLOAD = 4 * 1024 ** 3  # bytes of one uploaded layout


class Connection:
    def __init__(self, server, socket):
        self.server = server
        self.socket = socket
        self.buffer = b""
        self.protocol = None
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
        if self.draining:
            self.socket.readAll()
            self.timer.start(DRAIN_MS)
            return
        if self.closing:
            return
        self.buffer += bytes(self.socket.readAll())
        self.timer.start(V2_IDLE_MS if self.protocol == "v2" else V1_IDLE_MS)
        while not self.closing:
            if self.upload is not None:
                # Raw bytes go straight to the file; what follows them is the next request.
                self.buffer = self.upload.take(self.buffer)
                if not self.upload.complete:
                    return
                upload, self.upload = self.upload, None
                self.reply(self.server.finish_upload(upload))
                continue
            if b"\n" not in self.buffer:
                break
            line, self.buffer = self.buffer.split(b"\n", 1)
            self.handle(line)
        if not self.closing and len(self.buffer) > MAX_LINE:
            self.refuse("request line longer than %d bytes" % MAX_LINE)

    def handle(self, line):
        if self.protocol is None:
            self.protocol = "v2" if line.lstrip().startswith(b"{") else "v1"
        if self.protocol == "v1":
            self.send(handle_line(line, self.server.viewer))
            self.close()
            return
        if not line.strip():
            return
        reply = self.server.dispatch(line)
        if isinstance(reply, Upload):
            self.upload = reply  # answered once its bytes are in
            return
        self.reply(reply)

    def reply(self, obj):
        self.send((json.dumps(obj, separators=(",", ":")) + "\n").encode("utf-8"))

    def refuse(self, message):
        if self.protocol == "v2":
            self.send((json.dumps({"id": None, "ok": False, "error": {"code": "BAD_REQUEST", "message": message}}) + "\n").encode("utf-8"))
        else:
            self.send(("ERR " + repr(message)).encode("utf-8"))
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

    def gone(self):
        self.timer.stop()
        if self.upload is not None:
            self.upload.discard()  # the client went away mid-upload: no half file stays
            self.upload = None
        self.server.forget(self)


class Upload:
    """The raw bytes of one uploaded layout, written to a hidden temporary file as they
    arrive and renamed to a unique name in the server's cache folder when complete."""

    def __init__(self, request_id, folder, name, size, params):
        self.request_id = request_id
        self.params = params
        base = os.path.basename(name.replace("\\", "/")) or "layout.gds"
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
    def __init__(self, port=None, host="127.0.0.1"):
        self.port = int(port or os.environ.get("LYIPC_PORT") or DEFAULT_PORT)
        self.host = host
        self.viewer = Viewer()
        self.connections = []
        # Uploaded layouts: kept for the session so that reload still finds them.
        self.cache = os.path.join(tempfile.gettempdir(), "lyipc-uploads-%d" % os.getpid())
        self.tcp = pya.QTcpServer()
        self.tcp.newConnection(self.accept)

    def start(self):
        if not self.tcp.listen(pya.QHostAddress(self.host), self.port):
            raise RuntimeError("lyipc server: cannot listen on %s:%d: %s" % (self.host, self.port, self.tcp.errorString()))
        return self

    def stop(self):
        self.tcp.close()
        for connection in list(self.connections):
            connection.socket.abort()
        self.connections = []

    @property
    def listening(self):
        return self.tcp.isListening()

    def accept(self):
        while self.tcp.hasPendingConnections():
            # Kept in a list: a socket Python no longer references is collected.
            self.connections.append(Connection(self, self.tcp.nextPendingConnection()))

    def forget(self, connection):
        if connection in self.connections:
            self.connections.remove(connection)

    def dispatch(self, line):
        """The reply to one v2 line, or an Upload when raw bytes follow."""
        try:
            request = json.loads(line.decode("utf-8"))
        except ValueError:
            request = None
        if isinstance(request, dict) and request.get("method") == "upload":
            try:
                return self.begin_upload(request)
            except ViewerError as exc:
                return {"id": request.get("id"), "ok": False, "error": exc.to_json()}
        return answer(line, self.call)

    def begin_upload(self, request):
        params = request.get("params") or {}
        size = params.get("size")
        if not isinstance(size, int) or not 0 < size <= MAX_UPLOAD:
            raise ViewerError("BAD_REQUEST", "upload: size must be a byte count from 1 to %d" % MAX_UPLOAD)
        if not os.path.isdir(self.cache):
            os.makedirs(self.cache)
        return Upload(request.get("id"), self.cache, str(params.get("name") or "layout.gds"), size, params)

    def finish_upload(self, upload):
        """Loads a completely received upload as `load` would load that file."""
        params = dict(upload.params, path=upload.path)
        params.pop("size", None)
        params.pop("name", None)
        return answer(json.dumps({"id": upload.request_id, "method": "load", "params": params}).encode("utf-8"),
                      lambda request: dict(self.call(request), path=upload.path))

    def call(self, request):
        method = request.get("method")
        params = request.get("params") or {}
        if method not in METHODS or not isinstance(params, dict):
            raise ViewerError("BAD_REQUEST", "unknown method %r" % method)
        if method == "hello":
            return {"protocol": PROTOCOL, "klayout": self.viewer.app.version().split()[-1], "methods": list(METHODS)}
        if method == "ping":
            return "pong"
        return getattr(self.viewer, method)(params)
