"""
MAM filtering and RSM paging over a list of archive entries, oldest first.

Used by the memory store; a database store does the same in SQL.  Kept apart
so the paging rules (XEP-0313 with XEP-0059) are written down once.
"""

from bisect import bisect_left, bisect_right

from mixtwisted.records import ArchivePage


def matches(entry, query):
    """
    Tell whether an archive entry passes the query's filters.
    """
    if entry.node != query.node:
        return False
    if query.start is not None and entry.stamp < query.start:
        return False
    if query.end is not None and entry.stamp > query.end:
        return False
    if query.with_ is not None and entry.sender != query.with_:
        return False
    if query.ids is not None and entry.itemId not in query.ids:
        return False
    return True


def page(entries, query):
    """
    Apply C{query} to C{entries} (ascending by archive id).

    C{after} gives the page following that id, C{before} the page preceding
    it (C{""}: the last page); otherwise the first page.  C{complete} says
    whether no further entry exists in the direction of the query.
    """
    selected = [entry for entry in entries if matches(entry, query)]
    ids = [entry.archiveId for entry in selected]
    maximum = query.maximum
    if query.before is not None:
        stop = len(ids) if query.before == "" else bisect_left(ids, query.before)
        startAt = max(0, stop - maximum)
        return ArchivePage(selected[startAt:stop], startAt == 0, len(ids))
    startAt = bisect_right(ids, query.after) if query.after else 0
    stop = startAt + maximum
    return ArchivePage(selected[startAt:stop], stop >= len(ids), len(ids))
