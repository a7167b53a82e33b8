"""The report layer: what the chapter notebooks call to show tables, charts and sentences."""

from safeguarding.report import sections
from safeguarding.report.context import ReportContext

__all__ = ["ReportContext", "sections"]
