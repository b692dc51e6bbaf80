#!/usr/bin/env python3
"""Fails when a tracked file under crates/, bins/, scripts/, docs/ or README.md reaches outside
the repository: a relative path that climbs above the repository root, a mention of the team's
sibling `shared/` folder, or an absolute path into a home directory or this workplace.

A clone with nothing beside it must build, test and read its docs; CI once passed only because
its clone had `shared/` next to it (issue 15).

    scripts/self-contained-check.py [ROOT]     check ROOT (default: this repository)
    scripts/self-contained-check.py --self-test
                                               show on a made-up tree that each kind of
                                               reach is caught and a clean tree passes
"""

import os
import re
import subprocess
import sys
import tempfile

CHECKED = ["crates", "bins", "scripts", "docs", "README.md"]

# A run of `../` followed by the rest of the path, as written in a string, a comment or a doc.
RELATIVE = re.compile(r"(?:^|(?<=[\s\"'`(=:]))(/?(?:\.\./)+[^\s\"'`)<>,;]*)")
# The team's sibling folder and what it holds; one name for the pattern and the self-test.
SIBLING_NAME = "shared"
SIBLING_ENTRIES = ["ga4", "testing", "hooks", "DESIGN.md", "STYLE.md"]
SIBLING = re.compile(
    r"(?<![\w.-])"
    + SIBLING_NAME
    + "/(?:"
    + "|".join(re.escape(e) for e in SIBLING_ENTRIES)
    + r")\b"
)
# Absolute paths into a person's home or this machine's workplace.
ABSOLUTE = re.compile(r"(?<![\w.~-])(/home/[\w.-]+|/root/|/Users/[\w.-]+|/work/)")

# This file names the patterns it looks for.
SELF = "scripts/self-contained-check.py"


def tracked_files(root):
    try:
        out = subprocess.run(
            ["git", "-C", root, "ls-files", "-z", "--", *CHECKED],
            check=True,
            capture_output=True,
        ).stdout
        return [p for p in out.decode().split("\0") if p]
    except (subprocess.CalledProcessError, FileNotFoundError):
        files = []
        for entry in CHECKED:
            path = os.path.join(root, entry)
            if os.path.isfile(path):
                files.append(entry)
            for dirpath, _, names in os.walk(path):
                files += [os.path.relpath(os.path.join(dirpath, n), root) for n in names]
        return files


def package_root(root, rel):
    """The nearest folder above `rel` holding a Cargo.toml: where CARGO_MANIFEST_DIR points."""
    folder = os.path.dirname(os.path.join(root, rel))
    while os.path.commonpath([folder, root]) == root:
        if os.path.isfile(os.path.join(folder, "Cargo.toml")):
            return folder
        if folder == root:
            break
        folder = os.path.dirname(folder)
    return None


def escapes(root, start, path):
    target = os.path.normpath(os.path.join(start, path.lstrip("/")))
    return os.path.commonpath([target, root]) != root


def findings(root):
    root = os.path.realpath(root)
    found = []
    for rel in tracked_files(root):
        if rel == SELF:
            continue
        try:
            with open(os.path.join(root, rel), encoding="utf-8") as f:
                lines = f.read().splitlines()
        except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):
            continue
        here = os.path.dirname(os.path.join(root, rel))
        manifest = package_root(root, rel)
        for number, line in enumerate(lines, 1):
            for m in RELATIVE.finditer(line):
                path = m.group(1)
                # `/../x` is appended to CARGO_MANIFEST_DIR (concat!), `../x` is relative to the
                # file (include_str!) or to the working directory of a script run from the root.
                starts = [manifest] if path.startswith("/") and manifest else [here]
                if any(escapes(root, s, path) for s in starts):
                    found.append((rel, number, f"climbs out of the repository: {path}"))
            for m in SIBLING.finditer(line):
                found.append((rel, number, f"names the sibling folder: {m.group(0)}"))
            for m in ABSOLUTE.finditer(line):
                found.append((rel, number, f"absolute path outside the repository: {m.group(0)}"))
    return found


def check(root):
    found = findings(root)
    for rel, number, what in found:
        print(f"{rel}:{number}: {what}", file=sys.stderr)
    if found:
        print(
            f"self-contained-check: {len(found)} reach(es) outside the repository; copy what is"
            " needed into fixtures/ or docs/ (saying where it came from) and point at the copy",
            file=sys.stderr,
        )
        return 1
    print("self-contained-check: nothing reaches outside the repository", file=sys.stderr)
    return 0


def self_test():
    cases = {
        "crates/a/tests/it/main.rs": f'include_str!("{"../" * 5}{SIBLING_NAME}/ga4/q.jsonl")',
        "bins/b/tests/cli.rs": 'concat!(env!("CARGO_MANIFEST_DIR"), "/../../../data/q.jsonl")',
        "scripts/run.sh": "cat /home/alice/notes.txt",
        "docs/guide.md": f"See {SIBLING_NAME}/testing/EMULATORS.md for the bugs.",
        "README.md": "Run `nlq eval ../../outside/dev.jsonl`.",
    }
    clean = {
        "crates/a/tests/it/main.rs": 'include_str!("../../../../fixtures/q.jsonl") // shared_key',
        "bins/b/tests/cli.rs": 'concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/q.jsonl")',
        "scripts/run.sh": 'cd "$(dirname "$0")/.." && cat ~/.cache/nlq/x',
        "docs/guide.md": "The shared schema; see ../README.md and docs/emulators.md.",
        "README.md": "Run `nlq eval fixtures/q.jsonl`.",
    }
    manifests = ["crates/a/Cargo.toml", "bins/b/Cargo.toml"]
    failures = []
    for name, tree in (("bad", cases), ("clean", clean)):
        with tempfile.TemporaryDirectory() as tmp:
            root = os.path.join(tmp, "repo")
            for rel, text in list(tree.items()) + [(m, "[package]\n") for m in manifests]:
                path = os.path.join(root, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text + "\n")
            flagged = {rel for rel, _, _ in findings(root)}
            expected = set(cases) if name == "bad" else set()
            if flagged != expected:
                failures.append(f"{name} tree: flagged {sorted(flagged)}, expected {sorted(expected)}")
    for failure in failures:
        print(f"self-contained-check --self-test: {failure}", file=sys.stderr)
    if not failures:
        print("self-contained-check --self-test: every reach caught, clean tree passes", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    if args == ["--self-test"]:
        sys.exit(self_test())
    if len(args) > 1 or (args and args[0].startswith("-")):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    default = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    sys.exit(check(args[0] if args else default))
