"""The admin dashboard's reading side: aggregate SQL over all learners' progress, free of Flask.

Every function takes a connection (and the content index where it needs course order) and
returns plain data. Each page is a handful of aggregate queries whatever the number of
learners or lenses; nothing here loads progress rows into Python to count them.
"""

from .funnel import funnels, outcome_dropoff
from .insights import course_insights
from .items import item_stats
from .learner import find_account, find_anonymous, learner_detail
from .learner_pages import all_learners, learner_page
from .learners import PAGE_SIZE, LearnerQuery
from .module import FASTER, SLOWER, module_report
from .overview import activity, completions_per_day, module_table, overview
from .xapi import xapi_statements

__all__ = [
    "FASTER",
    "PAGE_SIZE",
    "SLOWER",
    "LearnerQuery",
    "activity",
    "all_learners",
    "course_insights",
    "completions_per_day",
    "find_account",
    "find_anonymous",
    "funnels",
    "item_stats",
    "learner_detail",
    "learner_page",
    "module_report",
    "module_table",
    "outcome_dropoff",
    "overview",
    "xapi_statements",
]
