"""Live CPython oracle for the Rust pickle codec (driven by mu-serverd/tests/pickle_differential.rs).

    python pickle_oracle.py roundtrip SEED COUNT

Protocol over stdin/stdout, every message framed as a 4-byte big-endian length + bytes:
 1. the oracle writes COUNT cases of three messages each:
      meta   b"<protocol> <plain:0|1>"  (plain: the pickle holds none of the opcodes that
             import or call; computed with pickletools, independently of the Rust policy)
      pickle the bytes CPython's pickle.dumps wrote
      desc   the type-exact description (pickle_describe.py, sets sorted) of what CPython
             loads back
 2. it then reads COUNT messages: the Rust encoding of each decoded value (empty if the Rust
    side could not decode it), loads each with the marker unpickler and compares its
    description with the expected one (sets compared order-insensitively);
 3. it prints one line "ok N" or "FAIL ..." lines, and exits.

Values are random (seeded): every plain kind, deep nesting, aliasing, surrogates, NaN payloads,
-0.0, 2**70, huge ints, lists/dicts/sets crossing the 1000-item batch, mixed-type dict keys,
and (low probability) inert objects: classes whose __reduce__ names os.system / builtins.open,
NEWOBJ, NEWOBJ_EX, BUILD, APPENDS/SETITEMS on objects, persistent ids.
"""
import io
import os
import pickle
import pickletools
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pickle_describe import PersId, Recorded, describe  # noqa: E402

# Names the marker unpickler really resolves: the builtins CPython uses to rebuild bytes,
# bytearray, set and frozenset at protocols 0-3 (the Rust side canonicalises the same calls).
PASS = {
    ('builtins', 'bytearray'), ('builtins', 'set'), ('builtins', 'frozenset'), ('builtins', 'bytes'),
    ('__builtin__', 'bytearray'), ('__builtin__', 'set'), ('__builtin__', 'frozenset'),
    ('__builtin__', 'bytes'), ('_codecs', 'encode'),
}


class MarkerMeta(type):
    def __call__(cls, *args, **kwargs):  # REDUCE
        return Recorded('R', cls, args)


def _marker_new(cls, *args, **kwargs):  # NEWOBJ / NEWOBJ_EX
    return Recorded('N', cls, args, kwargs or None)


_markers = {}


def marker(module, name):
    key = (module, name)
    if key not in _markers:
        _markers[key] = MarkerMeta('Marker', (), {'_mu_global': key, '__new__': _marker_new})
    return _markers[key]


class MarkerUnpickler(pickle.Unpickler):
    """Imports nothing outside PASS and calls nothing: globals become markers."""

    def find_class(self, module, name):
        if (module, name) in PASS:
            return super().find_class(module, name)
        return marker(module, name)

    def persistent_load(self, pid):
        return PersId(pid)


def marker_loads(data):
    return MarkerUnpickler(io.BytesIO(data)).load()


# ---- inert objects (only pickled here, never unpickled for real) ----

class Evil:
    def __init__(self, target, arg):
        self.target, self.arg = target, arg

    def __reduce__(self):
        return (self.target, (self.arg,))


class Thing:
    def __init__(self, state):
        self.state = state


class WithItems:
    def __init__(self, items, pairs):
        self.items, self.pairs = items, pairs

    def __reduce__(self):
        return (WithItems, (), None, iter(self.items), iter(self.pairs))


class Kw:
    def __init__(self, a, k):
        self.a, self.k = a, k

    def __getnewargs_ex__(self):
        return ((self.a,), {'k': self.k})

    def __reduce_ex__(self, proto):
        if proto < 4:
            return (Kw, (self.a, self.k))
        return object.__reduce_ex__(self, proto)


class PidPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if obj is type(None):
            return '<<NoneType>>'
        return None


# ---- random values ----

SPECIAL_FLOATS = [0.0, -0.0, float('inf'), float('-inf'), float('nan'), 5e-324, 1.7976931348623157e308,
                  struct.unpack('>d', bytes.fromhex('7ff0000000000001'))[0],
                  struct.unpack('>d', bytes.fromhex('fff8000000000abc'))[0]]
STRS = ['', 'a', 'name', '\udcff', '\ud800x', 'é', '日本', '\U0001F600', 'a\nb\\c\r\x1a\0', 'x' * 300]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.pool = []  # finished mutable containers, for aliasing

    def int(self):
        r = self.r
        c = r.randrange(8)
        if c == 0:
            return r.randrange(256)
        if c == 1:
            return r.randrange(65536)
        if c == 2:
            return r.randrange(-2**31, 2**31)
        if c == 3:
            return r.choice([2**70, -2**70, 2**63, -2**63, 2**63 - 1, -2**63 - 1, 2**64])
        if c == 4:
            return r.randrange(-2**200, 2**200)
        if c == 5 and r.random() < 0.1:
            return r.choice([1, -1]) * r.randrange(2**2100)  # LONG4
        return r.randrange(-2**62, 2**62)

    def float(self):
        r = self.r
        if r.random() < 0.3:
            return r.choice(SPECIAL_FLOATS)
        return struct.unpack('>d', r.randbytes(8))[0] if r.random() < 0.3 else r.uniform(-1e6, 1e6)

    def str(self):
        r = self.r
        if r.random() < 0.5:
            return r.choice(STRS)
        n = r.randrange(12)
        return ''.join(chr(r.choice([r.randrange(32, 127), r.randrange(0xa0, 0x800),
                                     r.randrange(0xd800, 0xe000), r.randrange(0x10000, 0x10ffff)]))
                       for _ in range(n))

    def key(self, depth):
        r = self.r
        c = r.randrange(10)
        if c < 4:
            return self.str()
        if c < 6:
            return self.int()
        if c == 6:
            return self.float()
        if c == 7:
            return r.choice([None, True, False, b'k', r.randbytes(3)])
        if c == 8 and depth > 0:
            return tuple(self.key(depth - 1) for _ in range(r.randrange(4)))
        return frozenset(self.key(0) for _ in range(r.randrange(3)))

    def scalar(self):
        r = self.r
        c = r.randrange(9)
        if c == 0:
            return r.choice([None, True, False])
        if c in (1, 2):
            return self.int()
        if c in (3, 4):
            return self.float()
        if c in (5, 6):
            return self.str()
        if c == 7:
            return r.randbytes(r.choice([0, 1, 5, 255, 256, 300]))
        return bytearray(r.randbytes(r.randrange(4)))

    def inert(self, depth):
        r = self.r
        c = r.randrange(6)
        if c == 0:
            return Evil(os.system, 'echo pwned')
        if c == 1:
            return Evil(open, '/etc/passwd')
        if c == 2:
            return Thing(self.value(depth - 1))
        if c == 3:
            return WithItems([self.value(depth - 1)], [(self.key(1), self.value(depth - 1))])
        if c == 4:
            return Kw(self.int(), self.str())
        return r.choice([int, len, os.path.join, type(None)])

    def value(self, depth):
        r = self.r
        if depth <= 0 or r.random() < 0.35:
            return self.scalar()
        if self.pool and r.random() < 0.08:
            return r.choice(self.pool)
        if r.random() < 0.03:
            return self.inert(depth)
        if r.random() < 0.06:
            # Homogeneous vectors, as Blender data has (the decoder's batch fast path).
            n = r.choice([2, 3, 4, 16, 999, 1000, 1001, 2500])
            make = r.choice([self.float, lambda: r.randrange(256), lambda: r.randrange(-5, 300)])
            v = [make() for _ in range(n)]
            self.pool.append(v)
            return v
        c = r.randrange(5)
        n = r.randrange(6)
        if r.random() < 0.02:
            # Crosses the 1000-item batches; flat, so sizes stay bounded.
            n = r.randrange(995, 2600)
            depth = 1
        if c == 0:
            v = [self.value(depth - 1) for _ in range(n)]
        elif c == 1:
            return tuple(self.value(depth - 1) for _ in range(n))
        elif c == 2:
            v = {}
            for _ in range(n):
                v[self.key(2)] = self.value(depth - 1)
        elif c == 3:
            v = {self.key(1) for _ in range(n)}
        else:
            return frozenset(self.key(1) for _ in range(n))
        self.pool.append(v)
        return v

    def case(self):
        r = self.r
        self.pool = []
        if r.random() < 0.02:
            v = self.scalar()
            for _ in range(r.randrange(50, 250)):  # deep, below the decoder's 256
                v = r.choice([lambda x: [x], lambda x: (x,), lambda x: {'k': x}])(v)
            return v
        return self.value(r.randrange(1, 6))


NON_PLAIN = {'GLOBAL', 'STACK_GLOBAL', 'REDUCE', 'NEWOBJ', 'NEWOBJ_EX', 'BUILD', 'INST', 'OBJ',
             'PERSID', 'BINPERSID', 'EXT1', 'EXT2', 'EXT4', 'BYTEARRAY8', 'NEXT_BUFFER',
             'READONLY_BUFFER'}


def is_plain(data):
    return not any(op.name in NON_PLAIN for op, _, _ in pickletools.genops(data))


def dumps(v, proto, rng):
    f = io.BytesIO()
    p = PidPickler(f, protocol=proto) if rng.random() < 0.5 else pickle.Pickler(f, protocol=proto)
    p.dump(v)
    return f.getvalue()


def write(out, b):
    out.write(struct.pack('>I', len(b)))
    out.write(b)


def read(inp):
    head = inp.read(4)
    if len(head) < 4:
        raise EOFError('short read')
    (n,) = struct.unpack('>I', head)
    return inp.read(n)


def roundtrip(seed, count):
    g = Gen(seed)
    out, inp = sys.stdout.buffer, sys.stdin.buffer
    expected = []
    for _ in range(count):
        v = g.case()
        if g.r.random() < 0.05:
            v = [v, type(None), None]  # the persistent id '<<NoneType>>' (with PidPickler)
        proto = g.r.choice([0, 1, 2, 2, 3, 4, 4, 4, 5, 5])
        data = dumps(v, proto, g.r)
        # Sets rebuilt by a loader may iterate in another order: compare them sorted.
        desc = describe(marker_loads(data), sort_sets=True)
        expected.append(desc)
        write(out, b'%d %d' % (proto, is_plain(data)))
        write(out, data)
        write(out, desc.encode())
    out.flush()
    failures = []
    for i in range(count):
        enc = read(inp)
        if not enc:
            continue  # the Rust side reports its own failure
        try:
            got = describe(marker_loads(enc), sort_sets=True)
        except Exception as e:  # noqa: BLE001 - any load failure is a test failure
            failures.append('case %d: CPython cannot load the Rust encoding: %r' % (i, e))
            continue
        if got != expected[i]:
            failures.append('case %d: CPython loaded %s, expected %s' % (i, got[:300], expected[i][:300]))
    if failures:
        for f in failures[:20]:
            print('FAIL', f)
        print('FAIL total', len(failures))
    else:
        print('ok', count)
    sys.stdout.flush()


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == 'roundtrip':
        roundtrip(int(sys.argv[2]), int(sys.argv[3]))
    else:
        sys.exit('usage: pickle_oracle.py roundtrip SEED COUNT')
