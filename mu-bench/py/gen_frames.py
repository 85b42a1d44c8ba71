"""Writes every message mu-bench sends, built by the real replication 0.9.10 objects and deepdiff.

mu-bench runs this once per invocation with the test venv's Python, so the benchmark sends exactly
the bytes an unmodified client would (CPython pickle protocol 4, deepdiff's own Delta.dumps()).
Per-client and per-node variations are made in Rust by replacing a same-length placeholder, so the
pickles stay valid byte for byte.

Output file: records of [u32 name length][name][u32 frame count]([u32 length][bytes])*,
little-endian. Usage: gen_frames.py OUT_FILE JOIN_COUNT [JOIN_COUNT...]
"""
import struct
import sys
import uuid

from deepdiff import DeepDiff, Delta
from replication import __version__
from replication.objects import (Auth, Commit, Node, ServerSnapshot, Snapshot,
                                 RequestServerInfo)

# Same-length placeholders the Rust side replaces (see mu-bench/src/frames.rs).
CLIENT_NAME = "bench-c000"
UUID_PLACEHOLDER = "ffffffff-ffff-4fff-bfff-ffffffffffff"
# Dependency uuid of every relayed Node/Commit; mu-bench writes a 12-digit sequence number over
# its last 12 characters per message, so receivers detect loss, duplication and reordering.
SEQ_UUID = "5e9e9e9e-0000-4000-8000-000000000000"

records = []


def add(name, chunks):
    for c in chunks:
        assert isinstance(c, bytes), (name, type(c))
    records.append((name, chunks))


def node_uuid(kind, i):
    """Deterministic uuid4-shaped ids so runs are comparable."""
    return str(uuid.UUID(int=(kind << 96) | i, version=4))


def object_dump(uid, pad_to=1024):
    """A Blender object datablock dump shaped like the addon's bl_object, about pad_to bytes."""
    data = {
        "name": "Cube.%05d" % (int(uid[-5:], 16) % 100000),
        "type_id": "bpy.types.Object",
        "uuid": uid,
        "location": [0.0, 1.5, -2.25],
        "rotation_mode": "XYZ",
        "rotation_euler": [0.0, 0.7853981633974483, 0.0],
        "scale": [1.0, 1.0, 1.0],
        "matrix_world": [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 1.5],
                         [0.0, 0.0, 1.0, -2.25], [0.0, 0.0, 0.0, 1.0]],
        "hide_viewport": False,
        "display_type": "TEXTURED",
        "parent_uid": None,
        "modifiers": {},
        "constraints": {},
        "vertex_groups": [],
        "data_uuid": node_uuid(9, 1),
        "custom_properties": "",
    }
    base = len(Node(owner="x", uuid=uid, data=data).as_raw_chunks()[4])
    data["custom_properties"] = "p" * max(0, pad_to - base - 3)
    return data


def float_dump(uid, count):
    """A mesh-like node: count floats (vertex coordinates), the 64 KiB case."""
    return {
        "name": "Mesh",
        "type_id": "bpy.types.Mesh",
        "uuid": uid,
        "vertices": [float(i) * 0.001 for i in range(count)],
    }


def delta_pair(old, new):
    """Real deepdiff 8.1.1 deltas old->new and new->old, as the client computes them."""
    fwd = Delta(DeepDiff(old, new, cache_size=5000))
    back = Delta(DeepDiff(new, old, cache_size=5000))
    assert old + fwd == new and new + back == old
    return fwd, back


def commit_chunks(uid, delta):
    c = Commit()
    c.node_id = uid
    c.deps = [SEQ_UUID]
    c.delta = delta
    return c.as_raw_chunks()


def server_snapshot_set(node):
    return ServerSnapshot(owner="server", data={"STATE": "SET", "DATA": node.as_raw_chunks()}).as_raw_chunks()


def dataset(name, nodes):
    """An upload (ServerSnapshot INIT, SET per node, END) of the given nodes."""
    keys = [n.uuid for n in nodes]
    add(f"{name}/init", ServerSnapshot(owner="server", data={
        "STATE": "INIT", "SIZE": len(keys), "NODES": keys}).as_raw_chunks())
    for i, n in enumerate(nodes):
        add(f"{name}/set/{i}", server_snapshot_set(n))
    add(f"{name}/end", ServerSnapshot(owner="server", data={"STATE": "END"}).as_raw_chunks())


def main():
    out = sys.argv[1]
    join_counts = [int(a) for a in sys.argv[2:]]

    add("auth", Auth(owner=CLIENT_NAME, data={
        "AUTH_TYPE": "CLIENT", "AUTH_ID": CLIENT_NAME, "S_PWD": None, "A_PWD": None,
        "VERSION": __version__}).as_raw_chunks())
    add("snap/request_init", Snapshot(owner=CLIENT_NAME, data={"STATE": "REQUEST_INIT"}).as_raw_chunks())
    add("snap/get", Snapshot(owner=CLIENT_NAME, data={"STATE": "GET", "ID": UUID_PLACEHOLDER}).as_raw_chunks())
    add("snap/done", Snapshot(owner=CLIENT_NAME, data={"STATE": "DONE"}).as_raw_chunks())
    add("server_info", RequestServerInfo(owner="client", data=None).as_raw_chunks())

    # Fan-out: one node per size, re-sent as a whole Node (what the addon does without deltas).
    u1 = node_uuid(1, 1)
    n1k = Node(owner=CLIENT_NAME, uuid=u1, data=object_dump(u1), dependencies=None)
    u64 = node_uuid(2, 1)
    n64k = Node(owner=CLIENT_NAME, uuid=u64, data=float_dump(u64, 7270), dependencies=None)
    dataset("fan1k", [n1k])
    dataset("fan64k", [n64k])
    for name, n in (("node/1k", n1k), ("node/64k", n64k)):
        add(name, Node(owner=n.owner, uuid=n.uuid, data=n.data, dependencies=[SEQ_UUID]).as_raw_chunks())

    # Commit fan-out: 4 changed values per commit, alternating forward and back.
    c1 = node_uuid(3, 1)
    old = object_dump(c1)
    new = {**old, "location": [0.25, 1.5, -2.0], "rotation_euler": [0.0, 0.5, 0.0],
           "scale": [2.0, 1.0, 1.0]}
    assert len(DeepDiff(old, new)["values_changed"]) == 4
    fwd, back = delta_pair(old, new)
    dataset("commit1k", [Node(owner=CLIENT_NAME, uuid=c1, data=old, dependencies=None)])
    add("commit/1k/fwd", commit_chunks(c1, fwd))
    add("commit/1k/back", commit_chunks(c1, back))

    c64 = node_uuid(4, 1)
    old = float_dump(c64, 8000)
    new = {**old, "vertices": list(old["vertices"])}
    for i in (10, 2000, 4000, 7999):
        new["vertices"][i] += 1.0
    assert len(DeepDiff(old, new)["values_changed"]) == 4
    fwd, back = delta_pair(old, new)
    dataset("commit64k", [Node(owner=CLIENT_NAME, uuid=c64, data=old, dependencies=None)])
    add("commit/64k/fwd", commit_chunks(c64, fwd))
    add("commit/64k/back", commit_chunks(c64, back))

    # Join / RSS datasets: n distinct 1 KiB object nodes.
    for n in join_counts:
        nodes = [Node(owner=CLIENT_NAME, uuid=node_uuid(5, i), data=object_dump(node_uuid(5, i)),
                      dependencies=None) for i in range(n)]
        dataset(f"join{n}", nodes)

    with open(out, "wb") as f:
        for name, chunks in records:
            nb = name.encode()
            f.write(struct.pack("<I", len(nb)) + nb + struct.pack("<I", len(chunks)))
            for c in chunks:
                f.write(struct.pack("<I", len(c)) + c)
    sizes = {k: sum(len(c) for c in v) for k, v in records if k.startswith(("node/", "commit/"))}
    print(" ".join(f"{k}={v}B" for k, v in sizes.items()), file=sys.stderr)


if __name__ == "__main__":
    main()
