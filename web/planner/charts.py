"""Charts drawn on the server as SVG: no script, no CDN, readable in any language the labels are in.

Every bar is a link to the overrides behind it, so a chart is a way into the data, not a picture.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup, escape

SEGMENTS = [("beat", "#2e7d32", _l("beat the rules")), ("tie", "#90a4ae", _l("tie")),
            ("lost", "#c62828", _l("lost")), ("pending", "#ffca80", _l("pending"))]


def _count(key: str, num: int) -> str:
    """"3 beat the rules": the verb agrees with the number in French."""
    if key == "beat":
        return ngettext("%(num)s beat the rules", "%(num)s beat the rules", num)
    if key == "tie":
        return ngettext("%(num)s tie", "%(num)s ties", num)
    if key == "lost":
        return ngettext("%(num)s lost", "%(num)s lost", num)
    return ngettext("%(num)s pending", "%(num)s pending", num)


def _segment_title(row: dict, key: str) -> str:
    return escape(_("%(label)s: %(text)s", label=row["label"], text=_count(key, row[key])))


LEGEND_ROW = 16


def _legend(width: int) -> tuple[str, int]:
    """The colours' key, wrapped onto another row where the next entry would leave `width` (French labels are
    longer: one row of them ran past the chart's edge, the last entry out of sight); and the height it takes."""
    x, y, parts = 0, 0, []
    for key, colour, text in SEGMENTS:
        label = escape(str(text))
        needed = 17 + 7 * len(str(text))
        if x and x + needed > width:
            x, y = 0, y + LEGEND_ROW
        parts.append(f'<rect x="{x}" y="{y}" width="12" height="12" rx="2" fill="{colour}"/>'
                     f'<text x="{x + 17}" y="{y + 10}" class="legend">{label}</text>')
        x += needed + 13
    return "".join(parts), y + LEGEND_ROW


def weekly(rows: list[dict], link, title: str) -> Markup:
    """Stacked columns per week (beat, tie, lost, pending), in date order; each column links to its week."""
    if not rows:
        return Markup("")
    height, top, bottom, left = 180, 18, 40, 34
    step = max(22, min(90, 1200 // len(rows)))
    width = left + step * len(rows) + 10
    peak = max([r["count"] for r in rows] + [1])
    scale = (height - top - bottom) / peak
    legend, legend_h = _legend(max(width, 420) - left)
    out = [f'<svg class="chart" role="img" viewBox="0 0 {max(width, 420)} {height + 8 + legend_h}" '
           f'width="{max(width, 420)}" height="{height + 8 + legend_h}" aria-label="{escape(title)}">'
           f'<title>{escape(title)}</title>']
    base = height - bottom
    for tick in sorted({0, peak // 2, peak}):
        y = base - tick * scale
        out.append(f'<line x1="{left - 4}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                   f'<text x="{left - 8}" y="{y + 4:.1f}" class="axis" text-anchor="end">{tick}</text>')
    for i, r in enumerate(rows):
        x = left + i * step + 3
        y = base
        segs = []
        for key, colour, _text in SEGMENTS:
            h = r[key] * scale
            if h:
                y -= h
                segs.append(f'<rect x="{x}" y="{y:.1f}" width="{step - 6}" height="{h:.1f}" fill="{colour}">'
                            f'<title>{_segment_title(r, key)}</title></rect>')
        count = f'<text x="{x + (step - 6) / 2:.1f}" y="{y - 4:.1f}" class="value" text-anchor="middle">' \
                f'{r["count"]}</text>' if r["count"] else ""
        short = escape(r.get("short", r["label"]))
        out.append(f'<a href="{escape(link(r))}" class="bar" data-key="{escape(r["key"])}">'
                   f'<rect x="{x - 2}" y="{top - 6}" width="{step - 2}" height="{base - top + 6}" class="hit"/>'
                   f'{"".join(segs)}{count}'
                   f'<text x="{x + (step - 6) / 2:.1f}" y="{base + 14}" class="axis" text-anchor="middle">{short}</text>'
                   f'</a>')
    out.append(f'<g transform="translate({left},{height + 6})">{legend}</g></svg>')
    return Markup("".join(out))


def bars(rows: list[dict], link, title: str, limit: int = 12) -> Markup:
    """Horizontal stacked bars, biggest first; each links to the overrides of its group. Past `limit` groups the
    chart says how many it leaves to the table beside it."""
    total, rows = len(rows), rows[:limit]
    if not rows:
        return Markup("")
    label_w, bar_w, row_h = 180, 230, 24
    left_out = _("The %(shown)s biggest of %(total)s groups: the table lists them all.", shown=len(rows),
                 total=total) if total > len(rows) else ""
    title = f"{title} ({left_out})" if left_out else title
    legend, legend_h = _legend(label_w + bar_w + 30)
    height = row_h * len(rows) + 16 + legend_h + (18 if left_out else 0)
    peak = max([r["count"] for r in rows] + [1])
    out = [f'<svg class="chart" role="img" viewBox="0 0 {label_w + bar_w + 50} {height}" '
           f'width="{label_w + bar_w + 50}" height="{height}" aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for i, r in enumerate(rows):
        y = i * row_h + 4
        text = r["label"] if len(r["label"]) <= 28 else r["label"][:27] + "…"
        x = label_w
        segs = []
        for key, colour, _name in SEGMENTS:
            w = r[key] / peak * bar_w
            if w:
                segs.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h - 8}" fill="{colour}">'
                            f'<title>{_segment_title(r, key)}</title></rect>')
                x += w
        out.append(f'<a href="{escape(link(r))}" class="bar" data-key="{escape(r["key"])}">'
                   f'<rect x="0" y="{y - 2}" width="{label_w + bar_w + 50}" height="{row_h - 4}" class="hit"/>'
                   f'<text x="{label_w - 8}" y="{y + 12}" class="axis" text-anchor="end">{escape(text)}</text>'
                   f'{"".join(segs)}<text x="{x + 6:.1f}" y="{y + 12}" class="value">{r["count"]}</text></a>')
    legend_y = row_h * len(rows) + 16
    out.append(f'<g transform="translate(20,{legend_y})">{legend}</g>')
    if left_out:
        out.append(f'<text x="20" y="{height - 4}" class="axis">{escape(left_out)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
