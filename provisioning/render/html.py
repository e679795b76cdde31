"""Self-contained HTML reports: one file, UTF-8, inline CSS and inline SVG charts, no script and no
external asset, so it opens offline on an office PC and prints on A4.

    from provisioning.render.html import render_html
    html = render_html("report.html.j2", {"title": ..., "rows": ...}, lang="vi",
                       search_path=[Path(__file__).parent / "templates"])   # optional extra templates

Templates live in `provisioning/render/templates/` (plus any `search_path` a module adds, searched
first) and extend `base.html.j2`, which provides the page head, the print CSS and the blocks `title`,
`header` and `content`. Autoescape is on. In every template:

- `t(key, **kw)` — the message in the report's language (see i18n.py); `lang` is the language code;
- filters `number(decimals=0)`, `percent(decimals=1)`, `signed_percent`, `date`, `datetime`, `yesno`;
- `bar_chart(...)` and `line_chart(...)` — inline SVG (documented on the functions below);
- `generated_at` — when the page was rendered.

Charts are drawn here rather than with a JS library because the report must open without network access
and print identically; horizontal bars fit long Vietnamese unit names.
"""
from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import jinja2
from markupsafe import Markup, escape

from . import i18n

TEMPLATES = Path(__file__).parent / "templates"
# Colour-blind-safe palette (Okabe-Ito) that stays distinguishable in grey print.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")


def _lang_filter(fn):
    """A filter that formats in the language of the template being rendered (context variable `lang`)."""
    @jinja2.pass_context
    def f(ctx, value, *args):
        return fn(value, ctx["lang"], *args)
    return f


@functools.lru_cache(maxsize=8)
def _environment(search_path: tuple[str, ...]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([*search_path, str(TEMPLATES)], encoding="utf-8"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
    )
    env.globals.update(bar_chart=bar_chart, line_chart=line_chart)
    env.filters.update(
        number=_lang_filter(i18n.fmt_number), percent=_lang_filter(i18n.fmt_percent),
        signed_percent=_lang_filter(i18n.fmt_signed_percent), date=_lang_filter(i18n.fmt_date),
        datetime=_lang_filter(i18n.fmt_datetime), yesno=_lang_filter(i18n.fmt_bool),
    )
    return env


def render_html(template: str, context: Mapping[str, Any], lang: str = i18n.DEFAULT_LANG,
                search_path: Iterable[Path] = ()) -> str:
    """Render `template` with `context`; `t` and the filters use `lang`."""
    i18n.check_lang(lang)
    env = _environment(tuple(str(p) for p in search_path))
    helpers = {
        "lang": lang,
        "t": lambda key, **kw: i18n.t(key, lang, **kw),
        "generated_at": dt.datetime.now().replace(microsecond=0),
    }
    return env.get_template(template).render({**helpers, **context})


def _fmt(v: float, unit: str) -> str:
    return f"{v:.0f}{unit}" if abs(v - round(v)) < 0.05 else f"{v:.1f}{unit}"


def bar_chart(labels: Sequence[str], series: Mapping[str, Sequence[float | None]], *, max_value: float = 100.0,
              unit: str = "%", target: float | None = None, target_label: str = "", title: str = "",
              width: int = 720) -> Markup:
    """Horizontal grouped bars, one group per label (e.g. per unit), one bar per series.

    Values are in display units (e.g. percent 0..100, clipped to `max_value`); None draws no bar and
    prints "—". `target` draws a dashed vertical line (e.g. the directive's 50%)."""
    label_w, value_w, bar_h, gap = 260, 48, 12, 8
    plot_w = width - label_w - value_w - 10
    n = max(len(series), 1)
    group_h = n * bar_h + gap
    legend_h = 20 if series else 0
    title_h = 22 if title else 0
    height = title_h + legend_h + len(labels) * group_h + 24
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">']
    if title:
        out.append(f'<text x="0" y="15" class="chart-title">{escape(title)}</text>')
    y0 = title_h
    for i, name in enumerate(series):
        x = label_w + i * 170
        out.append(f'<rect x="{x}" y="{y0 + 4}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
                   f'<text x="{x + 14}" y="{y0 + 13}">{escape(name)}</text>')
    y0 += legend_h
    for gi, label in enumerate(labels):
        gy = y0 + gi * group_h
        short = label if len(label) <= 42 else label[:41] + "…"
        out.append(f'<text x="{label_w - 6}" y="{gy + group_h / 2}" text-anchor="end" '
                   f'dominant-baseline="middle"><title>{escape(label)}</title>{escape(short)}</text>')
        for si, values in enumerate(series.values()):
            v = values[gi] if gi < len(values) else None
            by = gy + si * bar_h
            if v is None:
                out.append(f'<text x="{label_w + 4}" y="{by + bar_h - 2}" class="muted">{i18n.NO_DATA}</text>')
                continue
            w = max(0.0, min(v, max_value)) / max_value * plot_w
            out.append(f'<rect x="{label_w}" y="{by}" width="{w:.1f}" height="{bar_h - 2}" '
                       f'fill="{PALETTE[si % len(PALETTE)]}"/>'
                       f'<text x="{label_w + w + 4:.1f}" y="{by + bar_h - 3}">{_fmt(v, unit)}</text>')
    axis_y = y0 + len(labels) * group_h
    out.append(f'<line x1="{label_w}" y1="{y0}" x2="{label_w}" y2="{axis_y}" class="axis"/>')
    if target is not None:
        tx = label_w + min(target, max_value) / max_value * plot_w
        out.append(f'<line x1="{tx:.1f}" y1="{y0}" x2="{tx:.1f}" y2="{axis_y}" class="target"/>'
                   f'<text x="{tx:.1f}" y="{axis_y + 14}" text-anchor="middle" class="target-label">'
                   f'{escape(target_label or _fmt(target, unit))}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def line_chart(x_labels: Sequence[str], series: Mapping[str, Sequence[float | None]], *,
               max_value: float = 100.0, unit: str = "%", targets: Mapping[str, float] | None = None,
               title: str = "", width: int = 720, height: int = 260) -> Markup:
    """Trend lines over `x_labels` (e.g. months), one polyline per series; None breaks the line.
    `targets` maps a series name to a dashed horizontal line in that series' colour."""
    left, right, top, bottom = 40, 10, (22 if title else 6) + 20, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(x_labels)
    step = plot_w / max(n - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        x = left + (i * step if n > 1 else plot_w / 2)
        return x, top + plot_h - max(0.0, min(v, max_value)) / max_value * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">']
    if title:
        out.append(f'<text x="0" y="15" class="chart-title">{escape(title)}</text>')
    for i, name in enumerate(series):
        x = left + i * 170
        ly = top - 16
        out.append(f'<rect x="{x}" y="{ly}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
                   f'<text x="{x + 14}" y="{ly + 9}">{escape(name)}</text>')
    for frac in (0, 0.25, 0.5, 0.75, 1):
        y = top + plot_h - frac * plot_h
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" class="grid"/>'
                   f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" class="muted">'
                   f'{_fmt(frac * max_value, unit)}</text>')
    for i, label in enumerate(x_labels):
        x = left + (i * step if n > 1 else plot_w / 2)
        out.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle">{escape(label)}</text>')
    for si, (name, values) in enumerate(series.items()):
        colour = PALETTE[si % len(PALETTE)]
        segment: list[str] = []
        segments = [segment]
        for i, v in enumerate(values[:n]):
            if v is None:
                segment = []
                segments.append(segment)
                continue
            x, y = xy(i, v)
            segment.append(f"{x:.1f},{y:.1f}")
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{escape(name)} '
                       f'{escape(x_labels[i])}: {_fmt(v, unit)}</title></circle>')
        for seg in segments:
            if len(seg) > 1:
                out.append(f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" stroke-width="2"/>')
        if targets and name in targets:
            _, ty = xy(0, targets[name])
            out.append(f'<line x1="{left}" y1="{ty:.1f}" x2="{left + plot_w}" y2="{ty:.1f}" stroke="{colour}" '
                       f'class="target"/>')
    out.append("</svg>")
    return Markup("".join(out))
