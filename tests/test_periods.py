"""Period labels come from one place (issue 18, item 4): ``safeguarding.periods``."""

from __future__ import annotations

import numpy as np
import pytest

from safeguarding.periods import financial_year_label, financial_year_labels


@pytest.mark.parametrize("year, label", [(2025, "2024-25"), (2000, "1999-00"), (2010, "2009-10"), (2101, "2100-01")])
def test_financial_year_label_as_dfe_publishes_it(year, label):
    assert financial_year_label(year) == label
    assert financial_year_label(np.int64(year)) == label


def test_every_label_helper_is_the_one_function():
    """The site, the report, the statistics and the configuration all say the same label for every year."""
    from types import SimpleNamespace

    from safeguarding.config import Config
    from safeguarding.report.context import fy_label
    from safeguarding.site import year_label
    from safeguarding.stats.verdicts import financial_year_label as stats_label

    for year in range(1999, 2102):
        expected = financial_year_label(year)
        config_label = Config.year_label.fget(SimpleNamespace(year=year))
        assert {fy_label(year), year_label(year), stats_label(year), config_label} == {expected}, year
    assert list(financial_year_labels(np.array([2024, 2025]))) == ["2023-24", "2024-25"]
