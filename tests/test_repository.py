"""What the repository may hold (issue 18): no large file and no private key.

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
