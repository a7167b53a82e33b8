"""Saving a chart, and fitting its text to the width it is shown at (the narrow version for phones)."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)

from matplotlib.figure import Figure

from safeguarding.charts.style import VALUE_ABOVE, VALUE_BESIDE, Chart


# --------------------------------------------------------------------------- output
def save_chart(chart: Chart, path: str | Path, dpi: int = 150) -> Path:
    """Write the chart as PNG (with its title and alt text in the PNG metadata); return the path.

    Text that would run past the chart's width is wrapped and crowded x-axis
    labels thinned for the saving only (:func:`fit_to_width`), so the image is
    as wide as the figure and its labels keep their size when it is shown.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    undo = fit_to_width(chart.figure)
    try:
        chart.figure.savefig(path, dpi=dpi, format="png",
                             metadata={"Title": chart.title, "Description": chart.alt_text[:2000],
                                       "Software": "safeguarding annual review"})
    finally:
        for step in reversed(undo):
            step()
    return path


#: the size a chart is drawn at for phones (inches): its labels keep their point size, so shown about
#: 340 px wide they are about 11 px high instead of about 4 px for the 8-inch chart shrunk to fit
NARROW_SIZE: tuple[float, float] = (4.2, 4.2)


def narrow_path(path: str | Path) -> Path:
    """Where the phone-sized rendering of the chart saved at ``path`` is kept (``x.png`` -> ``x.narrow.png``)."""
    path = Path(path)
    return path.with_name(f"{path.stem}.narrow{path.suffix}")


def save_narrow_chart(chart: Chart, path: str | Path, dpi: int = 150) -> Path:
    """Write the chart again, drawn for a phone screen (:data:`NARROW_SIZE`), beside ``path``; return its path.

    The figure is resized, not scaled: text keeps its size in points while the
    plot area shrinks, so the labels stay legible on a 390 px screen. The web
    page shows this rendering on narrow screens and the full one elsewhere.
    Text that would run past the right edge (the title, labels at the ends of
    lines, notes) is wrapped onto more lines and crowded x-axis labels are
    thinned (:func:`fit_to_width`, as for every saved chart), so the image is
    no wider than :data:`NARROW_SIZE`; the chart is left as it was.
    """
    width, height = chart.figure.get_size_inches()
    chart.figure.set_size_inches(*NARROW_SIZE)
    try:
        return save_chart(chart, narrow_path(path), dpi=dpi)
    finally:
        chart.figure.set_size_inches(width, height)


#: the narrowest a wrapped label may become (characters), and the space kept between x-axis labels (points)
_MIN_WRAP, _TICK_GAP = 10, 4.0
#: the largest share of a chart's width the category names on its y axis may take before they are wrapped
_Y_LABEL_SHARE = 0.3


def _wrapped(text: str, chars: int) -> str:
    import textwrap

    return "\n".join(textwrap.fill(line, max(_MIN_WRAP, chars), break_long_words=False, break_on_hyphens=False)
                     or line for line in text.split("\n"))


def _draw(fig: Figure) -> bool:
    """Lay the figure out (without painting it); False when the constrained layout gave up (the plot squeezed
    to nothing)."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.draw_without_rendering()
    gave_up = [w for w in caught if "constrained_layout not applied" in str(w.message)]
    for w in caught:
        if w not in gave_up:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return not gave_up


def fit_to_width(fig: Figure, rounds: int = 4) -> list:  # noqa: C901
    """Make every piece of the figure fit inside its width; return the steps that undo the changes.

    * Labels drawn to the right of a plot (at the ends of lines) are wrapped to
      at most a quarter of the figure's width, then moved apart so that none
      overlaps another (the constrained layout leaves room for them).
    * Any other text (title, subtitle, annotations, legend entries) wider than
      the figure, or than the room between its left edge and the figure's
      right edge, is wrapped onto more lines.
    * Figures written beside their points (:data:`~.style.VALUE_BESIDE`)
      that run into the next point's bar are written above the bars instead
      (:data:`~.style.VALUE_ABOVE`); where those crowd one another too, only
      the latest period's figure is kept (the others are in the table, the
      caption's words and the alt text).
    * X-axis labels that overlap their neighbours are thinned: every k-th
      label is kept (the tick marks stay), k as small as leaves a gap.

    Tick labels are never wrapped. With the house style's constrained layout
    the plot then shrinks to leave room for what is beside and above it.
    """
    from matplotlib.text import Text

    undo: list = []
    laid_out = _draw(fig)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]  # the Agg canvas, always, here
    pad = 4 * fig.dpi / 72
    axes = list(fig.axes)
    ticks = {id(t) for ax in axes for t in (*ax.get_xticklabels(), *ax.get_yticklabels())}
    if laid_out and _fits(fig, renderer, axes, ticks):
        return undo  # most charts at full size: one layout, nothing to change

    # every change below is recorded in ``undo``: a layout is done again only when something changed since
    # the last (an unchanged figure would be laid out the same, and each layout is most of a chart's time)
    changes_laid_out = 0

    def redraw() -> bool:
        nonlocal changes_laid_out, laid_out
        if len(undo) != changes_laid_out:
            changes_laid_out, laid_out = len(undo), _draw(fig)
        return laid_out

    def set_text(t: Text, new: str) -> None:
        old = t.get_text()
        t.set_text(new)
        undo.append(lambda t=t, old=old: t.set_text(old))

    first: dict[int, tuple[str, float]] = {}  # a wrapped text's own words and their width on one line

    def wrap_to(t: Text, room: float) -> bool:
        box = t.get_window_extent(renderer)
        if box.width <= room or room <= 0:
            return False
        original, width = first.setdefault(id(t), (t.get_text(), box.width))
        longest = max(len(line) for line in original.split("\n"))
        new = _wrapped(original, int(longest * room / width))
        if new == t.get_text():
            return False
        set_text(t, new)
        return True

    # long category names on a y axis (horizontal bars): wrapped, so the plot keeps most of the width
    for ax in axes:
        labels = [lab for lab in ax.get_yticklabels() if lab.get_text().strip()]
        widest = max((lab.get_window_extent(renderer).width for lab in labels), default=0.0)
        if widest > _Y_LABEL_SHARE * fig.bbox.width:
            longest = max(len(line) for lab in labels for line in lab.get_text().split("\n"))
            chars = max(_MIN_WRAP, int(longest * 0.85 * _Y_LABEL_SHARE * fig.bbox.width / widest))
            old_fmt = ax.yaxis.get_major_formatter()
            ax.yaxis.set_major_formatter(_WrappedLabels(old_fmt, chars))
            undo.append(lambda axis=ax.yaxis, fmt=old_fmt: axis.set_major_formatter(fmt))
    # a key (legend) that covers a note inside the plot, takes most of its width, or hangs wider than the plot
    # from under it: moved under the whole figure (where the layout makes room for it), in as many columns as fit
    for ax in axes:
        legend = ax.get_legend()
        if legend is None or not legend.get_visible():
            continue
        box = legend.get_window_extent(renderer)
        inside = legend.get_bbox_to_anchor().bounds == ax.bbox.bounds
        notes = [t.get_window_extent(renderer) for t in ax.texts if t.get_visible() and t.get_text().strip()]
        if inside:
            crowded = box.width > 0.45 * ax.bbox.width or any(box.overlaps(n) for n in notes)
        else:
            crowded = box.width > 0.95 * ax.bbox.width
        if not crowded:
            continue
        names = [t.get_text() for t in legend.get_texts()]
        size = legend.get_texts()[0].get_fontsize() if names else None
        moved = None
        for n in range(max(1, legend._ncols), 0, -1):  # type: ignore[attr-defined]  # private: no getter
            if moved is not None:
                moved.remove()
            moved = fig.legend(legend.legend_handles, names, loc="outside lower center", ncols=n,  # type: ignore[call-overload]
                               fontsize=size)
            if moved.get_window_extent(renderer).width <= fig.bbox.width - 2 * pad:
                break
        legend.set_visible(False)
        undo.append(lambda legend=legend, moved=moved: (moved.remove(), legend.set_visible(True)))
    redraw()
    texts = [t for t in fig.findobj(Text)
             if id(t) not in ticks and t.get_visible() and t.get_text().strip()]
    # labels beside the plots (at the ends of lines): a quarter of the width at most
    outside = [t for t in texts if t.axes is not None
               and t.get_window_extent(renderer).x0 >= t.axes.bbox.x1 - 1]
    for t in outside:
        wrap_to(t, fig.bbox.width / 4)
    # anything else wider than a plot can be (its width alone: the layout may not be settled yet)
    others = [t for t in texts if t not in outside]
    for t in others:
        wrap_to(t, 0.8 * fig.bbox.width)
    # then by position, once the layout is settled: titles and legends up to the figure's edge, a note
    # written inside a plot up to the plot's edge (the layout would squeeze the plot to make room for it)
    titles = {id(getattr(ax, name)) for ax in axes for name in ("title", "_left_title", "_right_title")}
    for _ in range(rounds):
        if not redraw():
            break
        right_edge = fig.bbox.x1 - pad
        changed = False
        for t in others:
            box = t.get_window_extent(renderer)
            edge = right_edge
            owner = t.axes
            if owner is not None and id(t) not in titles and box.x0 < owner.bbox.x1 - 1:
                edge = min(edge, owner.bbox.x1)
            if box.x1 > edge + 1:
                changed |= wrap_to(t, edge - max(box.x0, fig.bbox.x0))
        if not changed:
            break
    # a note under the title (the axis label) that now takes more lines: the title moves up to clear it
    redraw()
    for ax in axes:
        title = ax._left_title if ax._left_title.get_text() else ax.title  # type: ignore[attr-defined]
        if not title.get_text() or not hasattr(ax, "_set_title_offset_trans"):
            continue
        top = title.get_window_extent(renderer)
        below = [t.get_window_extent(renderer) for t in ax.texts if t.get_visible() and t.get_text().strip()
                 and t.get_window_extent(renderer).overlaps(top)]
        if below:
            rise = max(b.y1 for b in below) - top.y0 + 2 * fig.dpi / 72
            pad = ax.titleOffsetTrans.get_matrix()[1, 2] * 72 / fig.dpi  # type: ignore[attr-defined]
            ax._set_title_offset_trans(pad + rise * 72 / fig.dpi)
            undo.append(lambda ax=ax, pad=pad: ax._set_title_offset_trans(pad))
    if outside:
        redraw()
        _space_apart(outside, renderer, undo)
    # figures beside points that run into the next bar: written above the bars instead
    redraw()
    if _raise_values(axes, renderer, undo):
        redraw()
    # crowded x-axis labels: keep every k-th (laid out once more in any case: the layout settles over a few
    # rounds, and the labels are judged on the plot's final width)
    _draw(fig)
    for ax in axes:
        boxes = sorted((lab.get_window_extent(renderer) for lab in shown_tick_labels(ax)), key=lambda b: b.x0)
        gap = _TICK_GAP * fig.dpi / 72
        step = next((k for k in range(1, len(boxes) + 1)
                     if all(boxes[i].x1 + gap <= boxes[i + k].x0 for i in range(len(boxes) - k))), 1)
        if step > 1:
            axis = ax.xaxis
            old_fmt = axis.get_major_formatter()
            axis.set_major_formatter(_Thinned(old_fmt, step))
            undo.append(lambda axis=axis, fmt=old_fmt: axis.set_major_formatter(fmt))
    return undo


def _value_labels(ax, gid: str) -> list:
    """The figures of ``ax`` written with ``gid`` (:data:`~.style.VALUE_BESIDE`, :data:`~.style.VALUE_ABOVE`),
    left to right by the point they belong to."""
    return sorted((t for t in ax.texts if t.get_gid() == gid), key=lambda t: t.xy[0])


#: room kept between a figure beside a point and the next bar's cap (points): the cap is 6 points each side
_VALUE_ROOM = 6.0 + 2.0


def _values_collide(ax, renderer) -> bool:
    """True when a figure written beside its point reaches the next point's bar (within :data:`_VALUE_ROOM`)."""
    beside = [t for t in _value_labels(ax, VALUE_BESIDE) if t.get_visible()]
    room = _VALUE_ROOM * ax.figure.dpi / 72
    for here, there in itertools.pairwise(beside):
        next_x = ax.transData.transform((there.xy[0], there.xy[1]))[0]
        if here.get_window_extent(renderer).x1 > next_x - room:
            return True
    return False


def _raise_values(axes: list, renderer, undo: list) -> bool:
    """Figures beside points that reach the next bar moved above the bars; True when anything changed.

    Where the figures above the bars would touch one another as well, only
    the last (the latest period, drawn in the main colour) is kept.
    """
    changed = False
    for ax in axes:
        if not _values_collide(ax, renderer):
            continue
        beside, above = _value_labels(ax, VALUE_BESIDE), _value_labels(ax, VALUE_ABOVE)
        gap = _TICK_GAP * ax.figure.dpi / 72
        for b, a in zip(beside, above, strict=True):
            shown = b.get_visible()
            b.set_visible(False)
            a.set_visible(shown)
            undo.append(lambda b=b, a=a, shown=shown: (b.set_visible(shown), a.set_visible(False)))
        boxes = [a.get_window_extent(renderer) for a in above if a.get_visible()]
        if any(p.x1 + gap > q.x0 for p, q in itertools.pairwise(boxes)):
            for a in [a for a in above if a.get_visible()][:-1]:
                a.set_visible(False)
                undo.append(lambda a=a: a.set_visible(True))
        changed = True
    return changed


def _crowded_ticks(ax, renderer, gap: float) -> bool:
    boxes = sorted((lab.get_window_extent(renderer) for lab in shown_tick_labels(ax)), key=lambda b: b.x0)
    return any(a.x1 + gap > b.x0 for a, b in itertools.pairwise(boxes))


def _fits(fig: Figure, renderer, axes: list, ticks: set[int]) -> bool:  # noqa: C901
    """True when nothing :func:`fit_to_width` mends is wrong: no text past the figure's edges or past its
    plot's edge, no label beside a plot wider than a quarter of the figure, no crowded x-axis labels, no
    category label over a third of the width, no key crowding its plot, no title over the note under it, no
    figure beside a point running into the next bar."""
    from matplotlib.text import Text

    left, right = fig.bbox.x0 - 1, fig.bbox.x1 + 1
    titles = {id(getattr(ax, name)) for ax in axes for name in ("title", "_left_title", "_right_title")}
    for t in fig.findobj(Text):
        if id(t) in ticks or not t.get_visible() or not t.get_text().strip():
            continue
        box = t.get_window_extent(renderer)
        if box.x1 > right or box.x0 < left:
            return False
        owner = t.axes
        if owner is not None and id(t) not in titles:
            if box.x0 >= owner.bbox.x1 - 1 and box.width > fig.bbox.width / 4:
                return False
            if box.x0 < owner.bbox.x1 - 1 and box.x1 > owner.bbox.x1 + 1 \
                    and t not in (own.get_texts() if (own := owner.get_legend()) is not None else []):
                return False
    gap = _TICK_GAP * fig.dpi / 72
    for ax in axes:
        if _crowded_ticks(ax, renderer, gap) or _values_collide(ax, renderer):
            return False
        if any(lab.get_window_extent(renderer).x1 > right for lab in shown_tick_labels(ax)):
            return False
        if any(lab.get_window_extent(renderer).width > _Y_LABEL_SHARE * fig.bbox.width
               for lab in ax.get_yticklabels() if lab.get_text().strip()):
            return False
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            box = legend.get_window_extent(renderer)
            if legend.get_bbox_to_anchor().bounds == ax.bbox.bounds:
                notes = [t.get_window_extent(renderer) for t in ax.texts if t.get_visible() and t.get_text().strip()]
                if box.width > 0.45 * ax.bbox.width or any(box.overlaps(n) for n in notes):
                    return False
            elif box.width > 0.95 * ax.bbox.width:
                return False
        title = ax._left_title if ax._left_title.get_text() else ax.title
        if title.get_text():
            top = title.get_window_extent(renderer)
            if any(t.get_window_extent(renderer).overlaps(top) for t in ax.texts
                   if t.get_visible() and t.get_text().strip()):
                return False
    return True


class _Relabel(matplotlib.ticker.Formatter):
    """Another formatter's labels, changed by :meth:`relabel` (the tick positions stay the other's)."""

    def __init__(self, inner: matplotlib.ticker.Formatter) -> None:
        self.inner = inner

    def set_axis(self, axis) -> None:
        super().set_axis(axis)
        self.inner.set_axis(axis)

    def relabel(self, labels: list[str]) -> list[str]:  # pragma: no cover - every subclass says how
        raise NotImplementedError

    def format_ticks(self, values) -> list[str]:
        return self.relabel(list(self.inner.format_ticks(values)))

    def __call__(self, x, pos=None) -> str:
        return self.inner(x, pos)


class _WrappedLabels(_Relabel):
    """Another formatter's labels wrapped onto lines of at most ``chars`` characters (between words)."""

    def __init__(self, inner: matplotlib.ticker.Formatter, chars: int) -> None:
        super().__init__(inner)
        self.chars = chars

    def relabel(self, labels: list[str]) -> list[str]:
        return [_wrapped(lab, self.chars) for lab in labels]


def shown_tick_labels(ax) -> list:
    """The x-axis tick labels drawn on ``ax``: inside the axis's limits, visible and not blank."""
    lo, hi = sorted(ax.get_xlim())
    span = (hi - lo) * 1e-9
    return [tick.label1 for tick in ax.xaxis.get_major_ticks()
            if lo - span <= tick.get_loc() <= hi + span and tick.label1.get_visible()
            and tick.label1.get_text().strip()]


class _Thinned(_Relabel):
    """Another formatter's labels with only every ``step``-th kept (the others blank)."""

    def __init__(self, inner: matplotlib.ticker.Formatter, step: int) -> None:
        super().__init__(inner)
        self.step = step

    def relabel(self, labels: list[str]) -> list[str]:
        return [lab if i % self.step == 0 else "" for i, lab in enumerate(labels)]


def _space_apart(labels: list, renderer, undo: list) -> None:
    """Move labels drawn beside a plot (annotations) up so that none overlaps the one below it."""
    from matplotlib.text import Annotation

    by_axes: dict[int, list] = {}
    for t in labels:
        if isinstance(t, Annotation) and t.axes is not None:
            by_axes.setdefault(id(t.axes), []).append(t)
    for group in by_axes.values():
        boxes = sorted(((t.get_window_extent(renderer), t) for t in group), key=lambda bt: bt[0].y0)
        top = -math.inf
        for box, t in boxes:
            gap = 2 * t.figure.dpi / 72
            shift = max(0.0, top + gap - box.y0)
            if shift:
                old = tuple(t.xyann)
                t.xyann = (old[0], old[1] + shift * 72 / t.figure.dpi)
                undo.append(lambda t=t, old=old: setattr(t, "xyann", old))
            top = box.y1 + shift
        over = top - max(t.axes.bbox.y1 for t in group)
        if over > 0:  # the pile reaches above the plot: move it down, as far as the plot's bottom allows
            down = min(over, max(0.0, boxes[0][0].y0 - group[0].axes.bbox.y0))
            for t in group:
                old = tuple(t.xyann)
                t.xyann = (old[0], old[1] - down * 72 / t.figure.dpi)
                undo.append(lambda t=t, old=old: setattr(t, "xyann", old))
