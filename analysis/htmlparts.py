"""The HTML pieces every page of the analysis shares (report, design diagnosis,
pre-registration): the style sheet, tables and embedded figures.

Pages are self-contained (figures as base64 PNG, no other host) and fit a laptop screen
(1280 px): text columns are left-aligned, numbers right-aligned, long headers may wrap
at their underscores, and a table wider than the page scrolls inside its own box.
"""
from __future__ import annotations

import base64
import html
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

CSS = """body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1200px;margin:2em auto;
padding:0 1em;color:#222}table.t{border-collapse:collapse;font-size:12px;margin:.5em 0 1.5em}
table.t td,table.t th{padding:2px 6px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
table.t td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.t th{background:#f0f0f0;font-weight:600}div.tw{max-width:100%;overflow-x:auto}
img{max-width:100%}footer{margin-top:3em;font-size:12px;color:#555;overflow-wrap:anywhere}
details{margin:.5em 0 1.5em}code{background:#f4f4f4;padding:0 3px;overflow-wrap:anywhere}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f8f8f8;padding:.5em;font-size:12px}
p.note{font-size:13px;color:#444}"""


def png(fig) -> str:
    """A Matplotlib figure as an ``<img>`` with an embedded PNG (the figure is closed).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to embed.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return ('<img alt="figure" src="data:image/png;base64,'
            + base64.b64encode(buf.getvalue()).decode("ascii") + '">')


def format_value(v, digits: int = 3) -> str:
    """One cell as text: counts without decimals, small numbers in ``g`` format, NaN empty.

    Parameters
    ----------
    v : object
        The value.
    digits : int
        Decimals (significant digits below 0.001).
    """
    if v is None or v is pd.NA:
        return ""
    if isinstance(v, (float, np.floating)):
        if not np.isfinite(v):
            return ""
        if float(v).is_integer() and abs(v) < 1e15:  # counts and df (NaN made them floats)
            return str(int(v))
        return f"{v:.{digits}g}" if abs(v) < 1e-3 and v != 0 else f"{v:.{digits}f}"
    return str(v)


def _header(name: str) -> str:
    # Long column names may break after an underscore (no horizontal scrolling needed).
    return html.escape(str(name)).replace("_", "_<wbr>")


def table(df: pd.DataFrame | None, digits: int = 3, max_rows: int | None = None) -> str:
    """An HTML table: text columns left-aligned, numeric columns right-aligned.

    Parameters
    ----------
    df : DataFrame or None
        The rows; ``None`` or an empty frame gives "none".
    digits : int
        Decimals of non-integer numbers.
    max_rows : int, optional
        Show only the first rows.
    """
    if df is None or df.empty:
        return "<p><em>none</em></p>"
    d = df.head(max_rows) if max_rows else df
    numeric = [pd.api.types.is_numeric_dtype(d[c]) and not pd.api.types.is_bool_dtype(d[c])
               for c in d.columns]
    head = "".join(f"<th>{_header(c)}</th>" for c in d.columns)
    body = []
    for row in d.itertuples(index=False):
        cells = []
        for v, num in zip(row, numeric):
            cls = ' class="n"' if num else ""
            cells.append(f"<td{cls}>{html.escape(format_value(v, digits))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return ('<div class="tw"><table class="t"><thead><tr>' + head + "</tr></thead><tbody>"
            + "".join(body) + "</tbody></table></div>")


def page(title: str, body: str) -> str:
    """A complete self-contained HTML page with the shared style sheet.

    Parameters
    ----------
    title : str
        The page title (escaped).
    body : str
        HTML of the body.
    """
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
            + body + "</body></html>")
