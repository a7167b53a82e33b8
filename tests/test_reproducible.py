"""The same inputs give the same published bytes: nothing in a page depends on the order a hash table keeps."""

from __future__ import annotations

import re
import subprocess

from safeguarding.publish.builtin import pandoc_path, template_path

TABLE = """\
| Area | Count |
|------|------:|
| A    | 1,490 |

: Table 1.1: Plans by area {#tbl-x}
"""


def test_the_table_wrapper_attributes_are_written_in_one_fixed_order(tmp_path):
    """Found by building the demo twice: the wrapper's attributes came from a Lua table keyed by name, whose
    order changes with every pandoc process, so two builds of the same data gave different HTML."""
    src = tmp_path / "t.md"
    src.write_text(TABLE, encoding="utf-8")
    seen = set()
    for _ in range(8):  # each pandoc process seeds Lua's hash afresh; 8 runs all agreeing by chance is ~1 in 10^4
        html = subprocess.run([pandoc_path(), str(src), "--from=markdown", "--to=html5",
                               f"--lua-filter={template_path('guard.lua')}"],
                              check=True, capture_output=True, text=True).stdout
        wrapper = re.search(r'<div class="table-wrap"[^>]*>', html)
        assert wrapper, html
        seen.add(" ".join(wrapper.group(0).split()))
    assert seen == {'<div class="table-wrap" tabindex="0" role="region" '
                    'aria-label="Table 1.1: Plans by area">'}, seen
