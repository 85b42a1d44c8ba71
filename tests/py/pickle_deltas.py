"""Real deepdiff Deltas for mu-serverd/tests/pickle_deltas.rs, from whichever deepdiff the
running venv has (8.1.1 in .venv, 5.7.0 in .venv-dd57: the OrderedDictPlus dialect).

Framed stdin/stdout (4-byte big-endian length + bytes): writes N then N `Delta.dumps()`; reads
N re-encodings made by Rust from the decoded values; checks each loads with deepdiff's own
restricted loader (`Delta(bytes)`), has the same `diff`, and applies to the same result; prints
"ok N <deepdiff version>" or "FAIL ..." lines.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pickle_describe import describe  # noqa: E402

import deepdiff  # noqa: E402
from deepdiff import DeepDiff, Delta  # noqa: E402


def write(out, b):
    out.write(struct.pack('>I', len(b)))
    out.write(b)


def read(inp):
    (n,) = struct.unpack('>I', inp.read(4))
    return inp.read(n)


BASE = {
    'name': 'Cube', 'location': [1.0, 2.0, 3.0], 'ints': list(range(1, 9)), 'parent': None,
    'tags': {'a', 'b'}, 'mods': {'Subsurf': {'levels': 2}}, 'color': (1.0, 0.5, 0.0, 1.0),
    'blob': b'\x00\x01\x02', 'big': 5, 'pass_index': 0, 'flag': True,
}


def variants():
    yield dict(BASE, location=[1.0, 2.5, 3.0])
    yield dict(BASE, parent='Empty')
    yield dict(BASE, parent=None, name=None)
    yield dict(BASE, ints=[1, 3, 5, 7])
    yield dict(BASE, ints=[0] + BASE['ints'] + [9, 10])
    yield dict(BASE, tags={'b', 'c', 'd'})
    yield dict(BASE, mods={'Subsurf': {'levels': 3, 'quality': 1}, 'Bevel': {'width': 0.1}})
    yield {k: v for k, v in BASE.items() if k != 'blob'}
    yield dict(BASE, big=2**70, pass_index=0.0, flag=1)
    yield dict(BASE, color=[1.0, 0.5, 0.0, 1.0], blob='text')
    yield dict(BASE, location=(1.0, 2.0, 3.0), name='Cube \udcff')
    yield [1, 2, 3]


def main():
    out, inp = sys.stdout.buffer, sys.stdin.buffer
    cases = [(BASE, new) for new in variants()]
    deltas = [Delta(DeepDiff(a, b, cache_size=5000)) for a, b in cases]
    write(out, str(len(deltas)).encode())
    for d in deltas:
        write(out, d.dumps())
    out.flush()
    failures = []
    for i, ((a, _), orig) in enumerate(zip(cases, deltas)):
        raw = read(inp)
        try:
            got = Delta(raw)
        except Exception as e:  # noqa: BLE001
            failures.append('%d: deepdiff refuses the Rust encoding: %r' % (i, e))
            continue
        if got.diff != orig.diff:
            failures.append('%d: diff %r != %r' % (i, got.diff, orig.diff))
        elif describe(a + got, True) != describe(a + orig, True):
            failures.append('%d: applying gives another result' % i)
    if failures:
        for f in failures:
            print('FAIL', f)
    else:
        print('ok', len(deltas), deepdiff.__version__)
    sys.stdout.flush()


if __name__ == '__main__':
    main()
