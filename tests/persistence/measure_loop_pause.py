"""Measurement, not a test (speed is never asserted): the longest event-loop pause a client sees
while mu-ctl save / export / reset / import run on a session of N nodes.

A raw client sends RQ_INFO back to back (one outstanding, 1 ms apart) and records every round
trip; a request that arrives while the loop is held waits for the whole pause, so the longest
round trip during an operation is the loop's longest pause (plus one ordinary round trip, shown
as the baseline; `status` is a control that costs the loop nothing). On a loaded 2-core machine
a busy worker thread also delays the loop's thread, so the daemon's own figure (debug log line
`control: NAME held the event loop N us`) is printed too. Run against two builds to compare:

    MU_SERVERD_BIN=.../release/mu-serverd MU_CTL_BIN=.../release/mu-ctl \\
        .venv/bin/python tests/persistence/measure_loop_pause.py --nodes 10000 --rounds 5

Figures are quoted in docs/persistence.md.
"""

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import Daemon, helpers  # noqa: E402
from replication.objects import Node  # noqa: E402
from replication.repository import Repository  # noqa: E402


def session_file(stem, n):
    repo = Repository()
    for i in range(n):
        data = {"name": f"Object.{i:05}", "type_id": "Object", "location": [1.0, 2.0, 3.0],
                "verts": [(float(k), float(i), -1.5) for k in range(40)],
                "props": {"visible": True, "pass_index": i}}
        node = Node(owner="COMMON", uuid=f"{i:08}-0000-4000-8000-000000000000", data=data)
        repo.object_store[node.uuid] = node
    repo.dumps(str(stem))
    return str(next(stem.parent.glob(stem.stem + "_*" + stem.suffix)))


class Pinger(threading.Thread):
    def __init__(self, port):
        super().__init__(daemon=True)
        self.raw = helpers.Raw(port)
        self.rtts = []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            t = time.monotonic()
            self.raw.send("cmd", helpers.frames_cmd(14, "RQ_INFO", owner="guest"))
            if self.raw.recv_cmd(14, 10_000) is None:
                self.rtts.append(10.0)
            self.rtts.append(time.monotonic() - t)
            time.sleep(0.001)
        self.raw.close()


def held_us(d, start):
    """Microseconds the daemon reports control requests held its loop, in log lines after
    `start` (builds with the `held the event loop` debug line only)."""
    total = 0
    for line in d.log()[start:].splitlines():
        if "held the event loop" in line:
            total += int(line.rsplit(" ", 2)[-2])
    return total


def during(d, *ctl_args):
    mark = len(d.log())
    p = Pinger(d.port)
    p.start()
    time.sleep(0.2)
    base = max(p.rtts)
    n0 = len(p.rtts)
    t = time.monotonic()
    d.ctl(*ctl_args)
    took = time.monotonic() - t
    time.sleep(0.2)
    p.stop.set()
    p.join(15)
    return max(p.rtts[n0:]) * 1000, base * 1000, took * 1000, held_us(d, mark) / 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mu-pause-"))
    try:
        path = session_file(tmp / "session.db", args.nodes)
        d = Daemon(tmp)
        d.start()
        d.ctl("import", path)
        results = {k: [] for k in ("status", "save", "export", "reset", "import")}
        for r in range(args.rounds):
            results["status"].append(during(d, "status"))
            results["save"].append(during(d, "save"))
            results["export"].append(during(d, "export", str(tmp / f"out-{r}.db")))
            results["reset"].append(during(d, "reset", "--yes"))
            results["import"].append(during(d, "import", path))
        d.stop()
        print(f"{args.nodes} nodes, {args.rounds} rounds; longest round trip during the command "
              f"(median / max over rounds), baseline before it, command duration, and the loop "
              f"time the daemon reports for the command (median / max; 0 if it does not log it)")
        for k, v in results.items():
            pauses = [x[0] for x in v]
            print(f"  {k:7s} pause {statistics.median(pauses):7.1f} / {max(pauses):7.1f} ms   "
                  f"baseline {statistics.median(x[1] for x in v):5.1f} ms   "
                  f"command {statistics.median(x[2] for x in v):7.1f} ms   "
                  f"held {statistics.median(x[3] for x in v):6.2f} / {max(x[3] for x in v):6.2f} ms")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
