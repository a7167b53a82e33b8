"""Indicator methods, one module per source table; importing this package registers every one of them.

Each method is a function decorated with :func:`safeguarding.indicators.registry.method`, which names it
(the ``method:`` of catalogue entries) and declares the table it counts. A new module must be imported here.
"""

from safeguarding.indicators.methods import (  # noqa: F401  (importing registers the methods)
    cp_plans,
    icpc,
    lado,
    local,
    private_fostering,
    referrals,
    s47,
)
