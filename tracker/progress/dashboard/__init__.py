"""The admin dashboard's reading side: aggregate SQL over all learners' progress, free of Flask.

The pages' entry points (pages.py) take the app's Db and read in one transaction tuned for
aggregates; the queries they call take the connection (and the content index where they need
course order) and return plain data. Each page is a handful of aggregate queries whatever the number of
learners or lenses; nothing here loads progress rows into Python to count them.
"""

from tracker.progress.daily import activity_in_days

from .funnel import funnels, outcome_dropoff
from .insights import course_insights
from .items import item_stats
from .learner import find_account, find_anonymous, learner_detail
from .learner_pages import all_learners, learner_page
from .learners import PAGE_SIZE, LearnerQuery
from .module import FASTER, SLOWER, module_report
from .overview import completions_per_day, module_table, overview
from .pages import (
    account_page,
    anonymous_page,
    insights_page,
    learners_export,
    learners_page,
    module_page,
    modules_export,
    overview_page,
    xapi_statements,
)

__all__ = [
    "FASTER",
    "PAGE_SIZE",
    "SLOWER",
    "LearnerQuery",
    "account_page",
    "activity_in_days",
    "anonymous_page",
    "all_learners",
    "course_insights",
    "completions_per_day",
    "find_account",
    "find_anonymous",
    "funnels",
    "insights_page",
    "item_stats",
    "learner_detail",
    "learner_page",
    "learners_export",
    "learners_page",
    "module_page",
    "module_report",
    "module_table",
    "modules_export",
    "outcome_dropoff",
    "overview",
    "overview_page",
    "xapi_statements",
]
