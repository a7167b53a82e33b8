"""One module per chapter; each function returns a Markdown block for a notebook cell."""

from safeguarding.report.sections import (
    allegations,
    appendix,
    child_protection,
    editorial,
    private_fostering,
    referrals,
    summary,
)

__all__ = ["allegations", "appendix", "child_protection", "editorial", "private_fostering", "referrals", "summary"]
