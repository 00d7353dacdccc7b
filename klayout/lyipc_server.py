"""lyipc viewer server, inside the KLayout GUI: TCP on 127.0.0.1:11078 (docs/protocol.md).

Never blocks the GUI: Qt signals deliver bytes as they arrive, each connection buffers its
own, and a line is handled only when complete. A slow or silent client holds nothing but its
own buffer, which is capped, and is dropped after an idle timeout. The first line decides the
protocol: a JSON object is v2 (many requests per connection), anything else is the original
one-line lyipc protocol (v1)."""

import json
import os
import sys

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
METHODS = ("hello", "ping", "load", "reload", "status", "screenshot", "markers", "zoom", "close")


class Connection:
    def __init__(self, server, socket):
        self.server = server
        self.socket = socket
        self.buffer = b""
        self.protocol = None
        self.closing = False
        self.draining = False
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
        while not self.closing and b"\n" in self.buffer:
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
        self.send((json.dumps(self.server.dispatch(line), separators=(",", ":")) + "\n").encode("utf-8"))

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
        self.server.forget(self)


class Server:
    def __init__(self, port=None, host="127.0.0.1"):
        self.port = int(port or os.environ.get("LYIPC_PORT") or DEFAULT_PORT)
        self.host = host
        self.viewer = Viewer()
        self.connections = []
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
        return answer(line, self.call)

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
