"""
L{mixtwisted.interfaces.INickStorage} and
L{mixtwisted.interfaces.IClientStorage} on PostgreSQL: the nicks
registered with the service, and the full proxy JIDs of clients.

Client resources, like proxy identifiers, are never deleted, also not
with their channel.
"""

from psycopg2.errors import UniqueViolation

from mixtwisted.errors import Conflict
from mixtwisted.store.pgsql.database import raiseInstead

_REGISTER = ("INSERT INTO registered_nicks (jid, nick, nick_key) "
             "VALUES (%s, %s, %s) ON CONFLICT (jid) DO UPDATE "
             "SET nick = EXCLUDED.nick, nick_key = EXCLUDED.nick_key")

_RESERVE = ("INSERT INTO client_resources (channel, proxy_id, resource, jid) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING true")


def _one(rows):
    return rows[0][0] if rows else None


class NickStorage:
    """
    Nicks registered with the service, one per bare JID, unique by key.
    """

    def registerNick(self, jid, nick, nickKey):
        d = self._db.runOperation(_REGISTER, (jid, nick, nickKey))
        return d.addErrback(raiseInstead, UniqueViolation,
                            Conflict("Nick registered by another user"))

    def getRegisteredNick(self, jid):
        d = self._db.runQuery(
            "SELECT nick, nick_key FROM registered_nicks WHERE jid = %s",
            (jid,))
        return d.addCallback(lambda rows: tuple(rows[0]) if rows else None)

    def nickHolder(self, nickKey):
        d = self._db.runQuery(
            "SELECT jid FROM registered_nicks WHERE nick_key = %s",
            (nickKey,))
        return d.addCallback(_one)


class ClientStorage:
    """
    The resources of full proxy JIDs, bound to real full JIDs for good.
    """

    def clientResource(self, channel, realFullJID):
        # The newest, should a client have been given several.
        d = self._db.runQuery(
            "SELECT resource FROM client_resources WHERE channel = %s "
            "AND jid = %s ORDER BY seq DESC LIMIT 1", (channel, realFullJID))
        return d.addCallback(_one)

    def reserveClientResource(self, channel, realFullJID, proxyId, resource):
        d = self._db.runQuery(_RESERVE,
                              (channel, proxyId, resource, realFullJID))
        return d.addCallback(bool)

    def clientFor(self, channel, proxyId, resource):
        d = self._db.runQuery(
            "SELECT jid FROM client_resources WHERE channel = %s "
            "AND proxy_id = %s AND resource = %s",
            (channel, proxyId, resource))
        return d.addCallback(_one)
