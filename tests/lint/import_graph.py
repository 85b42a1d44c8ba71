"""The arrows between mu-serverd's modules point one way (issue 19: "one path for each thing").

Two checks over every `use crate::...`, `use super::...`, `crate::x::y` and `super::x` path (and
the names a `use` binds, so `history::policy::prune` after `use super::history;` counts) in
mu-serverd/src:

1. No cycle inside a folder. For each folder, the nodes are its files and sub-folders (a
   sub-folder is one node); an arrow from `daemon/history.rs` to anything in `daemon/run.rs` is
   the arrow history -> run. A strongly connected set of two or more nodes is a cycle: one file
   cannot be read or changed without the other. The folder's own `mod.rs` is not a node: it is
   the folder's front door and holds the types its files share (`session/mod.rs` declares
   `Session`, `session/auth.rs` adds `impl Session` methods the front door calls), the level
   issue 19 means by "cycles `daemon/control` <-> `daemon/run`". Method calls are not seen, only
   paths: `impl Daemon` blocks spread over files are one type, not arrows between the files.
2. Between the top-level modules (pickle, objects, delta, session, shell, store, daemon, control,
   config, logging, cli, files, wallclock) only the arrows in ALLOWED below; docs/DESIGN.md
   ("Allowed arrows") says the same in words. The table is checked to be acyclic, so check 2 also
   rules out cycles between folders.

A name re-exported by a module (`pub use live::Store;` in store/mod.rs) is followed to where it is
defined, so `super::Store` in store/open.rs is an arrow to store/live, not to store/mod.rs; a
module re-exporting its own descendants is not an arrow. Paths in comments and string literals
are not arrows.

Test code is left out: items under `#[cfg(test)]` (so `mod tests;` files, tests/ folders,
`*_tests.rs` included through `#[path]`) and the crate-private test helpers. Tests reach into the
module they test by design (`use super::*`), they do not ship, and an arrow from a test to its
subject is not one a reader of the production code has to follow.

Cycles owned by another helper's open branch are listed in ALLOWED_CYCLES with the owner; each
entry must still match a cycle (a stale entry fails too, so it is removed when the fix lands).

Prints each cycle and each arrow outside the table with the file and line that make it; exits 1
if there is any, 2 if the module tree cannot be read. Run by tests/suite.d/10-lint.sh.
Usage: python3 tests/lint/import_graph.py [ROOT]"""

import re
import sys
from pathlib import Path

# Which top-level module may import which (a module may always import itself). Read each line as
# "X may import ...". Anything not listed is an upward or sideways arrow. Keep in step with
# docs/DESIGN.md, section "Allowed arrows".
ALLOWED = {
    # Leaves: the wall clock, the file opener and the codec depend on nothing in the crate.
    "wallclock": set(),
    "files": set(),
    "pickle": set(),
    # The Delta engine sits on the codec; the wire objects on the codec and, for a Commit's
    # Delta, on the engine's one entry point (objects/check.rs). The engine never sees objects.
    "delta": {"pickle"},
    "objects": {"pickle", "delta"},
    # The sans-IO core: no IO, no clock, no store, no shell, no daemon.
    "session": {"pickle", "objects", "delta"},
    # The configuration file reads the core's defaults; logging reads its configuration.
    "config": {"session", "files"},
    "logging": {"config", "wallclock"},
    # The control socket's server is independent of what the requests mean.
    "control": {"files", "logging"},
    # The store implements the core's Journal; it never sees the loop, the shell or the daemon.
    "store": {"session", "pickle", "objects", "config", "files", "logging", "wallclock"},
    # The mio/zmq shell moves bytes in and out of the core.
    "shell": {"session", "objects", "pickle", "logging", "wallclock"},
    "cli": {"config", "logging"},
    # The daemon wires everything together; nothing imports it.
    "daemon": {
        "session", "shell", "store", "control", "config", "logging", "files", "wallclock",
        "pickle", "objects", "delta", "cli",
    },
}

# (folder, cycle's nodes, owner and reason). Only for cycles being removed in another open
# branch; the lead deletes the entry when that branch is merged.
ALLOWED_CYCLES = []

STRIP = re.compile(
    r"""//[^\n]*                                  # line comment
    | /\*                                          # block comment (nesting handled below)
    | b?r(\#*)"                                    # raw string
    | b?"(?:[^"\\]|\\.)*"                          # string
    | b?'(?:[^'\\\n]|\\(?:u\{[0-9a-fA-F]+\}|x..|.))'  # char literal (not a lifetime)
    """,
    re.X | re.S,
)
IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
PATH = re.compile(rf"(?<![\w:]){IDENT}(?:\s*::\s*{IDENT})+")
USE = re.compile(r"(?<![\w:])((?:pub(?:\s*\([^)]*\))?\s+)?)use\s+(?!<)([^;]+);")
CFG_TEST = re.compile(r"#\[cfg\(test\)\]")
MOD_DECL = re.compile(rf"(?<![\w:])(?:pub(?:\s*\([^)]*\))?\s+)?mod\s+({IDENT})\s*;")


def blank(text, a, b):
    """Text with [a, b) replaced by spaces, newlines kept (so offsets and lines stay put)."""
    return text[:a] + re.sub(r"[^\n]", " ", text[a:b]) + text[b:]


def strip(src):
    """Comments and the contents of string and char literals become spaces."""
    out, i = [], 0
    while True:
        m = STRIP.search(src, i)
        if not m:
            out.append(src[i:])
            return "".join(out)
        out.append(src[i : m.start()])
        end = m.end()
        if m.group(0) == "/*":
            depth, j = 1, end
            while depth and j < len(src):
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            end = j
        elif m.group(1) is not None:
            close = src.find('"' + m.group(1), end)
            end = len(src) if close < 0 else close + 1 + len(m.group(1))
        out.append(re.sub(r"[^\n]", " ", src[m.start() : end]))
        i = end


def item_end(text, i):
    """End of the item starting at i: its first `;` outside brackets, or its first `{...}`."""
    depth = 0
    while i < len(text):
        c = text[i]
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == ";" and depth == 0:
            return i + 1
        elif c == "{":
            braces = 0
            while i < len(text):
                braces += {"{": 1, "}": -1}.get(text[i], 0)
                i += 1
                if braces == 0:
                    return i
        i += 1
    return i


def drop_tests(text):
    """Blanks every `#[cfg(test)]` item; returns the text and the names of test-only `mod x;`."""
    test_mods = set()
    while True:
        m = CFG_TEST.search(text)
        if not m:
            return text, test_mods
        end = item_end(text, m.end())
        decl = MOD_DECL.search(text, m.end(), end)
        if decl and decl.end() == end:
            test_mods.add(decl.group(1))
        text = blank(text, m.start(), end)


def use_tree(tree):
    """`a::{b, c::d as e, self}` -> [(['a','b'], 'b'), (['a','c','d'], 'e'), (['a'], 'a')]."""
    toks = re.findall(rf"{IDENT}|::|[{{}},*]", tree)
    pos = 0

    def parse(prefix):
        nonlocal pos
        out, path = [], list(prefix)
        while pos < len(toks):
            t = toks[pos]
            pos += 1
            if t == "::":
                continue
            if t == "{":
                while pos < len(toks) and toks[pos] != "}":
                    out += parse(path)
                    if pos < len(toks) and toks[pos] == ",":
                        pos += 1
                pos += 1
                return out
            if t in (",", "}"):
                pos -= 1
                break
            if t == "*":
                out.append((path, "*"))
                return out
            if t == "as":
                alias = toks[pos]
                pos += 1
                out.append((path, alias))
                return out
            if t == "self" and path:
                continue
            path = path + [t]
        if path != list(prefix):
            out.append((path, path[-1]))
        elif prefix:  # `{self}`
            out.append((list(prefix), prefix[-1]))
        return out

    return parse([])


class Module:
    def __init__(self, segs, path, root):
        self.segs = segs  # ['store', 'live'] for store/live/mod.rs
        self.path = path
        self.rel = path.relative_to(root).as_posix()
        src = path.read_text(encoding="utf-8")
        self.text, self.test_mods = drop_tests(strip(src))
        self.children = {}
        for m in MOD_DECL.finditer(self.text):
            self.children[m.group(1)] = None
        self.uses = []  # (line, is_pub, segs, alias)
        for m in USE.finditer(self.text):
            line = self.text.count("\n", 0, m.start()) + 1
            for segs, alias in use_tree(m.group(2)):
                self.uses.append((line, bool(m.group(1).strip()), segs, alias))
        self.bindings = {alias: segs for _, _, segs, alias in self.uses if alias not in ("*", "_")}

    def child_file(self, name):
        base = self.path.parent if self.path.name in ("mod.rs", "lib.rs") else self.path.with_suffix("")
        for cand in (base / f"{name}.rs", base / name / "mod.rs"):
            if cand.exists():
                return cand
        return None


class Crate:
    def __init__(self, root):
        self.root = root
        self.src = root / "mu-serverd" / "src"
        self.mods = {}
        self.load([], self.src / "lib.rs")

    def load(self, segs, path):
        mod = Module(segs, path, self.root)
        self.mods[tuple(segs)] = mod
        for name in mod.children:
            f = mod.child_file(name)
            if f is None:
                raise SystemExit(f"{mod.rel}: no file for `mod {name};`")
            self.load(segs + [name], f)

    def absolute(self, mod, segs):
        """A path as written in `mod` -> a path from the crate root, or None if outside."""
        if not segs:
            return None
        head, rest = segs[0], segs[1:]
        if head == "crate":
            return rest
        if head == "self":
            return mod.segs + rest
        if head == "super":
            base = mod.segs
            while segs and segs[0] == "super":
                base, segs = base[:-1], segs[1:]
            return base + segs
        if head in mod.children:
            return mod.segs + segs
        if head in mod.bindings and mod.bindings[head][:1] != [head]:
            inner = self.absolute(mod, mod.bindings[head])
            return None if inner is None else inner + rest
        return None

    def target(self, segs, hops=0):
        """The module that defines what a crate-rooted path names, following re-exports."""
        n = len(segs)
        while n and tuple(segs[:n]) not in self.mods:
            n -= 1
        mod = self.mods[tuple(segs[:n])]
        rest = segs[n:]
        if rest and hops < 16 and rest[0] in mod.bindings:
            inner = self.absolute(mod, mod.bindings[rest[0]])
            if inner is not None:
                return self.target(inner + rest[1:], hops + 1)
        return mod.segs

    def arrows(self):
        """Every (from module, to module, file, line, path text) in production code."""
        out = []
        for mod in self.mods.values():
            seen = set()
            for line, is_pub, segs, alias in mod.uses:
                full = self.absolute(mod, segs)
                if full is None:
                    continue
                to = self.target(full)
                if is_pub and to[: len(mod.segs)] == mod.segs:
                    continue  # a module re-exporting its own descendant
                seen.add(line)
                out.append((mod.segs, to, mod.rel, line, "::".join(segs)))
            for m in PATH.finditer(mod.text):
                line = mod.text.count("\n", 0, m.start()) + 1
                segs = re.split(r"\s*::\s*", m.group(0))
                if line in seen and segs[0] not in mod.bindings:
                    continue  # the `use` line itself
                full = self.absolute(mod, segs)
                if full is None:
                    continue
                out.append((mod.segs, self.target(full), mod.rel, line, m.group(0)))
        return [a for a in out if a[0] != a[1]]


def node_in(folder, segs):
    """The node of `folder`'s graph that holds module `segs`, or None if outside the folder."""
    if segs[: len(folder)] != folder or len(segs) == len(folder):
        return None
    return segs[len(folder)]


def cycles(nodes, edges):
    """Strongly connected sets of two or more nodes (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def where(found):
    first = found[0]
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return f"{first[2]}:{first[3]}: {first[4]}{more}"


def check_allowed_is_dag():
    edges = {k: set(v) for k, v in ALLOWED.items()}
    bad = cycles(set(ALLOWED), edges)
    unknown = {t for v in ALLOWED.values() for t in v} - set(ALLOWED)
    if bad or unknown:
        raise SystemExit(f"import_graph.py: ALLOWED has cycles {bad} or unknown modules {unknown}")


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2])
    check_allowed_is_dag()
    crate = Crate(root)
    arrows = crate.arrows()
    problems = []

    # 2. Between top-level modules.
    top = {segs[0] for segs in crate.mods if segs}
    for name in sorted(top - set(ALLOWED)):
        problems.append(f"top-level module `{name}` is not in ALLOWED (tests/lint/import_graph.py)")
    bad = {}
    for frm, to, *rest in arrows:
        if frm and to and frm[0] != to[0] and to[0] not in ALLOWED.get(frm[0], set()):
            bad.setdefault((frm[0], to[0]), []).append((frm, to, *rest))
    for (a, b), found in sorted(bad.items()):
        problems.append(f"arrow {a} -> {b} is not allowed: {where(found)}")

    # 1. Inside each folder.
    allowed_cycles = {(f, frozenset(n)): why for f, n, why in ALLOWED_CYCLES}
    used = set()
    folders = sorted({segs[:i] for segs in crate.mods for i in range(1, len(segs))})
    for folder in map(list, folders):
        edges, found = {}, {}
        for arrow in arrows:
            a, b = node_in(folder, arrow[0]), node_in(folder, arrow[1])
            if a is None or b is None or a == b:
                continue
            edges.setdefault(a, set()).add(b)
            found.setdefault((a, b), []).append(arrow)
        nodes = set(edges) | {b for v in edges.values() for b in v}
        name = "/".join(folder)
        for comp in cycles(nodes, edges):
            key = (name, frozenset(comp))
            if key in allowed_cycles:
                used.add(key)
                print(f"allowed for now: cycle in {name}/ {sorted(comp)}: {allowed_cycles[key]}")
                continue
            lines = [f"cycle in {name}/ between {', '.join(sorted(comp))}:"]
            for a in sorted(comp):
                for b in sorted(edges[a] & comp):
                    lines.append(f"    {a} -> {b}: {where(found[(a, b)])}")
            problems.append("\n".join(lines))
    for key in sorted(set(allowed_cycles) - used, key=str):
        problems.append(f"ALLOWED_CYCLES entry {key[0]}/ {sorted(key[1])} matches no cycle: remove it")

    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"import graph: {len(crate.mods)} modules, {len(arrows)} arrows, no cycle, every arrow allowed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
