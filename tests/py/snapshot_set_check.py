"""Oracle for mu-serverd/tests/objects_snapshot_python.rs: for each case read the node frames,
the Snapshot SET pickle the old Value encoder wrote, and the one `build_snapshot_set` writes
directly; check with CPython that both load to the same value, that it equals the dict the
reference server builds from those frames, and that the client's own
`ReplicationObject.from_raw_chunks(DATA)` rebuilds the node. Answers "ok" or what differs."""
import pickle
import struct
import sys

from replication.objects import ReplicationObject


def read_msg(r):
    head = r.read(4)
    if len(head) < 4:
        raise SystemExit("input closed early")
    (n,) = struct.unpack(">I", head)
    return r.read(n)


def write_msg(w, b):
    w.write(struct.pack(">I", len(b)) + b)
    w.flush()


def check(frames, old, new, parse_node):
    want = {'STATE': 'SET', 'DATA': list(frames)}
    got_old = pickle.loads(old)
    got_new = pickle.loads(new)
    for name, got in (("old", got_old), ("new", got_new)):
        if type(got) is not dict or list(got) != ['STATE', 'DATA']:
            return f"{name}: not a dict with keys STATE, DATA: {got!r:.200}"
        if type(got['STATE']) is not str or type(got['DATA']) is not list:
            return f"{name}: wrong types {type(got['STATE'])} {type(got['DATA'])}"
        if any(type(x) is not bytes for x in got['DATA']):
            return f"{name}: a DATA item is not bytes"
        if got != want:
            return f"{name}: loads to {got!r:.200}, want {want!r:.200}"
    if got_new != got_old:
        return "old and new differ"
    # the reference's own pickle of the same dict loads to the same value too
    if pickle.loads(pickle.dumps(want, protocol=4)) != got_new:
        return "differs from CPython's own pickle of the dict"
    if parse_node:
        node = ReplicationObject.from_raw_chunks(got_new['DATA'])
        if node.uuid != frames[1].decode() or node.owner != frames[2].decode():
            return f"from_raw_chunks: uuid/owner {node.uuid!r} {node.owner!r}"
        if node.data != pickle.loads(frames[4]) or node.dependencies != pickle.loads(frames[3]):
            return "from_raw_chunks: data/deps differ"
    return "ok"


def main():
    r, w = sys.stdin.buffer, sys.stdout.buffer
    n = int(read_msg(r))
    for _ in range(n):
        count = int(read_msg(r))
        frames = [read_msg(r) for _ in range(count)]
        old = read_msg(r)
        new = read_msg(r)
        parse_node = read_msg(r) == b"node"
        try:
            answer = check(frames, old, new, parse_node)
        except Exception as e:  # the test reports it
            answer = f"{type(e).__name__}: {e}"
        write_msg(w, answer.encode())


main()
