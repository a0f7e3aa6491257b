#!/usr/bin/env python3
"""Rewrite one marked block of bench/RESULTS.md (bench/run.sh calls this after a benchmark).

    results.py FILE NAME HEADER OUTPUT   replace the block of NAME with HEADER's text, then
                                         OUTPUT's text in a ``` fence
    results.py --has FILE NAME           exit 0 when FILE has one well-formed block of NAME

A block is everything between the lines

    <!-- bench:NAME begin -->
    <!-- bench:NAME end -->

(the marker lines themselves stay). Every byte outside the block is kept as it was. FILE is
replaced atomically (a temporary file in its folder, then rename), so a reader never sees half
a file. Exits 1, leaving FILE untouched, when the markers of NAME are missing, repeated, or in
the wrong order, and 2 on a usage error. Standard library only.
"""
import os
import re
import sys
import tempfile

NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


def markers(name):
    return (b"<!-- bench:%s begin -->" % name.encode(), b"<!-- bench:%s end -->" % name.encode())


def find_block(text, name):
    """(start, end) byte offsets of the block's content in text, or raise ValueError."""
    begin, end = markers(name)
    lines = text.splitlines(keepends=True)
    offsets, pos = [], 0
    for line in lines:
        offsets.append(pos)
        pos += len(line)
    b = [i for i, l in enumerate(lines) if l.rstrip(b"\r\n") == begin]
    e = [i for i, l in enumerate(lines) if l.rstrip(b"\r\n") == end]
    if len(b) != 1 or len(e) != 1:
        raise ValueError("%d begin and %d end markers for %s (want one of each)" % (len(b), len(e), name))
    if e[0] < b[0]:
        raise ValueError("the end marker of %s comes before its begin marker" % name)
    if not lines[b[0]].endswith(b"\n"):
        raise ValueError("the begin marker of %s is the last line" % name)
    return offsets[b[0]] + len(lines[b[0]]), offsets[e[0]]


def fenced(output):
    """output in a code fence longer than any run of backquotes at a line start inside it."""
    longest = max([len(m.group(0)) for m in re.finditer(rb"^`+", output, re.M)] + [2])
    fence = b"`" * max(3, longest + 1)
    if output and not output.endswith(b"\n"):
        output += b"\n"
    return fence + b"\n" + output + fence + b"\n"


def block(header, output):
    if header and not header.endswith(b"\n"):
        header += b"\n"
    return header + fenced(output)


def replace(path, name, content):
    with open(path, "rb") as f:
        text = f.read()
    start, end = find_block(text, name)
    new = text[:start] + content + text[end:]
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".results-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(new)
        os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv):
    try:
        if len(argv) == 4 and argv[1] == "--has":
            with open(argv[2], "rb") as f:
                find_block(f.read(), argv[3])
            return 0
        if len(argv) != 5 or not NAME_RE.match(argv[2]):
            sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
            return 2
        path, name = argv[1], argv[2]
        with open(argv[3], "rb") as f:
            header = f.read()
        with open(argv[4], "rb") as f:
            output = f.read()
        replace(path, name, block(header, output))
        return 0
    except (OSError, ValueError) as e:
        sys.stderr.write("results.py: %s\n" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
