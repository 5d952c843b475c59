"""Charts with one row per step or lens: the drop-off funnel and the estimate calibration."""

import math

CALIBRATION_RANGE = (1 / 8, 8)  # ratios beyond are drawn at the edge, with their value printed


def funnel_chart(steps: list[dict], width: int = 1100) -> dict:
    """Horizontal bars, one per step; the step that loses the largest share is highlighted."""
    left, right, top, row = 330, 210, 8, 30
    plot_w = width - left - right
    start = steps[0]["learners"] if steps else 0
    worst = max(range(1, len(steps)), key=lambda i: steps[i]["lost_share"] or 0, default=None)
    bars = []
    for i, step in enumerate(steps):
        share = step["learners"] / start if start else 0
        bars.append(
            {
                "y": top + i * row,
                "h": row - 8,
                "w": max(1.0, plot_w * share),
                "label": step["title"],
                "value": f"{step['learners']:,} ({share:.0%})" + (f"  −{step['lost']:,}" if i and step["lost"] else ""),
                "highlight": i == worst and (step["lost_share"] or 0) > 0,
            }
        )
    return {
        "kind": "funnel",
        "width": width,
        "height": top + len(steps) * row + 8,
        "left": left,
        "plot_w": plot_w,
        "bars": bars,
    }


def calibration_chart(lenses: list[dict], slower: float, faster: float, width: int = 1100) -> dict:
    """Median time / estimate per lens on a log scale, with the band of acceptable ratios shaded."""
    left, right, top, row = 330, 150, 34, 26
    plot_w = width - left - right
    low, high = CALIBRATION_RANGE

    def x(ratio: float) -> float:
        clamped = min(max(ratio, low), high)
        return left + plot_w * (math.log(clamped) - math.log(low)) / (math.log(high) - math.log(low))

    dots = [
        {
            "y": top + i * row + row / 2,
            "x": x(lens["ratio"]) if lens["ratio"] else None,
            "label": lens["lens"].title,
            "value": f"{lens['ratio']:.2f}×" if lens["ratio"] is not None else "no completions yet",
            "flag": lens["flag"],
        }
        for i, lens in enumerate(lenses)
    ]
    ticks = [
        {"x": x(r), "label": label}
        for r, label in ((1 / 8, "⅛×"), (0.25, "¼×"), (0.5, "½×"), (1, "1×"), (2, "2×"), (4, "4×"), (8, "8×"))
    ]
    return {
        "kind": "calibration",
        "width": width,
        "height": top + len(lenses) * row + 40,
        "left": left,
        "top": top,
        "plot_w": plot_w,
        "band": (x(faster), x(slower)),
        "one": x(1),
        "dots": dots,
        "ticks": ticks,
        "bottom": top + len(lenses) * row,
    }
