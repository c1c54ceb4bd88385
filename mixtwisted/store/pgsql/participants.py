"""
L{mixtwisted.interfaces.IParticipantStorage} on PostgreSQL: participants
and the proxy identifiers issued to them.
"""

from psycopg2.errors import ForeignKeyViolation, UniqueViolation

from mixtwisted.errors import Conflict, NotFound
from mixtwisted.namespaces import DEFAULT_REVISION
from mixtwisted.store.pgsql import codec
from mixtwisted.store.pgsql.channels import channelScope
from mixtwisted.store.pgsql.database import raiseInstead

_SELECT = "SELECT " + codec.PARTICIPANT_COLUMNS + " FROM participants"

# The join order (seq) stays when a participant is saved again.
_SAVE = ("INSERT INTO participants (" + codec.PARTICIPANT_COLUMNS + ") "
         "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
         "ON CONFLICT (channel, jid) DO UPDATE SET "
         "proxy_id = EXCLUDED.proxy_id, nick = EXCLUDED.nick, "
         "nick_key = EXCLUDED.nick_key, prefs = EXCLUDED.prefs, "
         "joined = EXCLUDED.joined, revision = EXCLUDED.revision")

_REVISIONS = ("SELECT jid, revision FROM participants "
              "WHERE channel = %s AND revision <> %s")

# As the memory store: the JID the identifier was issued to, then that
# JID's participant record.
_BY_PROXY = ("SELECT " + ", ".join(
    "p." + column.strip()
    for column in codec.PARTICIPANT_COLUMNS.split(",")) + " "
    "FROM proxy_ids x JOIN participants p "
    "ON p.channel = x.channel AND p.jid = x.jid "
    "WHERE x.channel = %s AND x.proxy_id = %s")

# A JID normally gets one identifier; if two joins of the same JID raced,
# it has several, all reserved for good, and the newest is its own (as in
# the memory store).
_PROXY_ID_FOR = ("SELECT proxy_id FROM proxy_ids "
                 "WHERE channel = %s AND jid = %s ORDER BY seq DESC LIMIT 1")

_RESERVE = ("INSERT INTO proxy_ids (channel, proxy_id, jid) "
            "VALUES (%s, %s, %s) ON CONFLICT DO NOTHING RETURNING true")


def participantKey(channel, jid):
    """
    The cache key of a participant record.
    """
    return ("participant", channel, jid)


def revisionsKey(channel):
    """
    The cache key of a channel's participants not on the default revision
    (getRevisions): changed by every write of a participant of that
    channel.
    """
    return ("revisions", channel)


def _first(rows):
    return codec.participantFromRow(rows[0]) if rows else None


class ParticipantStorage:
    """
    Participants and the proxy identifiers issued to them.
    """

    def getParticipant(self, channel, jid):
        return self._cachedRead(
            participantKey(channel, jid), (channelScope(channel),),
            self._loadParticipant, channel, jid,
            copy=lambda record: record and record.copy())

    def _loadParticipant(self, channel, jid):
        d = self._db.runQuery(_SELECT + " WHERE channel = %s AND jid = %s",
                              (channel, jid))
        return d.addCallback(_first)

    def getParticipantByProxy(self, channel, proxyId):
        return self._db.runQuery(_BY_PROXY, (channel, proxyId)).addCallback(
            _first)

    def getParticipantByNick(self, channel, nickKey):
        d = self._db.runQuery(
            _SELECT + " WHERE channel = %s AND nick_key = %s",
            (channel, nickKey))
        return d.addCallback(_first)

    def listParticipants(self, channel):
        d = self._db.runQuery(_SELECT + " WHERE channel = %s ORDER BY seq",
                              (channel,))
        return d.addCallback(
            lambda rows: [codec.participantFromRow(row) for row in rows])

    def getRevisions(self, channel):
        # The dict handed out is the one kept: callers do not change it.
        return self._cachedRead(
            revisionsKey(channel), (channelScope(channel),),
            self._loadRevisions, channel, copy=lambda revisions: revisions)

    def _loadRevisions(self, channel):
        d = self._db.runQuery(_REVISIONS, (channel, DEFAULT_REVISION))
        return d.addCallback(dict)

    def saveParticipant(self, record):
        d = self._write([participantKey(record.channel, record.jid),
                         revisionsKey(record.channel)],
                        self._db.runOperation, _SAVE,
                        codec.participantParams(record))
        d.addErrback(raiseInstead, UniqueViolation, Conflict("Nick in use"))
        return d.addErrback(raiseInstead, ForeignKeyViolation,
                            NotFound("No such channel"))

    def removeParticipant(self, channel, jid):
        d = self._write(
            [participantKey(channel, jid), revisionsKey(channel)],
            self._db.runQuery,
            "DELETE FROM participants WHERE channel = %s AND jid = %s "
            "RETURNING true", (channel, jid))
        return d.addCallback(bool)

    def proxyIdFor(self, channel, jid):
        d = self._db.runQuery(_PROXY_ID_FOR, (channel, jid))
        return d.addCallback(lambda rows: rows[0][0] if rows else None)

    def reserveProxyId(self, channel, jid, proxyId):
        d = self._db.runQuery(_RESERVE, (channel, proxyId, jid))
        return d.addCallback(bool)
