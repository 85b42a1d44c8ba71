"""Type-exact descriptions of Python values, in a text format the Rust tests produce
identically from decoded values (see mu-serverd/tests/pickle_support/mod.rs).

  N T F                    None, True, False
  i<hex>;                  int: minimal little-endian two's complement bytes
  f<hex>;                  float: the 8 IEEE bytes, big-endian (bit-exact)
  s<hex>;                  str: UTF-8 with surrogatepass
  y<hex>;                  bytes
  Y<id>:<hex>;             bytearray
  (...)                    tuple
  F(...)                   frozenset
  [<id>: ...]              list
  {<id>: k v ...}          dict (insertion order)
  <<id>: ...>              set
  @<id>;                   a mutable object seen before (aliasing)
  g<hex module>.<hex name>;   inert global
  p...                     persistent id
  o<id>:<R|N|X|I> callee args [kwargs] | builds | list items | dict items | set items ;

Mutable objects (list, dict, set, bytearray, object) get ids in pre-order of first visit.
With sort_sets, set and frozenset items are sorted by description (for comparing values
whose sets were rebuilt, so their iteration order may differ).
"""
import struct


class Recorded:
    """What a marker unpickler builds instead of calling anything."""

    def __init__(self, kind, callee, args, kwargs=None):
        self.kind, self.callee, self.args, self.kwargs = kind, callee, args, kwargs
        self.builds, self.list_items, self.dict_items, self.set_items = [], [], [], []

    def __setstate__(self, state):
        self.builds.append(state)

    def append(self, x):
        self.list_items.append(x)

    def extend(self, xs):
        self.list_items.extend(xs)

    def __setitem__(self, k, v):
        self.dict_items.append((k, v))

    def add(self, x):
        self.set_items.append(x)


class PersId:
    def __init__(self, pid):
        self.pid = pid


def int_hex(n):
    length = (n + (n < 0)).bit_length() // 8 + 1
    return n.to_bytes(length, 'little', signed=True).hex()


def describe(v, sort_sets=False):
    ids = {}
    out = []

    def mutable(o, tag):
        if id(o) in ids:
            out.append('@%d;' % ids[id(o)])
            return False
        ids[id(o)] = len(ids)
        out.append('%s%d:' % (tag, ids[id(o)]))
        return True

    def items(xs, is_set):
        if is_set and sort_sets:
            parts = sorted(describe(x, True) for x in xs)
            out.extend(parts)
        else:
            for x in xs:
                walk(x)

    def walk(x):
        t = type(x)
        if x is None:
            out.append('N')
        elif t is bool:
            out.append('T' if x else 'F')
        elif t is int:
            out.append('i%s;' % int_hex(x))
        elif t is float:
            out.append('f%s;' % struct.pack('>d', x).hex())
        elif t is str:
            out.append('s%s;' % x.encode('utf-8', 'surrogatepass').hex())
        elif t is bytes:
            out.append('y%s;' % x.hex())
        elif t is bytearray:
            if mutable(x, 'Y'):
                out.append('%s;' % bytes(x).hex())
        elif t is tuple:
            out.append('(')
            items(x, False)
            out.append(')')
        elif t is frozenset:
            out.append('F(')
            items(x, True)
            out.append(')')
        elif t is list:
            if mutable(x, '['):
                items(x, False)
                out.append(']')
        elif t is dict:
            if mutable(x, '{'):
                for k, val in x.items():
                    walk(k)
                    walk(val)
                out.append('}')
        elif t is set:
            if mutable(x, '<'):
                items(x, True)
                out.append('>')
        elif isinstance(x, type) and hasattr(x, '_mu_global'):
            m, n = x._mu_global
            out.append('g%s.%s;' % (m.encode('utf-8', 'surrogatepass').hex(), n.encode('utf-8', 'surrogatepass').hex()))
        elif t is PersId:
            out.append('p')
            walk(x.pid)
        elif t is Recorded:
            if mutable(x, 'o'):
                out.append(x.kind)
                walk(x.callee)
                if x.kind == 'I':
                    out.append('(')
                    items(x.args, False)
                    out.append(')')
                else:
                    walk(x.args)
                if x.kwargs is not None:
                    walk(x.kwargs)
                for group in (x.builds, x.list_items):
                    out.append('|')
                    items(group, False)
                out.append('|')
                for k, val in x.dict_items:
                    walk(k)
                    walk(val)
                out.append('|')
                items(x.set_items, False)
                out.append(';')
        else:
            raise TypeError('cannot describe %r' % (t,))

    walk(v)
    return ''.join(out)
