"""The index's overview pictures, inline SVG drawn in Python: the verdict heat-map (claims x
environments, one square each) and one stacked bar of status counts per claim category.

Both read without colour: every square carries its status symbol, every bar has its counts in
words beside it, and every mark has a <title> tooltip. All text is escaped here (markupsafe),
since the result is inserted into the page as markup.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from verify.publish.sitedata import STATUS, SiteData, safe_name

PITCH = 12  # a square and the gap after it
SQUARE = 11
NAME_H = 15  # an environment's name above its row of squares
ROW_H = NAME_H + PITCH + 4
BAR_H = 14
BAR_MAX_W = 240  # the largest category's bar
BAR_UNIT_MAX = 16  # px per claim at most, so a small corpus does not draw wide bars


def _env_name(data: SiteData, env_id: str) -> str:
    env = data.environments[env_id]
    return f"This machine: {env.short}" if env.here else env.short


def heatmap(data: SiteData, order: list[str], root: str = "") -> Markup:
    """Claims (across, in `order`) x environments (down, this machine's first): one square per
    pair, its verdict there (the claim's checks combined) as colour and symbol, each square a
    link to the claim's page with a tooltip naming claim, environment and verdict."""
    envs = data.env_order
    width = PITCH * max(len(order), 1)
    height = ROW_H * max(len(envs), 1)
    desc = (
        f"{len(order)} claims across, {len(envs)} environments down, each named above its row;"
        " each square is a claim's newest verdict in that environment, with its symbol."
    )
    out = [
        f'<svg class="heatmap" id="heatmap" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="group" '
        'aria-labelledby="heatmap-t heatmap-d">',
        '<title id="heatmap-t">Verdicts: claims by environments</title>',
        f'<desc id="heatmap-d">{escape(desc)}</desc>',
    ]
    # what a square shares with its claim's other squares, or with its row's, escaped once
    claims = [(cid, f"{root}claims/{escape(safe_name(cid))}.html", escape(cid),
               bool(data.claims[cid].checks)) for cid in order]  # fmt: skip
    for row, env_id in enumerate(envs):
        y = row * ROW_H + NAME_H
        out.append(
            f'<g class="hm-row" data-environment="{escape(env_id)}">'
            f"<title>{escape(data.env_label(env_id))} ({escape(env_id)})</title>"
            f'<text class="hm-env" x="0" y="{y - 4}">{escape(_env_name(data, env_id))}</text>'
        )
        out += _row(data, claims, env_id, y)
        out.append("</g>")
    out.append("</svg>")
    return Markup("".join(out))


def _row(
    data: SiteData, claims: list[tuple[str, str, str, bool]], env_id: str, y: int
) -> list[str]:
    """One environment's squares: the claim's status there, a tooltip naming claim, environment
    and status, and a link to the claim's page."""
    env = data.environments[env_id]
    where = f" on {env.short}" + (" (this machine)" if env.here else "")
    env_attr = escape(env_id)
    # what a square's text is made of after its claim and before or after its x, per status
    parts: dict[tuple[str, bool], tuple[str, str, str, str]] = {}
    out = []
    for col, (cid, href, cid_attr, checked) in enumerate(claims):
        status = data.env_status(cid, env_id)
        part = parts.get((status or "", checked))
        if part is None:
            part = parts[(status or "", checked)] = _square_parts(status, checked, where,
                                                                  env_attr, y)  # fmt: skip
        head, tail, mid, end = part
        x = col * PITCH
        out.append(f'<a class="hm-cell" href="{href}" data-claim="{cid_attr}"{head}{cid_attr}'
                   f'{tail}{x}{mid}{x + SQUARE / 2:g}{end}')  # fmt: skip
    return out


def _square_parts(
    status: str | None, checked: bool, where: str, env_attr: str, y: int
) -> tuple[str, str, str, str]:
    """The text of a square with `status` (None: not run there, or no check), around its claim's
    id in the tooltip and its two x positions."""
    if status is None:
        status, words = ("not-run", "not run there") if checked else (
            "no-check", STATUS["no-check"][1])  # fmt: skip
    else:
        words = STATUS[status][1]
    tip = str(escape(f": {words}{where}"))
    return (
        f' data-environment="{env_attr}" data-status="{status}"><title>',
        f'{tip}</title><rect class="hm hm-{status}" x="',
        f'" y="{y}" width="{SQUARE}" height="{SQUARE}"/><text class="hm-sym" x="',
        f'" y="{y + SQUARE - 3}" text-anchor="middle" aria-hidden="true">{STATUS[status][0]}'
        "</text></a>",
    )


@dataclass(frozen=True)
class CategoryBar:
    """One category's claims by status: its name, total, counts and the bar."""

    category: str
    label: str
    total: int
    counts: list[tuple[str, int]]
    svg: Markup


def category_bars(data: SiteData) -> list[CategoryBar]:
    """Per claim category, a stacked bar of its claims' statuses (the counts line's definition,
    SiteData.status), one pixel scale for all, so bars compare across categories."""
    labels = {c.notation: c.label for c in data.categories}
    rows = data.category_counts()
    biggest = max((sum(n for _, n in counts) for _, counts in rows), default=1)
    unit = min(BAR_UNIT_MAX, BAR_MAX_W / biggest)
    out = []
    for cat, counts in rows:
        total = sum(n for _, n in counts)
        name = labels.get(cat, cat)
        out.append(CategoryBar(cat, name, total, counts, _bar(name, counts, total, unit)))
    return out


def _bar(name: str, counts: list[tuple[str, int]], total: int, unit: float) -> Markup:
    width = max(round(total * unit), 1)
    parts = [
        f'<svg class="catbar" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{BAR_H}" viewBox="0 0 {width} {BAR_H}" role="img" aria-label="'
        f'{escape(name)}: {total} claims">'
    ]
    x = 0.0
    for status, n in counts:
        w = n * unit
        tip = f"{name}: {n} of {total} {STATUS[status][1]}"
        parts.append(
            f'<rect class="hm hm-{status}" data-status="{status}" data-count="{n}" '
            f'x="{x:.1f}" y="0" width="{w:.1f}" height="{BAR_H}"><title>{escape(tip)}</title>'
            "</rect>"
        )
        x += w
    parts.append("</svg>")
    return Markup("".join(parts))
