"""Live deepdiff oracle for the Rust Delta engine's differential tests.

Generates random Blender-dump-like (old, new) pairs, computes exactly what a replication client
sends (`Delta(DeepDiff(old, new, cache_size=5000)).dumps()`) and what every Python peer then
computes (`old + Delta(raw)`, or the exception it raises), and writes one binary record per case
to stdout for the Rust side to replay:

    b"DDO1" then per case:
      u32 case index, u8 status (0 = result, 1 = raised),
      u32 len + label (utf-8), u32 len + pickle(old, 4), u32 len + delta bytes,
      u32 len + (pickle(result, 4) | exception class name)

Run with the venv whose deepdiff is the oracle (.venv = 8.1.1, .venv-dd57 = 5.7.0):
    python tests/py/delta_oracle.py --seed 1 --cases 2000
One process per batch: the Rust test starts it once and reads every case. `--halfway` writes
only deltas deepdiff raises on after it already changed the value (checked by applying them
in place with `Delta(raw, mutate=True)`): the server must then keep the old value unchanged.
"""

import argparse
import copy
import logging
import math
import pickle
import random
import struct
import sys

from deepdiff import DeepDiff, Delta

logging.disable(logging.CRITICAL)  # deepdiff logs skipped entries at ERROR level

NAMES = ["location", "rotation_euler", "scale", "name", "data", "modifiers", "color", "type",
         "hide_viewport", "pass_index", "parent", "matrix_world", "vertices", "uv", "tags",
         "material", "users", "it's", 'say "hi"', "a'b\"c", "back\\slash", "new\nline",
         "a[0]", "a.b", "root", "1", "None", "", "ünï", "tab\tkey"]
ODD_KEYS = [0, 1, 2, -3, 7, 1.5, -0.5, True, False, None, 10**20]
WORDS = ["Cube", "Empty", "Mesh", "Light", "None", "12", " 12 ", "1_000", "1.5", "0.1", "inf",
         "it's", "", "True", "a\\b", "x"]


class Gen:
    def __init__(self, rng):
        self.r = rng

    def scalar(self):
        r = self.r
        k = r.random()
        if k < 0.45:
            return r.choice([0.0, 1.0, -1.0, 0.5, 2.5, 1e16, 1e-5, 0.1, -0.0,
                             round(r.uniform(-100, 100), r.randint(0, 6))])
        if k < 0.6:
            return r.choice([0, 1, 2, 3, -1, 255, 256, 70000, 2**40, 2**70, -(2**65)])
        if k < 0.68:
            return r.choice([True, False])
        if k < 0.75:
            return None
        if k < 0.92:
            return r.choice(WORDS)
        if k < 0.97:
            return r.choice([b"", b"ab", b"12", bytes(range(r.randint(0, 40)))])
        return float("nan") if r.random() < 0.3 else r.choice([float("inf"), -1e300])

    def key(self):
        if self.r.random() < 0.12:
            return self.r.choice(ODD_KEYS)
        return self.r.choice(NAMES)

    def floats(self, n):
        return [round(self.r.uniform(-10, 10), 4) for _ in range(n)]

    def value(self, depth):
        r = self.r
        if depth <= 0:
            return self.scalar()
        k = r.random()
        if k < 0.25:
            return self.scalar()
        if k < 0.40:
            return self.floats(r.choice([0, 1, 3, 4, 8, 20]))
        if k < 0.48:
            return [self.floats(4) for _ in range(r.randint(1, 4))]
        if k < 0.58:
            n = r.choice([0, 1, 2, 3, 4, 8])
            if r.random() < 0.25:
                return tuple(tuple(self.floats(2)) for _ in range(r.randint(1, 3)))
            return tuple(self.scalar() if r.random() < 0.3 else round(r.uniform(0, 1), 3) for _ in range(n))
        if k < 0.64:
            items = [r.choice(WORDS[:6]) if r.random() < 0.6 else r.randint(0, 9) for _ in range(r.randint(0, 5))]
            return frozenset(items) if r.random() < 0.15 else set(items)
        if k < 0.72:
            return [self.value(depth - 1) for _ in range(r.randint(0, 5))]
        return self.dict(depth - 1)

    def dict(self, depth):
        d = {}
        for _ in range(self.r.randint(0, 6)):
            d[self.key()] = self.value(depth)
        return d

    def node(self):
        """A Blender-dump-like node: a dict of properties."""
        d = {"name": self.r.choice(WORDS[:4]), "location": self.floats(3),
             "rotation_euler": self.floats(3), "scale": [1.0, 1.0, 1.0],
             "color": tuple(self.floats(4)),
             "matrix_world": [self.floats(4) for _ in range(4)]}
        for _ in range(self.r.randint(0, 6)):
            d[self.key()] = self.value(3)
        return d

    # ---- mutations (applied to a deep copy of old) ----

    def mutate_seq(self, s):
        r = self.r
        was_tuple = isinstance(s, tuple)
        s = list(s)
        for _ in range(r.choice([1, 1, 1, 2, 3])):
            op = r.random()
            if op < 0.35 and s:
                i = r.randrange(len(s))
                s[i] = self.change(s[i])
            elif op < 0.55:
                s.insert(r.randint(0, len(s)), self.scalar() if r.random() < 0.5 else round(r.uniform(-5, 5), 2))
            elif op < 0.75 and s:
                del s[r.randrange(len(s))]
            elif op < 0.85:
                s.reverse()
            elif op < 0.92 and len(s) > 1:
                s = s[1:] + s[:1]
            elif len(s) > 1:
                i, j = r.randrange(len(s)), r.randrange(len(s))
                s[i], s[j] = s[j], s[i]
        return tuple(s) if was_tuple else s

    def change(self, v):
        r = self.r
        k = r.random()
        if k < 0.15:
            # type changes, many of them with new_value omitted (new_type(old) == new)
            conv = {int: [float, str, bool], float: [int, str], bool: [int], type(None): [str],
                    str: [int, float], list: [tuple, set], tuple: [list], bytes: [list]}
            for ty in conv.get(type(v), []):
                if r.random() < 0.5:
                    try:
                        return ty(v)
                    except Exception:
                        pass
        if isinstance(v, dict):
            return self.mutate_dict(v)
        if isinstance(v, (list, tuple)) and r.random() < 0.85:
            return self.mutate_seq(v)
        if isinstance(v, (set, frozenset)):
            s = set(v)
            if s and r.random() < 0.5:
                s.discard(r.choice(sorted(s, key=repr)))
            if r.random() < 0.7:
                s.add(r.choice(WORDS[:6] + [5, 6]))
            return frozenset(s) if isinstance(v, frozenset) else s
        if isinstance(v, float) and r.random() < 0.7:
            return round(v + r.uniform(-1, 1), 3)
        return self.value(r.randint(0, 2))

    def mutate_dict(self, d):
        r = self.r
        d = dict(d)
        for _ in range(r.choice([1, 1, 2, 3])):
            op = r.random()
            keys = list(d.keys())
            if op < 0.5 and keys:
                k = r.choice(keys)
                d[k] = self.change(d[k])
            elif op < 0.75:
                d[self.key()] = self.value(2)
            elif keys:
                del d[r.choice(keys)]
        return d


def quirk_case(gen):
    """Shapes that hit deepdiff's documented quirks (shared notes §3.6) more often than chance."""
    r = gen.r
    k = r.randrange(8)
    if k == 0:  # tuple inside tuple (8.1.1 RuntimeError / 5.7.0 lost change)
        old = {"t": tuple(tuple(gen.floats(2)) for _ in range(r.randint(1, 3))), "x": 1}
    elif k == 1:  # tuple edited only by inserts/deletes (8.1.1 grandparent-slot defect)
        old = {"x": {"c": tuple(range(r.randint(3, 10)))}, "y": [1.0]}
    elif k == 2:  # nested dict with mixed key types and list removals (sort fallback)
        old = {"x": {"a": gen.floats(4), 1: gen.floats(4), 2.5: [1, 2, 3], None: [4, 5]}}
    elif k == 3:  # quoted / escaped keys nested below changes
        old = {key: {"v": gen.floats(3), "s": {"p", "q"}} for key in r.sample(NAMES, 5)}
    elif k == 4:  # scalar lists with equal-valued type changes (1 -> 1.0 -> True)
        old = {"l": [r.choice([0, 1, 2, 1.0, 0.0, True, False, -0.0]) for _ in range(r.randint(2, 8))]}
    elif k == 5:  # list of dicts / list of lists row inserts and removals
        old = {"rows": [{"i": j, "v": gen.floats(2)} for j in range(r.randint(1, 5))],
               "m": [gen.floats(3) for _ in range(r.randint(1, 4))]}
    elif k == 6:  # sets and frozensets of mixed scalars
        old = {"s": set(r.sample([1, 2, 3, "a", "b", 1.5, None, (1, 2)], 4)),
               "f": frozenset(r.sample(["x", "y", "z", 0, 9], 3))}
    else:  # root-level containers of every kind
        old = r.choice([gen.floats(6), tuple(gen.floats(5)), {1: "a", "b": 2}, {"k": None}])
    new = copy.deepcopy(old)
    for _ in range(r.randint(1, 3)):
        new = gen.change(new)
    return "quirk%d" % k, old, new


def path_of(keys):
    """A deepdiff-style path: `['k']` (or `["k"]` when k holds a single quote), `[repr(k)]`."""
    out = "root"
    for k in keys:
        if isinstance(k, tuple) and k and k[0] == ".attr":
            out += "." + k[1]
        elif isinstance(k, str):
            out += '["%s"]' % k if "'" in k and '"' not in k else "['%s']" % k
        else:
            out += "[%r]" % (k,)
    return out


def random_keys(gen, v):
    """Keys of a random walk into v, then (often) a broken last step."""
    r = gen.r
    keys = []
    while r.random() < 0.75:
        if isinstance(v, dict) and v:
            k = r.choice(list(v.keys()))
        elif isinstance(v, (list, tuple)) and v:
            k = r.randrange(len(v))
        else:
            break
        keys.append(k)
        v = v[k]
    k = r.random()
    if k < 0.1:
        keys.append(r.choice([0, 1, 5, -1, -7, 10**20, 1.5, True, None, "zz", "0"]))
    elif k < 0.14:
        keys.append((".attr", r.choice(["x", "real", "imag", "name"])))
    elif k < 0.17 and keys:
        keys[-1] = r.choice([99, "nope", -100, 2.5])
    return keys


def all_paths(v, keys=(), out=None):
    """Every (keys, value, parent) reachable in v."""
    out = [] if out is None else out
    items = v.items() if isinstance(v, dict) else enumerate(v) if isinstance(v, (list, tuple)) else ()
    for k, x in items:
        out.append((keys + (k,), x, v))
        all_paths(x, keys + (k,), out)
    return out


def pick_keys(gen, old, group):
    """Mostly paths that fit the group (sets for set groups, list items for iterable groups,
    dict keys for dictionary groups), sometimes a random or broken one."""
    r = gen.r
    paths = all_paths(old)
    want = {
        "set_item_added": lambda x, p: isinstance(x, (set, frozenset)),
        "set_item_removed": lambda x, p: isinstance(x, (set, frozenset)),
        "iterable_item_added": lambda x, p: isinstance(p, (list, tuple)),
        "iterable_item_removed": lambda x, p: isinstance(p, (list, tuple)),
        "_iterable_opcodes": lambda x, p: isinstance(x, (list, tuple)),
        "dictionary_item_added": lambda x, p: isinstance(p, dict),
        "dictionary_item_removed": lambda x, p: isinstance(p, dict),
    }.get(group)
    fits = [(k, x, p) for k, x, p in paths if want is None or want(x, p)]
    if fits and r.random() < 0.8:
        keys, x, parent = r.choice(fits)
        keys = list(keys)
        if group == "iterable_item_added" and r.random() < 0.5:
            keys[-1] = len(parent)  # append
        elif group == "dictionary_item_added" and r.random() < 0.7:
            keys[-1] = r.choice(NAMES + ODD_KEYS)
        return keys
    return random_keys(gen, old)


def resolve(v, keys):
    """The value at keys, or None when the path does not resolve."""
    try:
        for k in keys:
            if isinstance(k, tuple) and k and k[0] == ".attr":
                return None
            v = v[k]
        return v
    except Exception:
        return None


def has_set(v):
    if isinstance(v, (set, frozenset)):
        return True
    if isinstance(v, dict):
        return any(has_set(x) or has_set(k) for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return any(has_set(x) for x in v)
    return False


def crafted_delta(gen, old, dd57):
    """A delta deepdiff could load but DeepDiff would not write: valid and broken paths, wrong
    types, out-of-range indexes, odd type changes and opcode ranges (hostile-but-loadable input)."""
    import deepdiff.helper as H
    r = gen.r
    types = [int, float, str, bytes, bool, list, tuple, dict, set, frozenset, type(None)]
    groups = {}
    names = ["values_changed", "type_changes", "dictionary_item_added", "dictionary_item_removed",
             "iterable_item_added", "iterable_item_removed", "set_item_added", "set_item_removed",
             "iterable_item_moved", "attribute_added", "attribute_removed"]
    if not dd57:
        names.append("_iterable_opcodes")
    for name in r.sample(names, r.choice([1, 1, 2, 3])):
        g = {}
        for _ in range(r.choice([1, 1, 2, 4])):
            keys = pick_keys(gen, old, name)
            path = path_of(keys) if r.random() < 0.97 else None
            if name == "values_changed":
                val = {"new_value": gen.value(1)} if r.random() < 0.97 else {}
            elif name == "type_changes":
                val = {"old_type": r.choice(types), "new_type": r.choice(types)}
                # Python's set iteration order (hash order, random for str per process) is not
                # modelled: a set converted without new_value would be a documented difference
                if r.random() < 0.4 or has_set(resolve(old, keys)):
                    val["new_value"] = gen.value(1)
            elif name.startswith("set_item"):
                val = set(r.sample([1, 2, "a", "b", None, 1.5], r.randint(0, 3)))
            elif name == "iterable_item_moved":
                val = {"new_path": path_of(random_keys(gen, old)), "value": gen.scalar()}
            elif name == "_iterable_opcodes":
                ops = []
                for _ in range(r.randint(1, 4)):
                    tag = r.choice(["equal", "replace", "insert", "delete"])
                    a, b = r.randint(-2, 6), r.randint(-2, 9)
                    nv = None if tag == "equal" else r.choice([[], [gen.scalar()], (1, 2), gen.floats(2)])
                    ops.append(H.Opcode(tag, a, b, 0, 0, None, nv))
                val = ops
            else:
                val = gen.value(1)
            g[path] = val
        if dd57 and name != "iterable_item_moved":
            wrapped = H.OrderedDictPlus()
            for k, v in g.items():
                if name == "type_changes":
                    v2 = H.OrderedDictPlus()
                    v2.update(v)
                    v = v2
                wrapped[k] = v
            g = wrapped
        elif dd57:
            wrapped = H.OrderedDictPlus()
            wrapped.update(g)
            g = wrapped
        groups[name] = g
    return groups


HALFWAY_KINDS = ["values_changed", "set_item_added", "_iterable_opcodes", "root_deleted"]


def leaf_paths(old):
    """Paths of values a values_changed entry can overwrite (items of dicts and lists)."""
    return [keys for keys, x, parent in all_paths(old) if isinstance(parent, (dict, list))]


def halfway_case(gen, dd57):
    """A client's delta with one entry that deepdiff raises on after applying others: a real
    `Delta(DeepDiff(old, new))`, plus a valid change written first, plus the failing entry
    (a values_changed entry without new_value: KeyError; set_item_added or 8.1.1 opcodes on a
    missing key; `root` removed, which raises when `+` finishes). Returns None when the node has
    no path to change."""
    import deepdiff.helper as H
    r = gen.r
    old = gen.node()
    if r.random() < 0.5:
        old["co"] = gen.floats(r.choice([50, 500, 2000]))
    new = copy.deepcopy(old)
    for _ in range(r.randint(1, 3)):
        new = gen.change(new)
    try:
        groups = pickle.loads(Delta(DeepDiff(old, new, cache_size=5000)).dumps())
    except Exception:
        return None
    paths = leaf_paths(old)
    if not paths:
        return None
    kinds = HALFWAY_KINDS if not dd57 else [k for k in HALFWAY_KINDS if k != "_iterable_opcodes"]
    kind = r.choice(kinds)
    wrap = H.OrderedDictPlus if dd57 else dict

    def put(name, entries, at=None):
        g = groups.get(name)
        items = list(g.items()) if g else []
        pos = len(items) if at is None else min(at, len(items))
        items[pos:pos] = entries
        out = wrap()
        out.update(items)
        groups[name] = out

    first = [(path_of(r.choice(paths)), {"new_value": gen.scalar()})]
    put("values_changed", first, at=0)
    missing = "root['__missing__']"
    if kind == "values_changed":
        n = len(groups["values_changed"])
        put("values_changed", [(path_of(r.choice(paths)), wrap())], at=r.randint(1, n))
    elif kind == "set_item_added":
        put("set_item_added", [(missing, {1})])
    elif kind == "_iterable_opcodes":
        put("_iterable_opcodes", [(missing, [H.Opcode("equal", 0, 1, 0, 1, None, None)])])
    else:
        put("dictionary_item_removed", [("root", None)])
    from deepdiff.serialization import pickle_dump
    return "halfway-" + kind, old, pickle_dump(groups)


def make_case(gen, i):
    r = gen.r
    if i % 7 == 3:
        return quirk_case(gen)
    if i % 500 == 5:
        old = {"name": "Mesh", "co": gen.floats(10000)}
        new = copy.deepcopy(old)
        co = new["co"]
        for _ in range(r.randint(1, 4)):
            op = r.random()
            if op < 0.5:
                co[r.randrange(len(co))] = 0.25
            elif op < 0.75:
                co.insert(r.randrange(len(co)), 7.5)
            else:
                del co[r.randrange(len(co))]
        return "floats10k", old, new
    old = gen.node() if r.random() < 0.8 else gen.value(3)
    new = copy.deepcopy(old)
    label = "node"
    if r.random() < 0.05:
        new = gen.value(2)
        label = "replace-root"
    else:
        new = gen.change(new)
    return label, old, new


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--cases", type=int, required=True)
    ap.add_argument("--crafted", action="store_true",
                    help="hand-made hostile-but-loadable deltas instead of DeepDiff output")
    ap.add_argument("--halfway", action="store_true",
                    help="deltas deepdiff raises on after changing the value (rollback cases)")
    ap.add_argument("--ignore-order", action="store_true",
                    help="DeepDiff(ignore_order=True, report_repetition=True): *_at_indexes groups")
    args = ap.parse_args()
    gen = Gen(random.Random(args.seed))
    out = sys.stdout.buffer
    out.write(b"DDO1")

    def blob(b):
        out.write(struct.pack("<I", len(b)))
        out.write(b)

    def record(i, status, label, old_raw, raw, payload):
        out.write(struct.pack("<IB", i, status))
        for b in (label.encode(), old_raw, raw, payload):
            blob(b)

    def applied(old_raw, delta):
        """(0, result pickle) or (1, exception name) of `old + delta` on a fresh copy."""
        stored = pickle.loads(old_raw)  # what the server holds: no aliasing with `old`
        try:
            return 0, pickle.dumps(stored + delta, protocol=4)
        except Exception as e:  # deepdiff raises out of `old + delta`
            return 1, type(e).__name__.encode()

    if args.halfway:
        dd57 = not hasattr(__import__("deepdiff.helper").helper, "Opcode")
        written, attempts = 0, 0
        while written < args.cases and attempts < args.cases * 10:
            attempts += 1
            case = halfway_case(gen, dd57)
            if case is None:
                continue
            label, old, raw = case
            old_raw = pickle.dumps(old, protocol=4)
            try:
                pickle.loads(old_raw) + Delta(raw)
                continue  # deepdiff did not raise: not a halfway case
            except Exception as e:
                exc = type(e).__name__
            # the same delta applied in place by deepdiff: it must have changed the value
            # before raising, or the case does not test a rollback
            stored = pickle.loads(old_raw)
            try:
                stored + Delta(raw, mutate=True)
                continue
            except Exception:
                pass
            # by value, types included (repr tells 1, 1.0 and True apart); the pickle bytes are
            # no test: 5.7.0 may swap an object for an equal one without changing anything
            if repr(stored) == repr(pickle.loads(old_raw)):
                continue
            record(written, 1, label, old_raw, raw, exc.encode())
            written += 1
        out.flush()
        return

    for i in range(args.cases):
        if args.crafted:
            from deepdiff.serialization import pickle_dump
            dd57 = not hasattr(__import__("deepdiff.helper").helper, "Opcode")
            old = gen.node() if gen.r.random() < 0.7 else gen.value(3)
            old_raw = pickle.dumps(old, protocol=4)
            label = "crafted"
            try:
                raw = pickle_dump(crafted_delta(gen, pickle.loads(old_raw), dd57))
            except Exception:
                continue
            try:
                loaded = Delta(raw)
            except Exception as e:
                record(i, 1, label, old_raw, raw, ("load:" + type(e).__name__).encode())
                continue
            status, payload = applied(old_raw, loaded)
            record(i, status, label, old_raw, raw, payload)
            continue
        label, old, new = make_case(gen, i)
        old_raw = pickle.dumps(old, protocol=4)
        try:
            if args.ignore_order:
                dd = DeepDiff(old, new, cache_size=5000, ignore_order=True, report_repetition=True)
            else:
                dd = DeepDiff(old, new, cache_size=5000)
            raw = Delta(dd).dumps()
        except Exception:
            raw = None  # the sender itself fails (e.g. bytes dict keys): nothing is sent
        if raw is None:
            continue
        status, payload = applied(old_raw, Delta(raw))
        record(i, status, label, old_raw, raw, payload)
    out.flush()


if __name__ == "__main__":
    main()
