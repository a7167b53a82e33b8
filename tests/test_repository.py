"""What the repository may hold (issue 18): no large file, no private key, no more overly complex functions.

The pre-commit hooks (``check-added-large-files``, ``detect-private-key``) stop these on a developer's
machine once ``pre-commit install`` has run; this test checks every committed file in CI, where no hook
runs. The publish tests make their throwaway SSH keys at run time, in a temporary folder.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
#: the largest a committed file may be (the demo's referrals, the largest today, are about 670 kB)
MAX_BYTES = 1024 * 1024
#: the first line of a private key, in the forms detect-private-key looks for
PRIVATE_KEY = re.compile(rb"-----BEGIN (?:RSA |DSA |EC |OPENSSH |PGP |ENCRYPTED |SSH2 ENCRYPTED )?PRIVATE KEY"
                         rb"(?: BLOCK)?-----|PuTTY-User-Key-"
                         rb"File-")  # written apart, so this file holds no key header itself


def _committed() -> list[Path]:
    if shutil.which("git") is None or not (PROJECT / ".git").exists():
        pytest.skip("not a git clone")
    out = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT, capture_output=True, check=True).stdout
    return [PROJECT / name for name in out.decode("utf-8").split("\0") if name]


def test_no_committed_file_is_large():
    large = [(p.relative_to(PROJECT).as_posix(), p.stat().st_size) for p in _committed()
             if p.is_file() and p.stat().st_size > MAX_BYTES]
    assert not large, f"files over {MAX_BYTES // 1024} kB: {large}; keep data out of git (see .gitignore)"


def test_no_committed_file_holds_a_private_key():
    keys = [p.relative_to(PROJECT).as_posix() for p in _committed()
            if p.is_file() and PRIVATE_KEY.search(p.read_bytes())]
    assert not keys, f"private keys committed: {keys}; remove them from git and its history, and replace the keys"


def test_the_private_key_pattern_finds_a_key():
    """The check above could fail: the pattern finds the header of a key ssh-keygen would write."""
    begin, private = b"-----BEGIN ", b"PRIVATE KEY-----"  # apart, so this file holds no key header itself
    assert PRIVATE_KEY.search(b"x\n" + begin + b"OPENSSH " + private + b"\nb3Blbn...\n")
    assert PRIVATE_KEY.search(begin + b"RSA " + private)
    assert not PRIVATE_KEY.search(begin + b"PUBLIC KEY-----")


#: functions over ruff's complexity limit (C901, ``max-complexity`` in pyproject.toml) when it came in, each
#: marked with ruff's noqa comment for C901 on its ``def`` line: this number may only fall (lower it when you
#: split one)
COMPLEX_FUNCTIONS = 25
#: a function's first line carrying the exception
COMPLEXITY_EXCEPTION = re.compile(r"^\s*(?:async\s+)?def\s.*#\s*noqa:[^#]*\bC901\b")


def test_the_functions_over_the_complexity_limit_only_get_fewer():
    marked = [(p.relative_to(PROJECT).as_posix(), n) for p in _committed() if p.suffix == ".py" and p.is_file()
              for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
              if COMPLEXITY_EXCEPTION.search(line)]
    assert len(marked) <= COMPLEX_FUNCTIONS, (
        f"{len(marked)} functions excepted from the complexity limit, more than {COMPLEX_FUNCTIONS}: split the new "
        f"one instead ({marked})")
    assert len(marked) == COMPLEX_FUNCTIONS, (
        f"{COMPLEX_FUNCTIONS - len(marked)} fewer complex functions: lower COMPLEX_FUNCTIONS to {len(marked)}")


def test_the_code_passes_ruff_with_the_complexity_limit():
    """``ruff check .`` is clean (the lint rules and the complexity limit in pyproject.toml), here so CI runs it."""
    import sys

    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=PROJECT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
