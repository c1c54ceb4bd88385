"""
L{mixtwisted.interfaces.IChannelStorage} on PostgreSQL.
"""

from psycopg2.errors import UniqueViolation

from mixtwisted.errors import Conflict, NotFound
from mixtwisted.store.pgsql import codec
from mixtwisted.store.pgsql.database import raiseInstead

_INSERT = ("INSERT INTO channels (" + codec.CHANNEL_COLUMNS + ") "
           "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)")

_SELECT = "SELECT " + codec.CHANNEL_COLUMNS + " FROM channels"

_UPDATE = ("UPDATE channels SET config = %s, info = %s, config_id = %s, "
           "info_id = %s, adhoc = %s, created = %s, allowed = %s, "
           "banned = %s, invitation_digests = %s, invitation_expiries = %s "
           "WHERE name = %s RETURNING true")

# Participants, subscriptions, the archive with its counters, items and
# presence go by ON DELETE CASCADE; pending deliveries have no foreign
# key (they may name any channel) and go here; proxy identifiers and
# client resources stay (PJID-3).
_DELETE = ("WITH pending AS (DELETE FROM pending_deliveries "
           "WHERE channel = %s) "
           "DELETE FROM channels WHERE name = %s RETURNING true")


def channelKey(name):
    """
    The cache key of a channel record.
    """
    return ("channel", name)


def channelScope(name):
    """
    The cache scope of everything kept about a channel.
    """
    return ("in", name)


class ChannelStorage:
    """
    Channels and their configuration and information.
    """

    def createChannel(self, record):
        d = self._write([channelScope(record.name), channelKey(record.name)],
                        self._db.runOperation, _INSERT,
                        codec.channelParams(record))
        return d.addErrback(raiseInstead, UniqueViolation,
                            Conflict("Channel exists"))

    def getChannel(self, name):
        return self._cachedRead(
            channelKey(name), (channelScope(name),), self._loadChannel,
            name, copy=lambda record: record and record.copy())

    def _loadChannel(self, name):
        d = self._db.runQuery(_SELECT + " WHERE name = %s", (name,))
        return d.addCallback(
            lambda rows: codec.channelFromRow(rows[0]) if rows else None)

    def updateChannel(self, record):
        params = codec.channelParams(record)
        d = self._write([channelKey(record.name)], self._db.runQuery,
                        _UPDATE, params[1:] + params[:1])

        def check(rows):
            if not rows:
                raise NotFound("No such channel")
        return d.addCallback(check)

    def deleteChannel(self, name):
        d = self._write([channelScope(name)], self._db.runQuery, _DELETE,
                        (name, name))
        return d.addCallback(bool)

    def listChannels(self):
        d = self._db.runQuery(_SELECT + " ORDER BY seq")
        return d.addCallback(
            lambda rows: [codec.channelFromRow(row) for row in rows])
