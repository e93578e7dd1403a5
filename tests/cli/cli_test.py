#!/usr/bin/env python3
"""Runs tests of the ipcshm command-line tool.

usage: cli_test.py --tool IPCSHM --holder CLI_HOLDER --version X.Y.Z MODULE.CLASS.TEST...

The tests (cli_*_test.py) drive the built tool as a user would and compare its
output with exact expected text, where only the variable parts (times, pids,
the unique names and keys of this run) are filled in; they cross-check it with
util-linux (lsipc, ipcs, ipcmk, ipcrm) and attack it as another user.
"""
import argparse
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_util  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tool", required=True)
    parser.add_argument("--holder", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("tests", nargs="+")
    args = parser.parse_args()
    cli_util.configure(args.tool, args.holder, args.version)
    suite = unittest.defaultTestLoader.loadTestsFromNames(args.tests)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
