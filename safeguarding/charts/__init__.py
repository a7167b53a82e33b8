"""Charts in one house style for the annual review.

Style follows the Government Analysis Function guidance on data visualisation
(https://analysisfunction.civilservice.gov.uk/policy-store/data-visualisation-charts/):
sentence-case titles that state the finding, horizontal axis text, light grid,
no chart junk, direct labels instead of legends where possible, the source in
the caption, and alt text for every chart.

Colour is never the only carrier of meaning: every series also differs by
marker, line style or hatching, and the palette is ordered so that the first
colours differ in lightness and stay distinguishable when printed in
greyscale. The palette is Okabe and Ito's colour-universal-design palette
(Okabe M. and Ito K., "Color Universal Design (CUD): how to make figures and
presentations that are friendly to colorblind people", 2008,
https://jfly.uni-koeln.de/color/), safe for the common forms of colour vision
deficiency.

SPC charts use the NHS England "Making Data Count" conventions: grey for
common-cause variation, blue for special cause improvement, orange for
special cause concern (each with its own marker shape), grey limits.

Every function returns a :class:`Chart`: the matplotlib figure, the title,
alt text generated from the data, and a caption (source and definition).
"""

from __future__ import annotations

from safeguarding.charts.fit import (
    NARROW_SIZE,
    fit_to_width,
    narrow_path,
    save_chart,
    save_narrow_chart,
    shown_tick_labels,
)
from safeguarding.charts.kinds import (
    bar_chart,
    before_after_chart,
    funnel_chart,
    interval_chart,
    line_chart,
    rag_label,
    rag_table,
    spc_chart,
    stacked_bar_chart,
)
from safeguarding.charts.style import (
    CONCERN,
    GREY,
    HATCHES,
    HIGHLIGHT,
    IMPROVEMENT,
    LIGHT_GREY,
    LINESTYLES,
    MARKERS,
    NEITHER,
    PALETTE,
    RAG_SYMBOLS,
    SIGNAL_STYLE,
    TEXT,
    Chart,
    Dash,
    apply_house_style,
)
from safeguarding.charts.words import describe_series

__all__ = [
    "CONCERN",
    "GREY",
    "HATCHES",
    "HIGHLIGHT",
    "IMPROVEMENT",
    "LIGHT_GREY",
    "LINESTYLES",
    "MARKERS",
    "NARROW_SIZE",
    "NEITHER",
    "PALETTE",
    "RAG_SYMBOLS",
    "SIGNAL_STYLE",
    "TEXT",
    "Chart",
    "Dash",
    "apply_house_style",
    "bar_chart",
    "before_after_chart",
    "describe_series",
    "fit_to_width",
    "funnel_chart",
    "interval_chart",
    "line_chart",
    "narrow_path",
    "rag_label",
    "rag_table",
    "save_chart",
    "save_narrow_chart",
    "shown_tick_labels",
    "spc_chart",
    "stacked_bar_chart",
]
