"""One module per chapter; each function returns a Markdown block for a notebook cell."""

from safeguarding.report.sections import (
    allegations,
    appendix,
    child_protection,
    editorial,
    partners,
    private_fostering,
    referrals,
    summary,
    voice,
)

__all__ = ["allegations", "appendix", "child_protection", "editorial", "partners", "private_fostering", "referrals",
           "summary", "voice"]
