"""The session and the event loop decide "plain data / allowed Delta" only through the entry points
the tests and fuzz targets call (issue 19; the map is in mu-serverd/src/objects/check.rs):
node data `objects::check_node_data`, command data `objects::command_data`, a node inside a
Snapshot DATA `objects::node_frames`, dependencies `objects::read_deps`, a Commit's Delta
`delta::apply_bytes` (-> `Delta::from_bytes`). Fails when production code under
mu-serverd/src/session/ or mu-serverd/src/shell/ (tests excluded) calls the pickle codec's
decoder or policy, or the Delta engine, any other way, or when a named caller stops calling
its entry point. Run by tests/suite.d/10-lint.sh; exits 1 listing every finding.
Usage: python3 tests/lint/entry_points.py [ROOT]"""

import re
import sys
from pathlib import Path

# Names that decide (or bypass) the policy on a peer's bytes; never in session/ or shell/.
FORBIDDEN = [
    (re.compile(r"\b(check_plain|check_plain_bytes|check_delta|decode_plain|decode_delta)\b"),
     "a pickle policy function: use objects::{check_node_data, command_data, node_frames}"),
    (re.compile(r"\bpolicy::"), "the pickle policy module"),
    (re.compile(r"\bpickle::(decode|vm|scan|fast_scan)\b|\bpickle::\{[^}]*\bdecode\b"),
     "the pickle decoder: peer bytes are decoded by the objects:: entry points"),
    (re.compile(r"\bDelta\b|\bfrom_value\b|\bapply_in_place\w*|\bapply_owned\b"),
     "the Delta engine: a Commit is applied by delta::apply_bytes_bounded"),
    (re.compile(r"\bread_snapshot_get\b"), "a payload reader behind objects::command_data"),
]
# session/codec.rs wraps the decoder for stored bytes (`codec::decode`); only the repository
# decodes stored node data.
CODEC = Path("mu-serverd/src/session/codec.rs")
CODEC_DECODE = re.compile(r"\bcodec::decode\b")
CODEC_DECODE_ALLOWED = {Path("mu-serverd/src/session/repository.rs")}
# Each entry point is called where the map in objects/check.rs says.
REQUIRED = {
    "mu-serverd/src/session/relay.rs": ["objects::check_node_data("],
    "mu-serverd/src/session/mod.rs": ["objects::command_data("],
    "mu-serverd/src/session/upload.rs": ["objects::node_frames("],
    "mu-serverd/src/session/repository.rs": ["delta::apply_bytes_bounded(", "parse_deps("],
    "mu-serverd/src/session/wire.rs": ["objects::read_deps("],
    # an imported session's nodes are checked like a Node from a client
    "mu-serverd/src/store/import.rs": ["objects::read_deps(", "objects::check_node_data("],
}


def production_code(path):
    """The file's code without comments, string literals and its `#[cfg(test)] mod`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out, i = [], 0
    while i < len(lines):
        mod = next((j for j in range(i + 1, min(i + 3, len(lines)))
                    if re.match(r"\s*(pub(\([^)]*\))?\s+)?mod\s", lines[j])), None)
        if lines[i].strip() != "#[cfg(test)]" or mod is None:
            out.append(lines[i])
            i += 1
            continue
        # skip `mod tests;`, or `mod tests { ... }` up to its closing brace
        i, depth = mod, 0
        while i < len(lines):
            depth += lines[i].count("{") - lines[i].count("}")
            i += 1
            if depth <= 0 and ("{" not in lines[mod] or "}" in lines[i - 1]):
                break
        out.extend([""] * (i - len(out)))  # keep line numbers
    code = "\n".join(out)
    code = re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', code)
    return re.sub(r"//[^\n]*", "", code)


def main(root):
    findings = []
    files = []
    for top in ("mu-serverd/src/session", "mu-serverd/src/shell"):
        for p in sorted((root / top).rglob("*.rs")):
            rel = p.relative_to(root)
            if "tests" in rel.parts or p.name.endswith("_tests.rs") or p.name == "tests.rs":
                continue
            files.append(rel)
    for rel in files:
        code = production_code(root / rel)
        for n, line in enumerate(code.splitlines(), 1):
            if rel == CODEC:
                line = re.sub(r"crate::pickle::(decode|encode)\(", "", line)
                line = re.sub(r"use crate::pickle::\{Limits, Value\};", "", line)
            for pattern, why in FORBIDDEN:
                if pattern.search(line):
                    findings.append(f"{rel}:{n}: {line.strip()}  <- {why}")
            if CODEC_DECODE.search(line) and rel not in CODEC_DECODE_ALLOWED:
                findings.append(f"{rel}:{n}: {line.strip()}  <- codec::decode is for stored "
                                "node data (session/repository.rs only)")
    for rel, needles in REQUIRED.items():
        p = root / rel
        code = production_code(p) if p.exists() else ""
        for needle in needles:
            if needle not in code:
                findings.append(f"{rel}: no call of {needle}.. (the entry point the tests and "
                                "fuzz targets check)")
    if not files:
        findings.append("no source files found under mu-serverd/src/session and shell")
    for f in findings:
        print(f)
    if findings:
        print(f"entry_points: {len(findings)} finding(s); see mu-serverd/src/objects/check.rs")
        return 1
    print(f"entry_points: {len(files)} files of session/ and shell/ use only the named entry points")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]))
