"""CSV downloads a spreadsheet opens safely: no cell can start a formula."""
import csv
import io

FORMULA_STARTS = ("=", "+", "-", "@")
# What a spreadsheet's own "CSV UTF-8" starts with; without it, Excel reads the file in the
# machine's legacy encoding and garbles every accent.
BYTE_ORDER_MARK = "\ufeff"


def csv_lines(columns: list[str], rows, byte_order_mark: bool = False):
    """The header, then each row (a dict), as CSV text; no cell can start a spreadsheet formula."""
    buffer = io.StringIO()
    if byte_order_mark:
        buffer.write(BYTE_ORDER_MARK)
    writer = csv.DictWriter(buffer, columns)
    writer.writeheader()
    for row in rows:
        writer.writerow({key: defused(value) for key, value in row.items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def defused(value):
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value
