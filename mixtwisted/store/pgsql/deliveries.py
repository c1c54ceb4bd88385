"""
L{mixtwisted.interfaces.IDeliveryStorage} on PostgreSQL: archive entries
waiting for a recipient.

Pending entries have no foreign key to their channel (the memory store
takes them for any channel); C{deleteChannel} removes them itself.
"""

# Adding an entry that is already pending renews its stamp (the latest
# failure), so that a retransmission's removal with upTo leaves it.  The
# count is read in the snapshot the statement started with, which does not
# see its own insert: add one when the row was inserted rather than updated
# (xmax is 0 only in a row version this statement inserted).
_ADD = ("WITH added AS (INSERT INTO pending_deliveries "
        "(channel, recipient, archive_id, stamp) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (channel, recipient, archive_id) "
        "DO UPDATE SET stamp = EXCLUDED.stamp "
        "RETURNING (xmax = 0) AS inserted) "
        "SELECT (SELECT count(*) FROM pending_deliveries "
        "WHERE channel = %s AND recipient = %s) "
        "+ (SELECT count(*) FROM added WHERE inserted)")

_LIST = ("SELECT archive_id, stamp FROM pending_deliveries "
         "WHERE channel = %s AND recipient = %s ORDER BY archive_id")

_REMOVE = ("DELETE FROM pending_deliveries "
           "WHERE channel = %s AND recipient = %s")


class DeliveryStorage:
    """
    Archived messages waiting for a recipient's server to take them.
    """

    def addPending(self, channel, recipient, archiveId, stamp):
        d = self._db.runQuery(_ADD, (channel, recipient, archiveId,
                                     float(stamp), channel, recipient))
        return d.addCallback(lambda rows: rows[0][0])

    def listPending(self, channel, recipient):
        d = self._db.runQuery(_LIST, (channel, recipient))
        return d.addCallback(lambda rows: [row[0] for row in rows])

    def listPendingEntries(self, channel, recipient):
        d = self._db.runQuery(_LIST, (channel, recipient))
        return d.addCallback(lambda rows: [tuple(row) for row in rows])

    def removePending(self, channel, recipient, archiveIds=None, upTo=None):
        sql, args = _REMOVE, [channel, recipient]
        if archiveIds is not None:
            sql += " AND archive_id = ANY(%s::text[])"
            args.append(list(archiveIds))
        if upTo is not None:
            sql += " AND stamp <= %s"
            args.append(float(upTo))
        return self._db.runOperation(sql, tuple(args))

    def pendingRecipients(self):
        d = self._db.runQuery(
            "SELECT channel, recipient, min(stamp) FROM pending_deliveries "
            "GROUP BY channel, recipient ORDER BY channel, recipient")
        return d.addCallback(lambda rows: [tuple(row) for row in rows])
