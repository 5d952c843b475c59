"""Chart geometry for server-rendered SVG: scales, ticks and shapes, drawn by templates/admin/_charts.html.

Every chart is a plain dict of coordinates in its own viewBox; the SVG scales to the page
width, and text sizes are chosen to stay readable from 1280 px wide down to about 900 px.
"""

from .columns import column_chart, daily_chart, histogram_chart, nice_ceiling, weekly_time_chart
from .rows import calibration_chart, funnel_chart

__all__ = ["calibration_chart", "column_chart", "daily_chart", "funnel_chart", "histogram_chart", "nice_ceiling", "weekly_time_chart"]
