"""Writes the committed seed corpus of the fuzz targets: fuzz/seeds/<target>/<name>.

Run:  python3 fuzz/gen_seeds.py [OUT_DIR]   (default: fuzz/seeds next to this script)
tests/suite.d/25-fuzz.sh regenerates the corpus into a temporary directory and fails if it
differs from the committed one, so edit this script, not the files.

Each target gets a few ordinary inputs (coverage) and the hostile shapes of issue 14: memo-DAG
metadata keys, a memo DAG under `set_item_added` and under `iterable_item_removed`, a
`type_changes` list -> str on a node of shared references, and int -> str / int -> float of an
integer past CPython's 4,300-digit limit. A DAG here is the 40-level chain `x_{i+1} = (x_i,
x_i)`: a few hundred bytes, 2^40 leaves when walked. Without the work meter each of them costs
hours, so libFuzzer's `-timeout` reports it while the suite runs the seeds.

Standard library only; the hostile pickles are written opcode by opcode (as in
tests/conformance/test_hostile_walks.py and mu-serverd/src/walk_tests/dag.rs): Python could
not even build some of these values."""

import os
import pickle
import struct
import sys


class P:
    """A protocol-4 pickle under construction; every value is memoized and named by its index."""

    def __init__(self):
        self.out = bytearray(b"\x80\x04")
        self.n = 0

    def memo(self):
        self.out += b"\x94"
        self.n += 1
        return self.n - 1

    def get(self, i):
        self.out += b"h" + bytes([i]) if i < 256 else b"j" + struct.pack("<I", i)

    def str(self, s):
        b = s.encode()
        self.out += b"\x8c" + bytes([len(b)]) + b
        return self.memo()

    def int(self, i):
        self.out += b"K" + bytes([i])
        return self.memo()

    def big_int(self, n):
        """A LONG4 integer of n bytes (all 0x11: positive)."""
        self.out += b"\x8b" + struct.pack("<I", n) + b"\x11" * n
        return self.memo()

    def builtin(self, name):
        self.out += f"cbuiltins\n{name}\n".encode()
        return self.memo()

    def _items(self, items):
        self.out += b"("
        for i in items:
            self.get(i)

    def tuple(self, items):
        self._items(items)
        self.out += b"t"
        return self.memo()

    def list(self, items):
        self.out += b"]"
        m = self.memo()
        self._items(items)
        self.out += b"e"
        return m

    def set(self, items):
        self.out += b"\x8f"
        m = self.memo()
        self._items(items)
        self.out += b"\x90"
        return m

    def dict(self, pairs):
        self.out += b"}"
        m = self.memo()
        self._items([x for kv in pairs for x in kv])
        self.out += b"u"
        return m

    def sdict(self, items):
        return self.dict([(self.str(k), v) for k, v in items])

    def chain(self, leaf, depth=40):
        for _ in range(depth):
            leaf = self.tuple([leaf, leaf])
        return leaf

    def finish(self, top):
        self.get(top)
        self.out += b"."
        return bytes(self.out)


def pk(v):
    return pickle.dumps(v, protocol=4)


# -- hostile pickles ------------------------------------------------------------------------

def dag_keys_metadata():
    """Two dict keys, each a 40-level chain: comparing them walks 2^40 leaves."""
    p = P()
    ka, kb = p.chain(p.str("k")), p.chain(p.str("k"))
    one = p.int(1)
    return p.finish(p.dict([(ka, one), (kb, one)]))


def dag_key_metadata():
    """One such key (stored first, so that the next update's key is compared with it)."""
    p = P()
    k = p.chain(p.str("k"))
    return p.finish(p.dict([(k, p.int(1))]))


def dag_node(container, leaf="int"):
    """The node `{'s'|'l': {chain} | [chain], 'x': 1}`."""
    p = P()
    c = p.chain(p.int(1) if leaf == "int" else p.str("abcdefgh"))
    inner = p.set([c]) if container == "s" else p.list([c])
    return p.finish(p.sdict([(container, inner), ("x", p.int(1))]))


def dag_delta(group, path, in_set):
    p = P()
    v = p.chain(p.int(1))
    if in_set:
        v = p.set([v])
    return p.finish(p.sdict([(group, p.sdict([(path, v)]))]))


def type_change(path, old, new):
    """`{'type_changes': {path: {'old_type': old, 'new_type': new}}}`, no `new_value`."""
    p = P()
    o, n = p.builtin(old), p.builtin(new)
    e = p.sdict([("old_type", o), ("new_type", n)])
    return p.finish(p.sdict([("type_changes", p.sdict([(path, e)]))]))


def big_int_node(nbytes=8192):
    """8 KiB: ~19,700 decimal digits, past CPython's 4,300-digit limit."""
    p = P()
    return p.finish(p.sdict([("x", p.big_int(nbytes)), ("s", p.set([p.int(1)])), ("l", p.list([p.int(1)]))]))


HOSTILE = {
    # name: (node pickle, delta pickle)
    "set_item_added_dag": (dag_node("s"), dag_delta("set_item_added", "root['s']", True)),
    "iterable_item_removed_dag": (dag_node("l"), dag_delta("iterable_item_removed", "root['l'][0]", False)),
    "type_change_list_to_str_shared": (dag_node("l", leaf="str"), type_change("root['l']", "list", "str")),
    "type_change_big_int_to_str": (big_int_node(), type_change("root['x']", "int", "str")),
    "type_change_big_int_to_float": (big_int_node(), type_change("root['x']", "int", "float")),
}

# -- ordinary pickles -----------------------------------------------------------------------

NODE = {"s": {1}, "l": [1], "x": 1}
ORDINARY = {
    "values_changed": (NODE, {"values_changed": {"root['x']": {"new_value": 2}}}),
    "dictionary_items": (
        {"name": "Cube", "location": [0.0, 1.5, -2.0], "x": 1},
        {"dictionary_item_added": {"root['y']": (1, "a")}, "dictionary_item_removed": {"root['x']": 1}},
    ),
    "iterable_items": (
        {"l": [1, 2, 3], "x": 1},
        {"iterable_item_added": {"root['l'][3]": 4}, "iterable_item_removed": {"root['l'][0]": 1}},
    ),
    "set_items": (NODE, {"set_item_added": {"root['s']": {2, 3}}, "set_item_removed": {"root['s']": {1}}}),
    "type_change_with_value": (NODE, {"type_changes": {"root['x']": {"old_type": int, "new_type": float, "new_value": 1.0}}}),
    # applied again and again by delta_apply, it grows a small node far past the slack the
    # encoded-size bound gets at its reset (delta/bound.rs): only the bound's growth covers it
    "growing_list": ({"l": [], "x": 1}, {"iterable_item_added": {"root['l'][0]": "x" * 200}}),
}


def frame(parts):
    """One session_frame message on the data channel (1) or the command channel (0)."""
    ch, frames = parts
    out = bytes([ch, len(frames)])
    for f in frames:
        out += struct.pack("<H", len(f)) + f
    return out


def update(data):
    """A node update of `a` (the fuzz target's node), data channel."""
    return (1, [pk(2), b"a", b"COMMON", pk([]), data])


def commit(delta):
    return (1, [pk(1), b"a", pk([]), delta])


def metadata(data):
    return (0, [pk(13), b"host", data])


def two(first, second):
    """`u16 LE length | first | second` (delta_apply, metadata_merge)."""
    return struct.pack("<H", len(first)) + first + second


def corpus():
    seeds = {t: {} for t in ("pickle_decode", "delta_apply", "session_frame", "metadata_merge")}
    meta = {"color": "red", "selected": ["Cube"], "frame": 12, "view": (0.5, 1.0)}
    for name, (node, delta) in ORDINARY.items():
        seeds["delta_apply"][name] = two(pk(node), pk(delta))
        seeds["session_frame"][name] = b"".join(
            frame(m) for m in (update(pk(node)), commit(pk(delta)), metadata(pk(meta)), (2, [b"PING"]))
        )
        seeds["pickle_decode"][name] = pk(delta)
    for name, (node, delta) in HOSTILE.items():
        seeds["delta_apply"][name] = two(node, delta)
        seeds["session_frame"][name] = frame(update(node)) + frame(commit(delta))
        seeds["pickle_decode"][name] = delta
        if node not in seeds["pickle_decode"].values():
            seeds["pickle_decode"][name + "_node"] = node
    keys2, key1 = dag_keys_metadata(), dag_key_metadata()
    seeds["session_frame"]["metadata_dag_keys"] = frame(metadata(keys2))
    seeds["session_frame"]["metadata_dag_key_twice"] = frame(metadata(key1)) + frame(metadata(key1))
    seeds["pickle_decode"]["metadata_dag_keys"] = keys2
    seeds["metadata_merge"]["ordinary"] = two(pk(meta), pk({"color": "blue", "frame": 13}))
    seeds["metadata_merge"]["dag_keys"] = two(pk({"color": "red"}), keys2)
    seeds["metadata_merge"]["dag_key_stored_then_updated"] = two(key1, key1)
    return seeds


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")
    for target, files in corpus().items():
        os.makedirs(os.path.join(out, target), exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(out, target, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
