"""CPython side of the codec benchmark (mu-serverd/benches/codec.rs).

    python pickle_bench.py SEED ITERATIONS ROUNDS

Builds a realistic ~64 KiB Blender node (a dict of lists of floats, a bytes blob, nested
dicts of names and settings), pickles it with protocol 4 like replication does, times the C
`_pickle` `loads` and `dumps` on it (best of ROUNDS rounds of ITERATIONS), and writes to stdout:
one line "cpython <version> loads_us <x> dumps_us <y>" then the pickle bytes (hex) on the
second line.
"""
import pickle
import random
import sys
import timeit


def node(seed):
    r = random.Random(seed)
    data = {
        'name': 'Cube.001',
        'type': 'MESH',
        'location': [r.uniform(-10, 10) for _ in range(3)],
        'rotation_euler': [r.uniform(-3.2, 3.2) for _ in range(3)],
        'scale': [1.0, 1.0, 1.0],
        'matrix_world': [[r.uniform(-1, 1) for _ in range(4)] for _ in range(4)],
        'modifiers': {
            'Subsurf': {'levels': 2, 'render_levels': 3, 'quality': 3, 'show_viewport': True},
            'Bevel': {'width': 0.02, 'segments': 3, 'limit_method': 'ANGLE', 'angle_limit': 0.5236},
        },
        'vertex_groups': [{'name': 'Group.%03d' % i, 'index': i, 'lock_weight': False} for i in range(20)],
        'uv_layers': {'UVMap': {'active': True, 'active_render': True}},
        'vertices_co': [r.uniform(-1, 1) for _ in range(3600)],
        'normals': [r.uniform(-1, 1) for _ in range(1800)],
        'edges_blob': r.randbytes(12000),
        'material_slots': [{'name': 'Material.%03d' % i, 'link': 'OBJECT'} for i in range(8)],
        'custom_properties': {'note': 'surrogate-free text', 'count': 42, 'weights': [0.5] * 100},
        'parent': None,
        'hide_viewport': False,
    }
    return data


def main():
    seed, n, rounds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    data = node(seed)
    blob = pickle.dumps(data, protocol=4)
    assert pickle.loads.__module__ == '_pickle', 'the C implementation must be measured'
    loads = min(timeit.repeat(lambda: pickle.loads(blob), number=n, repeat=rounds)) / n
    dumps = min(timeit.repeat(lambda: pickle.dumps(data, protocol=4), number=n, repeat=rounds)) / n
    print('cpython %s loads_us %.3f dumps_us %.3f' % (sys.version.split()[0], loads * 1e6, dumps * 1e6))
    print(blob.hex())


if __name__ == '__main__':
    main()
