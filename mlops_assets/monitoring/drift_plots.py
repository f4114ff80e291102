"""A bar chart of each column's effect size against its calibrated threshold."""

from __future__ import annotations

from mlops_assets.core.plots import _figure, _png


def effect_size_png(columns: list[dict]) -> bytes:
    fig, ax = _figure()
    fig.set_size_inches(6, 0.25 * len(columns) + 1.2)
    ordered = sorted(columns, key=lambda c: c["effect_size"] / max(c["threshold"], 1e-9))
    names = [c["column"] for c in ordered]
    ax.barh(
        names, [c["effect_size"] for c in ordered], color=["tab:red" if c["drifted"] else "tab:blue" for c in ordered]
    )
    ax.scatter([c["threshold"] for c in ordered], names, marker="|", s=200, color="black", label="threshold")
    ax.set(xlabel="effect size", title="Drift by column (red: drifted)")
    ax.legend(loc="lower right", fontsize=8)
    return _png(fig)
