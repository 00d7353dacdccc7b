"""lyipc KLayout worker: run with `klayout -b -r worker.py`.

Reads one JSON request per line on stdin, answers one JSON line per request on stdout
(docs/worker-protocol.md). Lives as long as stdin is open, so one KLayout start-up serves
many jobs."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pya

from lyipc_process import die_with_parent

PROTOCOL = 1


def emit(obj):
    # os.write on fd 1: no Python buffering between us and the runner, whole lines only.
    data = (json.dumps(obj, separators=(",", ":")) + "\n").encode("utf-8")
    while data:
        data = data[os.write(1, data):]


def leave():
    """Exits at once: KLayout's own teardown takes ~0.3 s and there is nothing to save."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def klayout_version():
    return pya.Application.instance().version().split()[-1]


def main():
    die_with_parent()
    emit({
        "event": "ready",
        "protocol": PROTOCOL,
        "klayout": klayout_version(),
        "python": "%d.%d.%d" % sys.version_info[:3],
        "pid": os.getpid(),
    })
    # Imported after "ready" so a KLayout too old for them is still reported by version.
    from lyipc_errors import JobError, answer
    from lyipc_scratch import CONTEXT_COPIES, remove_stale
    from lyipc_pictures import run_render, run_render_diff
    from lyipc_xor import run_xor

    # Copies of a worker killed mid-read (a timeout, a memory cap) are removed by the next one.
    remove_stale(CONTEXT_COPIES)
    ops = {
        "hello": lambda params: {"protocol": PROTOCOL, "klayout": klayout_version(), "pid": os.getpid()},
        "xor": run_xor,
        "render": run_render,
        "render_diff": run_render_diff,
    }

    def run(request):
        op = request.get("op")
        if op == "shutdown":
            emit({"id": request.get("id"), "ok": True, "result": None})
            leave()
        if op not in ops:
            raise JobError("BAD_REQUEST", "unknown op '%s'" % op)
        started = time.time()
        result = ops[op](request)
        if isinstance(result, dict) and "timings" in result:
            result["timings"]["workerMs"] = int(round((time.time() - started) * 1000))
        return result

    stdin = sys.stdin.buffer
    while True:
        line = stdin.readline()
        if not line:
            leave()  # the runner closed stdin
        line = line.strip()
        if not line:
            continue
        emit(answer(line, run))

main()
