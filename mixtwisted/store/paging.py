"""
MAM filtering and RSM paging over a list of archive entries, oldest first.

Used by the memory store; a database store does the same in SQL.  Kept apart
so the paging rules (XEP-0313 with XEP-0059) are written down once.

The count (RSM C{<count/>}) of a query with filters (C{start}, C{end},
C{with}, C{ids}) is given only when at most L{COUNT_LIMIT} entries match:
counting more would cost a database as much as reading them, and
XEP-0059 lets a responder leave the count out.  The count of a query
without filters (all the entries of the node) is always given.
"""

from bisect import bisect_left, bisect_right

from mixtwisted.records import ArchivePage

#: The most entries counted for a query with filters; beyond it the page
#: has no count (C{None}).  Read when a query is answered.
COUNT_LIMIT = 10000


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


def filtered(query):
    """
    Tell whether C{query} has filters beyond its node (its count is then
    bounded by L{COUNT_LIMIT}).
    """
    return query.start is not None or query.end is not None or \
        query.with_ is not None or query.ids is not None


def bounded(count, query):
    """
    The count a page of C{query} reports when C{count} entries match:
    C{None} for more than L{COUNT_LIMIT} entries matching filters.
    """
    if count > COUNT_LIMIT and filtered(query):
        return None
    return count


def page(entries, query):
    """
    Apply C{query} to C{entries} (ascending by archive id).

    C{after} gives the page following that id, C{before} the page preceding
    it (C{""}: the last page); otherwise the first page.  C{complete} says
    whether no further entry exists in the direction of the query.
    C{count} is that of L{bounded}.
    """
    selected = [entry for entry in entries if matches(entry, query)]
    return pageSorted(selected, [entry.archiveId for entry in selected],
                      query)


def pageSorted(selected, ids, query):
    """
    The page of C{query} (see L{page}) out of C{selected}, the entries that
    pass its filters, ascending by archive id, with C{ids} their archive
    ids: found by bisection, so a store that keeps these lists answers a
    query without filters without reading the whole archive.
    """
    maximum = query.maximum
    if query.before is not None:
        stop = len(ids) if query.before == "" else bisect_left(ids, query.before)
        startAt = max(0, stop - maximum)
        return ArchivePage(selected[startAt:stop], startAt == 0,
                           bounded(len(ids), query))
    startAt = bisect_right(ids, query.after) if query.after else 0
    stop = startAt + maximum
    return ArchivePage(selected[startAt:stop], stop >= len(ids),
                       bounded(len(ids), query))
