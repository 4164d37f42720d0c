"""Write a benchmark's figures into BENCHMARKS.md, between `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->`,
as a text block: the scripts write their figures down, nobody pastes them by hand.

The bench scripts import it: sys.path.insert(0, "<repo>/bench"); from write_block import write_block.
"""
import os
import sys


def write_block(path, name, lines, skip=None):
    """Replace the block `name` of `path` with `lines` (atomically: a temporary file renamed into place). With
    `skip`, the block is marked for tests/docs.rs as one it does not run (`<!-- doc: skip: SKIP -->`)."""
    start, stop = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    text = open(path, encoding="utf-8").read()
    i, j = text.find(start + "\n"), text.find(stop)
    if i < 0 or j < i:
        sys.exit(f"{path}: no {start} … {stop} block to write the figures into")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        mark = f"<!-- doc: skip: {skip} -->\n" if skip else ""
        f.write(text[:i] + f"{start}\n{mark}```text\n" + "\n".join(lines) + "\n```\n" + text[j:])
    os.replace(path + ".tmp", path)
    print(f"(written to {os.path.basename(path)})")
