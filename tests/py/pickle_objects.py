"""Real replication 0.9.10 objects for mu-serverd/tests/objects_python.rs.

    python pickle_objects.py

Framed stdin/stdout protocol (4-byte big-endian length + bytes per message):
 1. writes N, then per object: a header b"<type_num>\\t<uuid or ''>\\t<owner>\\t<what>", the
    frame count, the frames of `obj.as_raw_chunks()`, then the expected descriptions
    (pickle_describe.py, sets sorted) of deps and data (or b'' when the type has none);
 2. reads N frame lists the Rust side built from what it decoded, rebuilds each with
    `ReplicationObject.from_raw_chunks` and compares it with the original object
    (class, uuid, owner, dependencies, data; for a Commit the Delta's diff and the result of
    applying it to a base);
 3. prints "ok N" or "FAIL ..." lines.
"""
import io
import os
import pickle
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pickle_describe import describe  # noqa: E402

from deepdiff import DeepDiff, Delta  # noqa: E402
from replication import objects as o  # noqa: E402


def write(out, b):
    out.write(struct.pack('>I', len(b)))
    out.write(b)


def read(inp):
    (n,) = struct.unpack('>I', inp.read(4))
    return inp.read(n)


def node_data(i):
    return {
        'name': 'Cube.%03d' % i,
        'location': [1.0, -0.0, float(i)],
        'matrix_world': [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]],
        'modifiers': {'Subsurf': {'levels': 2, 'quality': 3}},
        'vertices': bytes(range(256)) * 4,
        'parent': None,
        'hide': False,
        'tags': ('a', 'b'),
        'big': 2**70,
        'label': 'surrogate \udcff ok',
    }


def commit(base, new, uuid):
    c = o.Commit()
    c.node_id = uuid
    c.deps = ['dep-1', 'dep-2']
    c.delta = Delta(DeepDiff(base, new, cache_size=5000))
    return c, base


def objects():
    n1 = o.Node(owner='alice', uuid='9c1a-node-1', data=node_data(1), dependencies=['dep-1'])
    n2 = o.Node(owner='COMMON', uuid='node-2', data=node_data(2), dependencies=None)
    base = node_data(3)
    new1 = dict(base, location=[2.5, 0.0, 3.0], parent='Empty', extra={'k': 1})
    new2 = dict(base, tags=None, hide=1.5)
    ints = {'ints': list(range(1, 9)), 'x': None}
    out = [
        (o.Auth(owner='alice', data={'AUTH_TYPE': 'CLIENT', 'AUTH_ID': 'alice', 'S_PWD': None,
                                      'A_PWD': None, 'VERSION': '0.9.10'}), None),
        (o.Auth(owner='server', data='LOBBY'), None),
        (o.Snapshot(owner='bob', data={'STATE': 'REQUEST_INIT'}), None),
        (o.Snapshot(owner='bob', data={'STATE': 'GET', 'ID': 'node-2'}), None),
        (o.Snapshot(owner='server', data={'STATE': 'SET', 'DATA': n1.as_raw_chunks()}), None),
        (o.Snapshot(owner='server', data={'STATE': 'INIT', 'CATALOG': ['9c1a-node-1', 'node-2']}), None),
        (o.ServerSnapshot(owner='alice', data={'STATE': 'INIT', 'SIZE': 2, 'NODES': ['9c1a-node-1', 'node-2']}), None),
        (o.ServerSnapshot(owner='alice', data={'STATE': 'SET', 'DATA': n2.as_raw_chunks()}), None),
        (n1, None),
        (n2, None),
        commit(base, new1, '9c1a-node-1'),
        commit(base, new2, 'node-2'),
        commit(ints, {'ints': [1, 3, 5, 7], 'x': 'now a str'}, 'node-3'),  # Opcode + NoneType
        (o.Right(owner='alice', data={'uuid': ['9c1a-node-1', 'node-2'], 'owner': 'alice'}), None),
        (o.Delete(owner='alice', data='node-2'), None),
        (o.UpdateUserMetadata(owner='alice', data={
            'view_corners': [[0.1, 0.2, 0.3]] * 4, 'view_matrix': [[1.0] * 4] * 4,
            'color': (1.0, 0.5, 0.0, 1.0), 'frame_current': 1, 'scene_current': 'Scene',
            'mode_current': 'OBJECT', 'selected_objects': {'Cube', 'Light', 'Camera'}}), None),
        (o.UpdateClientsState(owner='server', data={'alice': {
            'id': 'alice', 'admin': False, 'latency': 999, 'status': 10, 'metadata': {}}}), None),
        (o.Kick(owner='admin', data={'user': 'bob'}), None),
        (o.Disconnect(owner='server', data={'reason': 'kicked by admin'}), None),
        (o.RequestServerInfo(owner='client', data=None), None),
        (o.RequestServerInfo(owner='server', data={'private': False, 'version': '0.9.10'}), None),
        (o.Config(owner='server', data={}), None),
        (o.Command(owner='x', data=[1, 2]), None),
    ]
    return out


def header(obj):
    uuid = getattr(obj, 'uuid', None) or getattr(obj, 'node_id', None) or ''
    owner = getattr(obj, 'owner', '') or ''
    return ('%d\t%s\t%s\t%s' % (obj.type_num, uuid, owner, type(obj).__name__)).encode()


def main():
    out, inp = sys.stdout.buffer, sys.stdin.buffer
    objs = objects()
    write(out, str(len(objs)).encode())
    for obj, _ in objs:
        chunks = obj.as_raw_chunks()
        write(out, header(obj))
        write(out, str(len(chunks)).encode())
        for c in chunks:
            write(out, c)
        if isinstance(obj, o.Commit):
            write(out, describe(pickle.loads(chunks[2]), sort_sets=True).encode())
            write(out, b'')
        elif isinstance(obj, o.Node):
            write(out, describe(pickle.loads(chunks[3]), sort_sets=True).encode())
            write(out, describe(pickle.loads(chunks[4]), sort_sets=True).encode())
        else:
            write(out, b'')
            write(out, describe(pickle.loads(chunks[2]), sort_sets=True).encode())
    out.flush()
    failures = []
    for i, (orig, base) in enumerate(objs):
        n = int(read(inp))
        chunks = [read(inp) for _ in range(n)]
        try:
            got = o.ReplicationObject.from_raw_chunks(chunks)
        except Exception as e:  # noqa: BLE001
            failures.append('%d %s: from_raw_chunks raised %r' % (i, type(orig).__name__, e))
            continue
        problems = []
        if type(got) is not type(orig):
            problems.append('class %s' % type(got).__name__)
        if isinstance(orig, o.Commit):
            if got.node_id != orig.node_id or got.deps != orig.deps:
                problems.append('node_id/deps')
            if got.delta.diff != orig.delta.diff:
                problems.append('diff %r != %r' % (got.delta.diff, orig.delta.diff))
            if describe(base + got.delta, True) != describe(base + orig.delta, True):
                problems.append('applied result differs')
        elif isinstance(orig, o.Node):
            for f in ('uuid', 'owner'):
                if getattr(got, f) != getattr(orig, f):
                    problems.append(f)
            if describe(got.dependencies, True) != describe(orig.dependencies, True):
                problems.append('dependencies')
            if describe(got.data, True) != describe(orig.data, True):
                problems.append('data')
        else:
            if got.owner != orig.owner:
                problems.append('owner')
            if describe(got.data, True) != describe(orig.data, True):
                problems.append('data %r != %r' % (got.data, orig.data))
        if problems:
            failures.append('%d %s: %s' % (i, type(orig).__name__, '; '.join(problems)))
    if failures:
        for f in failures:
            print('FAIL', f)
    else:
        print('ok', len(objs))
    sys.stdout.flush()


if __name__ == '__main__':
    main()
