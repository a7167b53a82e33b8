"""The house style: colours, markers, line styles, the :class:`Chart` record and matplotlib's settings."""

from __future__ import annotations

from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg", force=False)

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

#: Okabe-Ito colours, ordered so that neighbours differ in lightness (greyscale-safe)
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#000000",  # black
    "#009E73",  # bluish green
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
)
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "*")
#: a dash pattern is (offset, (on, off, ...)) in points
Dash = str | tuple[int, tuple[int, ...]]
LINESTYLES: tuple[Dash, ...] = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)), (0, (3, 1, 1, 1, 1, 1)), "-", "--")
HATCHES: tuple[str, ...] = ("", "///", "...", "xxx", "\\\\\\", "+++", "ooo", "---")

GREY = "#6F777B"  # GOV.UK dark grey: axes, limits, context
LIGHT_GREY = "#DDDDDD"
TEXT = "#0B0C0C"  # GOV.UK text colour
IMPROVEMENT = "#0072B2"  # Making Data Count: blue
CONCERN = "#E69F00"  # Making Data Count: orange
NEITHER = "#CC79A7"  # special cause where direction has no polarity: purple
HIGHLIGHT = "#D55E00"  # the council in comparisons

#: ``gid`` of a figure written beside its point, and of the same figure written above its bar instead (hidden
#: until :func:`~safeguarding.charts.fit.fit_to_width` finds the points too close together for the first)
VALUE_BESIDE = "value-beside"
VALUE_ABOVE = "value-above"

#: marker shape per SPC signal, so the signal does not rely on colour; labels in the report's words (a board
#: member reads "unusual" and "ordinary variation", as the sentences and the appendix say, not "special cause"
#: and "no polarity")
SIGNAL_STYLE: dict[str, dict] = {
    "common": {"color": GREY, "marker": "o", "s": 22, "label": "Ordinary variation"},
    "improvement": {"color": IMPROVEMENT, "marker": "s", "s": 60, "label": "Unusual: improvement"},
    "concern": {"color": CONCERN, "marker": "^", "s": 75, "label": "Unusual: concern"},
    "neither": {"color": NEITHER, "marker": "D", "s": 50, "label": "Unusual (neither better nor worse)"},
}

RAG_SYMBOLS: dict[str, str] = {"green": "▲ Green", "amber": "● Amber", "red": "▼ Red", "n/a": "– N/A"}


@dataclass
class Chart:
    """A finished chart: the figure plus the words that must travel with it."""

    figure: Figure
    title: str
    alt_text: str
    caption: str
    note: str = ""
    data: pd.DataFrame | None = field(default=None, repr=False)

    def close(self) -> None:
        """Release the figure's memory."""
        plt.close(self.figure)


# --------------------------------------------------------------------------- style
def apply_house_style() -> None:
    """Set matplotlib/seaborn defaults: 11pt text, light grid, no top/right spines, Okabe-Ito colours.

    Maths parsing is off, so labels, titles and legends taken from the data are
    drawn literally (the chart's one escaping rule).
    """
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook", palette=list(PALETTE))
    plt.rcParams.update({
        "font.family": "sans-serif",
        "font.sans-serif": ["Liberation Sans", "Arial", "Helvetica", "DejaVu Sans"],
        "font.size": 11,
        "axes.titlesize": 13,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "axes.titlepad": 22,
        "axes.labelsize": 11,
        "axes.labelcolor": TEXT,
        "axes.edgecolor": GREY,
        "axes.linewidth": 0.8,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "axes.grid.axis": "y",
        "axes.prop_cycle": matplotlib.cycler(color=list(PALETTE)),  # type: ignore[attr-defined]
        "grid.color": LIGHT_GREY,
        "grid.linewidth": 0.6,
        "xtick.labelsize": 10,
        "ytick.labelsize": 10,
        "xtick.color": TEXT,
        "ytick.color": TEXT,
        "text.color": TEXT,
        "legend.fontsize": 10,
        "legend.frameon": False,
        "figure.figsize": (8.0, 4.5),
        "figure.dpi": 100,
        "figure.facecolor": "white",
        "savefig.facecolor": "white",
        "savefig.bbox": "tight",
        "lines.linewidth": 2.0,
        "lines.markersize": 5,
        "hatch.linewidth": 0.8,
        "svg.fonttype": "none",
        # everything from data is text: '$...$' in a team or sector name is drawn as written, not as maths
        "text.parse_math": False,
        "text.usetex": False,
    })


def _new_figure(width: float = 8.0, height: float = 4.5):
    apply_house_style()
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return fig, ax


def _finish(fig: Figure, ax, title: str, y_label: str | None) -> None:
    """Title top-left; the y-axis label sits horizontally under it (GOV.UK style)."""
    if not title or not str(title).strip():
        raise ValueError("every chart needs a title that states the finding")
    ax.set_title(title, loc="left", fontsize=13, fontweight="bold", pad=22 if y_label else 10)
    if y_label:
        ax.annotate(y_label, xy=(0, 1), xycoords="axes fraction", xytext=(0, 6), textcoords="offset points",
                    ha="left", va="bottom", fontsize=10, color=GREY)
    ax.set_ylabel("")
