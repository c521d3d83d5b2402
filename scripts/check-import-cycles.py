#!/usr/bin/env python3
"""Fails on a file-level import cycle in a crate's `src/` (default: pipeline and app).

Reads every `use` declaration of every `.rs` file (also those inside functions and inline
`mod` blocks, `pub use` included) and every path written out from `crate::`, `super::` or
`self::` in code, resolves each path to the file of the module that
defines the name (`crate::`, `self::`, `super::`, a child module named directly; a name
re-exported by a `pub use` is followed to its owner), and looks for cycles in the
resulting graph of files. `mod` declarations are not edges (a parent declares its
children), nor are paths into other crates.

Usage: scripts/check-import-cycles.py [crate_dir ...]   (exit status 1 on a cycle)
"""

import os
import re
import sys

USE = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", re.S)
PATH = re.compile(r"(?<![\w$])((?:crate|super|self)(?:::\w+)+)")
INLINE_MOD = re.compile(r"^\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*\{")


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(re.sub(r"//.*$", "", line) for line in text.split("\n"))


def split_top(s):
    """Splits `a, b::{c, d}, e` at the commas outside braces."""
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def expand(tree, prefix=()):
    """`a::{b, c::d as e}` → [(a, b), (a, c, d)]: the paths a use tree names."""
    tree = " ".join(tree.split())
    if "{" in tree:
        i = tree.index("{")
        head = tuple(s.strip() for s in tree[:i].split("::") if s.strip())
        inner = tree[i + 1 : tree.rindex("}")]
        out = []
        for part in split_top(inner):
            out.extend(expand(part, prefix + head))
        return out
    tree = re.split(r"\s+as\s+", tree)[0]
    return [prefix + tuple(s.strip() for s in tree.split("::") if s.strip())]


class Crate:
    def __init__(self, root):
        self.src = os.path.join(root, "src")
        self.files = {}  # module path (tuple) -> file
        for dirpath, _, names in os.walk(self.src):
            for name in names:
                if name.endswith(".rs"):
                    path = os.path.join(dirpath, name)
                    self.files[self.module_of(path)] = path
        self.reexports = {}  # (module, name) -> (module path, names...)

    def module_of(self, path):
        rel = os.path.relpath(path, self.src)[:-3].split(os.sep)
        if rel in (["lib"], ["main"]):
            return ()
        if rel[-1] == "mod":
            rel = rel[:-1]
        return tuple(rel)

    def file_module(self, module):
        """The module path of the file holding `module` (inline modules belong to theirs)."""
        while module not in self.files:
            module = module[:-1]
        return module

    def absolute(self, module, segs):
        """`segs` as a path from the crate root, seen from `module`; None: another crate."""
        if not segs:
            return None
        first = segs[0]
        if first == "crate":
            return segs[1:]
        if first == "self":
            return module + segs[1:]
        if first == "super":
            base = module
            while segs and segs[0] == "super":
                base, segs = base[:-1], segs[1:]
            return base + segs
        if module + (first,) in self.files or self.is_inline(module + (first,)):
            return module + segs
        return None

    def is_inline(self, module):
        return module in getattr(self, "inline", set())

    def resolve(self, path, seen=()):
        """The file module defining the item at `path` (a module or an item in one)."""
        cur = ()
        for i, seg in enumerate(path):
            nxt = cur + (seg,)
            if nxt in self.files or self.is_inline(nxt):
                cur = nxt
                continue
            key = (self.file_module(cur), seg)
            if key in self.reexports and key not in seen:
                target = self.reexports[key] + path[i + 1:]
                return self.resolve(target, seen + (key,))
            break
        return self.file_module(cur)

    def uses(self, file_module):
        """(module the use is in, its path segments) for every use of a file."""
        text = strip_comments(open(self.files[file_module], encoding="utf-8").read())
        out = []
        stack = []  # (inline module name, brace depth at which it closes)
        depth = 0
        pos = 0
        lines = text.split("\n")
        i = 0
        while i < len(lines):
            line = lines[i]
            m = INLINE_MOD.match(line)
            module = file_module + tuple(n for n, _ in stack)
            if m:
                stack.append((m.group(1), depth))
                self.inline.add(module + (m.group(1),))
            u = USE.match(line)
            if not u and re.match(r"^\s*(?:pub(?:\([^)]*\))?\s+)?use\s", line):
                # A use over several lines.
                j, joined = i, line
                while ";" not in joined and j + 1 < len(lines):
                    j += 1
                    joined += " " + lines[j]
                u = USE.match(joined)
                line = joined
                i = j
            if u:
                is_pub = re.match(r"^\s*pub(?:\([^)]*\))?\s+use", line) is not None
                for segs in expand(u.group(1)):
                    out.append((module, segs, is_pub))
            else:
                # A path written out in code (`crate::page::load(…)`) is an import too.
                for path in PATH.findall(line):
                    out.append((module, tuple(path.split("::")), False))
            depth += line.count("{") - line.count("}")
            while stack and depth <= stack[-1][1]:
                stack.pop()
            i += 1
        return out

    def graph(self):
        self.inline = set()
        all_uses = {m: self.uses(m) for m in self.files}
        for m, uses in all_uses.items():
            for module, segs, is_pub in uses:
                absolute = self.absolute(module, segs)
                if is_pub and absolute and segs[-1] not in ("*", "self"):
                    self.reexports[(m, segs[-1])] = absolute
        edges = {m: set() for m in self.files}
        for m, uses in all_uses.items():
            for module, segs, _ in uses:
                absolute = self.absolute(module, segs)
                if absolute is None:
                    continue
                if absolute and absolute[-1] in ("*", "self"):
                    absolute = absolute[:-1]
                target = self.resolve(absolute)
                if target != m and target in self.files:
                    edges[m].add(target)
        return edges


def cycles(edges):
    """The strongly connected components with more than one file (Tarjan)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main(argv):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    crates = argv or ["pipeline", "app"]
    failed = False
    for name in crates:
        crate = Crate(os.path.join(root, name))
        edges = crate.graph()
        found = cycles(edges)
        rel = lambda m: os.path.relpath(crate.files[m], root)
        for comp in found:
            failed = True
            files = [rel(m) for m in comp]
            print(f"import cycle in {name}/src between: {', '.join(files)}", file=sys.stderr)
            for m in comp:
                for t in sorted(edges[m] & set(comp)):
                    print(f"    {rel(m)} uses {rel(t)}", file=sys.stderr)
        n = sum(len(e) for e in edges.values())
        print(f"{name}/src: {len(edges)} files, {n} file-level imports, "
              f"{len(found)} cycle(s)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
