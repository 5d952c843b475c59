"""Column charts: counts per day and the time-to-complete histogram, with round y-axis ticks."""

import math
from datetime import date


def nice_ceiling(value: float, ticks: int = 4) -> tuple[float, float]:
    """A round axis maximum at or above `value`, and the step between its ticks."""
    if value <= 0:
        return 1, 1
    raw = value / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    step = max(1, step)  # counts are whole numbers
    return step * math.ceil(value / step), step


def column_chart(
    labels: list[str],
    values: list[int],
    *,
    title: str,
    x_label: str,
    y_label: str,
    width: int = 1100,
    height: int = 220,
    label_every: int = 1,
    tooltips=None,
) -> dict:
    """Vertical bars, one per label, with a y axis of round ticks."""
    left, right, top, bottom = 64, 16, 28, 52
    plot_w, plot_h = width - left - right, height - top - bottom
    maximum, step = nice_ceiling(max(values, default=0))
    slot = plot_w / max(1, len(values))
    bars = [
        {
            "x": left + i * slot + slot * 0.12,
            "w": slot * 0.76,
            "y": top + plot_h - plot_h * value / maximum,
            "h": plot_h * value / maximum,
            "title": (tooltips[i] if tooltips else f"{labels[i]}: {value:,}"),
        }
        for i, value in enumerate(values)
    ]
    x_labels = [
        {"x": left + (i + 0.5) * slot, "label": label} for i, label in enumerate(labels) if i % label_every == 0
    ]
    y_ticks = [{"y": top + plot_h - plot_h * v / maximum, "label": f"{v:,.0f}"} for v in frange(0, maximum, step)]
    return {
        "kind": "columns",
        "width": width,
        "height": height,
        "title": title,
        "x_label": x_label,
        "y_label": y_label,
        "left": left,
        "top": top,
        "plot_w": plot_w,
        "plot_h": plot_h,
        "bars": bars,
        "x_labels": x_labels,
        "y_ticks": y_ticks,
    }


def frange(start: float, stop: float, step: float) -> list[float]:
    count = int(round((stop - start) / step))
    return [start + i * step for i in range(count + 1)]


def daily_chart(days: list[date], counts: list[int], level_name: str) -> dict:
    labels = [f"{day:%-d %b}" for day in days]
    return column_chart(
        labels,
        counts,
        title=f"{level_name} completed per day",
        x_label="Day (UTC)",
        y_label="Completions",
        height=190,
        label_every=3,
        tooltips=[f"{label}: {count:,} {level_name.lower()} completed" for label, count in zip(labels, counts)],
    )


def histogram_chart(width_s: int, counts: list[int]) -> dict:
    """Learners per bin of time to complete; the unit is minutes, or hours for wide bins."""
    unit_s, unit = (3600, "hours") if width_s >= 3600 else (60, "minutes")
    starts = [f"{i * width_s / unit_s:g}" for i in range(len(counts))]
    starts[-1] = f"≥ {starts[-1]}"
    tooltips = [f"{starts[i]}–{(i + 1) * width_s / unit_s:g} {unit}: {n:,} learners" for i, n in enumerate(counts[:-1])]
    tooltips.append(f"{starts[-1]} {unit}: {counts[-1]:,} learners")
    return column_chart(
        starts,
        counts,
        title="Module time to complete",
        x_label=f"Time to complete ({unit}, bin start)",
        y_label="Learners",
        height=240,
        tooltips=tooltips,
    )


def weekly_time_chart(weeks: list[tuple[date, int]]) -> dict:
    """Active time per ISO week (Monday to Sunday, UTC days), in minutes, or hours when a week passes 5 hours."""
    peak = max((seconds for _, seconds in weeks), default=0)
    unit_s, unit = (3600, "hours") if peak > 5 * 3600 else (60, "minutes")
    labels = [f"{monday:%-d %b}" for monday, _ in weeks]
    values = [seconds / unit_s for _, seconds in weeks]  # a few seconds still show as a sliver
    tooltips = [f"Week of {label}: {seconds // 3600} h {seconds % 3600 // 60} min" for label, (_, seconds) in zip(labels, weeks)]
    return column_chart(
        labels, values, title="Active time per week", x_label="Week starting (Monday, UTC)",
        y_label=unit.capitalize(), width=760, height=230, tooltips=tooltips,
    )
