"""
L{mixtwisted.interfaces.IArchiveStorage} on PostgreSQL: group-committed
appends, and MAM filtering with RSM paging in SQL.

The paging rules are those of L{mixtwisted.store.paging}: C{before} (C{""}
for the last page) wins over C{after}; C{complete} tells whether no entry
is left in the direction of the query; C{count} counts every entry that
passes the filters, up to L{paging.COUNT_LIMIT} for a query with filters
(C{None} beyond).  A page is one index range scan (C{ORDER BY archive_id
LIMIT maximum + 1}, the extra row telling C{complete}), in the same
statement as the count: an unfiltered count is read from C{archive_counts},
a filtered one counted over the index range with C{LIMIT COUNT_LIMIT + 1}.

C{start} and C{end} also bound the archive ids scanned: an id we issue
begins with the microsecond it was issued, never before its entry's stamp,
and C{archive_counts} keeps, per node, the least and greatest difference
between the two (the I{skew}, see C{0002_archive_filters.sql}).  So
entries stamped at or after C{start} have ids from C{start + skew_min} on,
and those stamped at or before C{end} ids up to C{end + skew_max}: the
scan starts and stops there instead of wading through the entries outside
the time range.  A node holding an id of another shape has no bounds
(C{timed} is false) and is filtered as before.
"""

import math

from psycopg2.errors import ForeignKeyViolation
from twisted.internet import defer

from mixtwisted.errors import Conflict, NotFound
from mixtwisted.records import ArchivePage
from mixtwisted.store import paging
from mixtwisted.store.pgsql import codec

# One statement, so one transaction: the entries of the batch whose
# channel exists and whose id is new, the counters (entries, and the skew
# of time-prefixed ids, see queryArchive), the greatest id.  It answers,
# for each entry, whether its channel exists and whether it was inserted.
_APPEND = """
WITH input AS (
    SELECT * FROM unnest(%s::int[], %s::text[], %s::text[], %s::text[],
                         %s::float8[], %s::text[], %s::text[], %s::text[])
        AS t(ord, channel, node, archive_id, stamp, sender, item_id, xml)
), inserted AS (
    INSERT INTO archive (channel, node, archive_id, stamp, sender, item_id,
                         xml)
    SELECT i.channel, i.node, i.archive_id, i.stamp, i.sender, i.item_id,
           i.xml
    FROM input i JOIN channels c ON c.name = i.channel
    ON CONFLICT DO NOTHING
    RETURNING channel, node, archive_id, stamp
), skewed AS (
    SELECT channel, node,
           CASE WHEN archive_id ~ '^[0-7][0-9A-F]{15}'
                     AND stamp >= 0 AND stamp < 9.2e12
                THEN ('x' || substr(archive_id, 1, 16))::bit(64)::bigint
                     - floor(stamp * 1000000)::bigint
           END AS skew
    FROM inserted
), counted AS (
    INSERT INTO archive_counts AS a (channel, node, entries, timed,
                                     skew_min, skew_max)
    SELECT channel, node, count(*), bool_and(skew IS NOT NULL), min(skew),
           max(skew)
    FROM skewed GROUP BY channel, node
    ON CONFLICT (channel, node) DO UPDATE
    SET entries = a.entries + EXCLUDED.entries,
        timed = a.timed AND EXCLUDED.timed,
        skew_min = LEAST(a.skew_min, EXCLUDED.skew_min),
        skew_max = GREATEST(a.skew_max, EXCLUDED.skew_max)
), greatest AS (
    INSERT INTO archive_last AS l (id, archive_id)
    SELECT true, max(archive_id) FROM inserted HAVING count(*) > 0
    ON CONFLICT (id) DO UPDATE
    SET archive_id = GREATEST(l.archive_id, EXCLUDED.archive_id)
)
SELECT i.ord, c.name IS NOT NULL, n.archive_id IS NOT NULL
FROM input i
LEFT JOIN channels c ON c.name = i.channel
LEFT JOIN inserted n ON n.channel = i.channel AND n.archive_id = i.archive_id
"""

_SELECT = "SELECT " + codec.MESSAGE_COLUMNS + " FROM archive"

# Archive id bounds of MAM start and end (see the module docstring), or
# NULL when the node has none.  Ids are 16 hex digits of microseconds.
# Parameters: the time in microseconds (L{_micros}), channel, node.  The
# bounds are exact; two microseconds of slack only make sure of it.
_HEX = "lpad(upper(to_hex(%s::bigint)), 16, '0')"
_FIRST_ID = (
    "SELECT " + _HEX % ("greatest(0, least(b.us + skew_min - 2, "
                        "9223372036854775807))",) +
    " FROM archive_counts, LATERAL (SELECT %s::numeric AS us) AS b "
    "WHERE channel = %s AND node = %s AND timed AND skew_min IS NOT NULL")
# Exclusive: every id of an entry stamped at or before the time is less.
_PAST_ID = (
    "SELECT " + _HEX % ("greatest(0, b.us + skew_max + 3)",) +
    " FROM archive_counts, LATERAL (SELECT %s::numeric AS us) AS b "
    "WHERE channel = %s AND node = %s AND timed AND skew_max IS NOT NULL "
    "AND b.us + skew_max + 3 <= 9223372036854775807")
# Greater than every id of the node (the upper bound without skew).
_PAST_LAST = ("(SELECT max(archive_id) FROM archive WHERE channel = %s "
              "AND node = %s) || chr(1)")


def _micros(seconds):
    """
    C{floor(seconds * 1000000)} computed in double precision, as the
    statement that inserts entries computes it for their stamps (so that
    a stamp at or after C{seconds} never gives fewer microseconds), or
    C{None} when that is not a finite number.
    """
    value = float(seconds) * 1000000.0
    if not math.isfinite(value):
        return None
    return math.floor(value)


class ArchiveStorage:
    """
    The channels' MAM archives.
    """

    def appendMessage(self, channel, message):
        return self._archiveWriter.add((channel, message))

    def _writeMessages(self, entries, attempts=3):
        """
        Write a batch of C{(channel, message)} in one transaction (the
        L{GroupCommit} write function).

        An entry of an unknown channel fails with L{NotFound}, one whose id
        is already archived in its channel with L{Conflict}; the others are
        written.  Should a channel be deleted while the batch is written,
        the foreign key stops the whole statement: it is tried again, and
        then finds that channel gone.
        """
        outcomes = [None] * len(entries)
        columns = [[] for _ in range(8)]
        seen = set()
        for index, (channel, message) in enumerate(entries):
            if (channel, message.archiveId) in seen:
                outcomes[index] = Conflict("Archive id exists")
                continue
            seen.add((channel, message.archiveId))
            for column, value in zip(columns, (
                    index, channel, message.node, message.archiveId,
                    float(message.stamp), message.sender, message.itemId,
                    message.xml)):
                column.append(value)
        if not seen:
            return defer.succeed(outcomes)

        def written(rows):
            for index, known, inserted in rows:
                if not known:
                    outcomes[index] = NotFound("No such channel")
                elif not inserted:
                    outcomes[index] = Conflict("Archive id exists")
            return outcomes

        def raced(failure):
            failure.trap(ForeignKeyViolation)
            if attempts <= 1:
                return failure
            return self._writeMessages(entries, attempts - 1)

        d = self._db.runQuery(_APPEND, columns)
        return d.addCallbacks(written, raced)

    def queryArchive(self, channel, query):
        where = ["channel = %s", "node = %s"]
        params = [channel, query.node]
        if query.start is not None:
            where.append("stamp >= %s")
            params.append(float(query.start))
            micros = _micros(query.start)
            if micros is not None:
                where.append("archive_id >= coalesce((" + _FIRST_ID +
                             "), '')")
                params += [micros, channel, query.node]
        if query.end is not None:
            where.append("stamp <= %s")
            params.append(float(query.end))
            micros = _micros(query.end)
            if micros is not None:
                where.append("archive_id < coalesce((" + _PAST_ID + "), " +
                             _PAST_LAST + ")")
                params += [micros, channel, query.node, channel, query.node]
        if query.with_ is not None:
            where.append("sender = %s")
            params.append(query.with_)
        if query.ids is not None:
            # (IS NOT NULL: the partial index archive_by_item applies.)
            where.append("item_id IS NOT NULL AND item_id = ANY(%s::text[])")
            params.append(list(query.ids))
        limit = paging.COUNT_LIMIT
        filtered = paging.filtered(query)
        if filtered:
            # In archive order, like the page: the scan is then the page's
            # index range (bounded by start/end, or the sender's or the
            # item ids' entries), never a sequential scan that may wade
            # through the entries outside the range before it finds
            # enough.
            count = ("SELECT count(*) FROM (SELECT 1 FROM archive WHERE " +
                     " AND ".join(where) +
                     " ORDER BY archive_id LIMIT %s) AS matching")
            countParams = params + [limit + 1]
        else:
            count = ("SELECT coalesce((SELECT entries FROM archive_counts "
                     "WHERE channel = %s AND node = %s), 0)")
            countParams = [channel, query.node]
        backward = query.before is not None
        if backward and query.before:
            where.append("archive_id < %s")
            params.append(query.before)
        elif not backward and query.after:
            where.append("archive_id > %s")
            params.append(query.after)
        maximum = max(0, query.maximum)
        sql = ("SELECT total.n, page.* FROM (" + count + ") AS total(n) "
               "LEFT JOIN LATERAL (SELECT " + codec.MESSAGE_COLUMNS +
               " FROM archive WHERE " + " AND ".join(where) +
               " ORDER BY archive_id " + ("DESC" if backward else "ASC") +
               " LIMIT %s) AS page ON true")

        def paged(rows):
            messages = [codec.messageFromRow(row[1:]) for row in rows
                        if row[1] is not None]
            complete = len(messages) <= maximum
            messages = messages[:maximum]
            if backward:
                messages.reverse()
            total = rows[0][0]
            if filtered and total > limit:
                total = None
            return ArchivePage(messages, complete, total)
        d = self._db.runQuery(sql, countParams + params + [maximum + 1])
        return d.addCallback(paged)

    def getArchived(self, channel, archiveId):
        d = self._db.runQuery(
            _SELECT + " WHERE channel = %s AND archive_id = %s",
            (channel, archiveId))
        return d.addCallback(
            lambda rows: codec.messageFromRow(rows[0]) if rows else None)

    def replaceArchived(self, channel, archiveId, xml):
        d = self._db.runQuery(
            "UPDATE archive SET xml = %s WHERE channel = %s "
            "AND archive_id = %s RETURNING true", (xml, channel, archiveId))
        return d.addCallback(bool)

    def hasArchived(self, channel, archiveId):
        d = self._db.runQuery(
            "SELECT true FROM archive WHERE channel = %s AND archive_id = %s",
            (channel, archiveId))
        return d.addCallback(bool)

    def lastArchiveId(self):
        d = self._db.runQuery("SELECT archive_id FROM archive_last")
        return d.addCallback(lambda rows: rows[0][0] if rows else None)
