"""deepdiff side of the Delta apply benchmark (run by `cargo run --release --example delta_bench`).

Builds the three benchmark scenarios, writes `<name>.old` (pickle of the node) and `<name>.delta`
(`Delta(DeepDiff(old, new, cache_size=5000)).dumps()`, what a client sends) into --out, and prints
one JSON line with deepdiff's timings per scenario:
  apply_s      `old + delta` with a loaded Delta (what Node.patch does per commit)
  load_apply_s `old + Delta(raw)` (load + apply, what the reference server does per commit)
  new_ok       whether `old + delta == new`
(a) a ~1 KiB Blender object node whose location moved; (b) a node holding a list of 8,000 floats
(~64 KiB) with 4 values changed; (c) the same list with one insert and one delete (8.1.1 sends
`_iterable_opcodes`).
"""

import argparse
import json
import logging
import os
import pickle
import random
import time

from deepdiff import DeepDiff, Delta

logging.disable(logging.CRITICAL)


def scenarios():
    r = random.Random(7)
    obj = {
        "name": "Cube.001", "type": "MESH", "data": "Cube.001", "parent": None,
        "location": [1.0, 2.0, 3.0], "rotation_euler": [0.0, 0.0, 0.7853981],
        "scale": [1.0, 1.0, 1.0], "color": (1.0, 1.0, 1.0, 1.0),
        "matrix_world": [[r.uniform(-1, 1) for _ in range(4)] for _ in range(4)],
        "hide_viewport": False, "hide_render": False, "pass_index": 0,
        "modifiers": {"Subsurf": {"levels": 2, "render_levels": 3, "quality": 3}},
        "constraints": [], "vertex_groups": ["Group", "Group.001"],
        "display_type": "TEXTURED", "show_name": False, "users": 1,
    }
    moved = dict(obj, location=[1.5, 2.25, 3.125])
    floats = [r.uniform(-10, 10) for _ in range(8000)]
    node = {"name": "Mesh", "co": floats}
    changed = {"name": "Mesh", "co": list(floats)}
    for i in (10, 2000, 4000, 7990):
        changed["co"][i] = 0.5
    shifted = {"name": "Mesh", "co": list(floats)}
    shifted["co"].insert(3000, 9.75)
    del shifted["co"][6000]
    return [("a_object_moved", obj, moved), ("b_floats_4_changed", node, changed),
            ("c_floats_insert_delete", node, shifted)]


def timeit(fn, min_time=0.5):
    n, total = 0, 0.0
    while total < min_time:
        t = time.perf_counter()
        fn()
        total += time.perf_counter() - t
        n += 1
    return total / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    report = {}
    for name, old, new in scenarios():
        raw = Delta(DeepDiff(old, new, cache_size=5000)).dumps()
        old_raw = pickle.dumps(old, protocol=4)
        with open(os.path.join(args.out, name + ".old"), "wb") as f:
            f.write(old_raw)
        with open(os.path.join(args.out, name + ".delta"), "wb") as f:
            f.write(raw)
        stored = pickle.loads(old_raw)
        loaded = Delta(raw)
        report[name] = {
            "old_bytes": len(old_raw), "delta_bytes": len(raw),
            "apply_s": timeit(lambda: stored + loaded),
            "load_apply_s": timeit(lambda: stored + Delta(raw)),
            "new_ok": (stored + Delta(raw)) == new,
        }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
