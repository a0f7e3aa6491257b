#!/usr/bin/env python3
"""Tests of bench/results.py (CTest `bench_results_test`, label unit), on a RESULTS-like file
in a temporary folder: the marked block gets the new header and output, every other byte stays.

    results_test.py PATH/TO/results.py
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SCRIPT = None  # set from argv

BEFORE = (
    "# Benchmark results\n"
    "\n"
    "Narrative with `code`, trailing spaces   \n"
    "and a ``` fence of its own:\n"
    "```\n"
    "historical output 1\n"
    "```\n"
    "\n"
    "## Feed log\n"
    "Command: `build/bench/bench_log`\n"
    "\n"
    "<!-- bench:bench_log begin -->\n"
)
OLD_LOG = "```\nbench_log: 100000 events\n  raw 337115 /s\n```\n"
MIDDLE = (
    "<!-- bench:bench_log end -->\n"
    "\n"
    "- **Remarks** stay as they are, unicode too: \u2265 50 %, \u00d7 16.\n"
    "\n"
    "### Historical subsection\n"
    "```\n"
    "bench_log: an older run\n"
    "```\n"
    "\n"
    "<!-- bench:bench_topology begin -->\n"
)
OLD_TOPO = "```\nfirst load: 3.52 ms\n```\n"
AFTER = "<!-- bench:bench_topology end -->\n\nThe end, without a final newline."

SAMPLE = (BEFORE + OLD_LOG + MIDDLE + OLD_TOPO + AFTER).encode()


class ResultsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="simpul-results-test-")
        self.path = os.path.join(self.dir, "RESULTS.md")
        self.write(self.path, SAMPLE)
        os.chmod(self.path, 0o640)

    def tearDown(self):
        shutil.rmtree(self.dir)

    def write(self, path, data):
        with open(path, "wb") as f:
            f.write(data)

    def read(self):
        with open(self.path, "rb") as f:
            return f.read()

    def run_script(self, *args):
        return subprocess.run([sys.executable, SCRIPT] + list(args), capture_output=True)

    def rewrite(self, name, header, output):
        h, o = os.path.join(self.dir, "header"), os.path.join(self.dir, "output")
        self.write(h, header)
        self.write(o, output)
        return self.run_script(self.path, name, h, o)

    def test_block_replaced_and_the_rest_byte_identical(self):
        r = self.rewrite("bench_log", b"Run 2026-12-04 on 2 cores.\nCommand: `x`",
                         b"bench_log: 2000 events\n  raw 118956 /s\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        want = (BEFORE.encode() + b"Run 2026-12-04 on 2 cores.\nCommand: `x`\n"
                b"```\nbench_log: 2000 events\n  raw 118956 /s\n```\n"
                + (MIDDLE + OLD_TOPO + AFTER).encode())
        self.assertEqual(self.read(), want)
        self.assertNotIn(b"337115", self.read())

    def test_other_blocks_untouched_and_rewrite_is_repeatable(self):
        self.assertEqual(self.rewrite("bench_topology", b"H1\n", b"first load: 9 ms\n").returncode, 0)
        once = self.read()
        self.assertEqual(once, (BEFORE + OLD_LOG + MIDDLE).encode()
                         + b"H1\n```\nfirst load: 9 ms\n```\n" + AFTER.encode())
        self.assertEqual(self.rewrite("bench_topology", b"H1\n", b"first load: 9 ms\n").returncode, 0)
        self.assertEqual(self.read(), once)

    def test_output_with_a_fence_gets_a_longer_fence(self):
        self.assertEqual(self.rewrite("bench_log", b"", b"a\n```\nb").returncode, 0)
        self.assertIn(b"<!-- bench:bench_log begin -->\n````\na\n```\nb\n````\n<!-- bench:bench_log end -->",
                      self.read())

    def test_missing_block_fails_and_leaves_the_file(self):
        r = self.rewrite("compare_nats", b"H\n", b"out\n")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"compare_nats", r.stderr)
        self.assertEqual(self.read(), SAMPLE)

    def test_repeated_or_misordered_markers_fail_and_leave_the_file(self):
        twice = SAMPLE + b"\n<!-- bench:bench_log begin -->\n<!-- bench:bench_log end -->\n"
        self.write(self.path, twice)
        self.assertEqual(self.rewrite("bench_log", b"H\n", b"out\n").returncode, 1)
        self.assertEqual(self.read(), twice)
        backwards = b"x\n<!-- bench:b end -->\ny\n<!-- bench:b begin -->\nz\n"
        self.write(self.path, backwards)
        self.assertEqual(self.rewrite("b", b"H\n", b"out\n").returncode, 1)
        self.assertEqual(self.read(), backwards)

    def test_has_and_mode_and_usage(self):
        self.assertEqual(self.run_script("--has", self.path, "bench_log").returncode, 0)
        self.assertEqual(self.run_script("--has", self.path, "sim_federation").returncode, 1)
        self.assertEqual(self.rewrite("bench_log", b"H\n", b"out\n").returncode, 0)
        self.assertEqual(os.stat(self.path).st_mode & 0o777, 0o640)
        self.assertEqual(sorted(os.listdir(self.dir)), ["RESULTS.md", "header", "output"])
        self.assertEqual(self.run_script(self.path, "bench_log").returncode, 2)


if __name__ == "__main__":
    SCRIPT = sys.argv.pop(1)
    unittest.main(verbosity=2)
