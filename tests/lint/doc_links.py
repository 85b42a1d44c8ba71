"""Every relative link in README.md, docs/*.md and packaging/*.md resolves: the file (or
directory) exists in the repository, and a #fragment names a heading of the target Markdown file
(GitHub's anchor rules). A Markdown file named in inline code (`notes/crates.md`) must exist
too, next to the page or from the repository root: a reader cannot follow a pointer to notes
that are not in the repository. Run by tests/suite.d/10-lint.sh; exits 1 listing every dead link.
Usage: python3 tests/lint/doc_links.py [ROOT]"""

import re
import sys
import urllib.parse
from pathlib import Path

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|<a\s+href=\"([^\"]+)\"")
FENCE = re.compile(r"^\s*(```|~~~)")


def anchors(md):
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, -N for
    repeats."""
    seen, out = {}, set()
    fenced = False
    for line in md.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if fenced or not m:
            continue
        text = re.sub(r"`|\*\*|__|\[([^\]]*)\]\([^)]*\)", lambda x: x.group(1) or "", m.group(1))
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def links(md):
    fenced = False
    for no, line in enumerate(md.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        # Inline code is not a link, but a Markdown file it names is a reference.
        for m in LINK.finditer(re.sub(r"`[^`]*`", "", line)):
            yield no, m.group(1) or m.group(2), False
        for m in re.finditer(r"`([\w./-]+\.md)`", line):
            yield no, m.group(1), True


def check(root):
    files = [root / "README.md", *sorted((root / "docs").glob("*.md")), *sorted((root / "packaging").glob("*.md"))]
    dead = []
    for md in files:
        for no, target, named in links(md):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:, man:
                continue
            if named and target.startswith("/"):  # a path on the installed system
                continue
            path, _, frag = target.partition("#")
            dest = (md.parent / urllib.parse.unquote(path)).resolve() if path else md
            if named and not dest.exists():
                dest = (root / path).resolve()
            where = f"{md.relative_to(root)}:{no}: {target}"
            if root.resolve() not in (dest, *dest.parents):
                dead.append(f"{where}: points outside the repository")
            elif not dest.exists():
                dead.append(f"{where}: {dest.relative_to(root.resolve())} does not exist")
            elif frag and dest.suffix == ".md" and frag not in anchors(dest):
                dead.append(f"{where}: no heading #{frag} in {dest.relative_to(root.resolve())}")
    return files, dead


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2])
    files, dead = check(root)
    for d in dead:
        print(f"dead link: {d}")
    if dead:
        return 1
    print(f"doc links: {len(files)} files, every relative link resolves")
    return 0


if __name__ == "__main__":
    sys.exit(main())
