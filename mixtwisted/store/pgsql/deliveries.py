"""
L{mixtwisted.interfaces.IDeliveryStorage} on PostgreSQL: archive entries
waiting for a recipient.

Pending entries have no foreign key to their channel (the memory store
takes them for any channel); C{deleteChannel} removes them itself.
"""

# The count is read in the snapshot the statement started with, which
# does not see its own insert: add it.
_ADD = ("WITH added AS (INSERT INTO pending_deliveries "
        "(channel, recipient, archive_id, stamp) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT DO NOTHING RETURNING true) "
        "SELECT (SELECT count(*) FROM pending_deliveries "
        "WHERE channel = %s AND recipient = %s) "
        "+ (SELECT count(*) FROM added)")

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
        d = self._db.runQuery(
            "SELECT archive_id FROM pending_deliveries WHERE channel = %s "
            "AND recipient = %s ORDER BY archive_id", (channel, recipient))
        return d.addCallback(lambda rows: [row[0] for row in rows])

    def removePending(self, channel, recipient, archiveIds=None):
        if archiveIds is None:
            return self._db.runOperation(_REMOVE, (channel, recipient))
        return self._db.runOperation(
            _REMOVE + " AND archive_id = ANY(%s::text[])",
            (channel, recipient, list(archiveIds)))

    def pendingRecipients(self):
        d = self._db.runQuery(
            "SELECT channel, recipient, min(stamp) FROM pending_deliveries "
            "GROUP BY channel, recipient ORDER BY channel, recipient")
        return d.addCallback(lambda rows: [tuple(row) for row in rows])
