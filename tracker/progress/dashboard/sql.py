"""SQL pieces that PostgreSQL and SQLite spell differently, and the percentile aggregates.

PostgreSQL computes medians with `percentile_cont`. SQLite has no such aggregate, so there
the same interpolated percentile comes from window functions: rank each value within its
group, then weight the one or two values around the percentile's position. Both give
`percentile_cont` results, so the dashboard shows the same numbers on either database.
"""

from sqlalchemy import (
    Date,
    Float,
    Integer,
    and_,
    case,
    cast,
    false,
    func,
    or_,
    select,
)

from tracker.progress.model import progress

# Completion sets completed_at and time_to_complete_s together (see statements.COMPLETE_ROW),
# so counting time_to_complete_s counts completions from the (content_id, time_to_complete_s) index alone.
completed = progress.c.time_to_complete_s


def day_of(column, dialect: str):
    """The UTC calendar day of a timestamp: a date on PostgreSQL, 'YYYY-MM-DD' text on SQLite."""
    if dialect == "postgresql":
        return cast(func.timezone("UTC", column), Date)  # a cast is cheaper per row than to_char
    return func.date(column)


def owner_is(user_ids, tokens):
    """Rows of any of these accounts or anonymous tokens."""
    clauses = []
    if user_ids:
        clauses.append(progress.c.user_id.in_(user_ids))
    if tokens:
        clauses.append(progress.c.anonymous_token.in_(tokens))
    return or_(*clauses) if clauses else false()


def item_stats_query(dialect: str, where, group_by=progress.c.content_id):
    """Per group: rows started, rows completed, and the median and p90 of time_to_complete_s."""
    if dialect == "postgresql":
        return (
            select(
                group_by.label("key"),
                func.count().label("started"),
                func.count(completed).label("completed"),
                func.percentile_cont(0.5).within_group(completed).label("median_s"),
                func.percentile_cont(0.9).within_group(completed).label("p90_s"),
            )
            .where(where)
            .group_by(group_by)
        )
    ranked = ranked_values(where, group_by, completed)
    return select(
        ranked.c.key,
        func.count().label("started"),
        func.count(ranked.c.value).label("completed"),
        interpolated(ranked, 0.5).label("median_s"),
        interpolated(ranked, 0.9).label("p90_s"),
    ).group_by(ranked.c.key)


def ranked_values(where, group_by, value):
    """Each row's value with its rank among the group's non-null values (nulls rank last) and their count."""
    window = {"partition_by": group_by, "order_by": (value.is_(None), value)}
    return (
        select(
            group_by.label("key"),
            value.label("value"),
            func.row_number().over(**window).label("rank"),
            func.count(value).over(partition_by=group_by).label("n"),
        )
        .where(where)
        .subquery("ranked")
    )


def interpolated(ranked, fraction: float):
    """percentile_cont(fraction): position 1 + fraction * (n - 1), between the two nearest ranks."""
    position = 1 + fraction * (cast(ranked.c.n, Float) - 1)
    lower = cast(position, Integer)  # position >= 1, so truncation is floor
    share = position - lower
    weight = case(
        (ranked.c.rank == lower, 1 - share),
        (and_(ranked.c.rank == lower + 1, share > 0), share),
        else_=0.0,
    )
    return func.sum(case((ranked.c.rank <= ranked.c.n, ranked.c.value * weight)))
