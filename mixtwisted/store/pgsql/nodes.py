"""
L{mixtwisted.interfaces.IItemStorage} and
L{mixtwisted.interfaces.IPresenceStorage} on PostgreSQL: the items of
user-published nodes and of the presence node.

Replacing an item moves it to the end (a new C{seq}), as the memory store
does.
"""

from psycopg2.errors import ForeignKeyViolation

from mixtwisted.errors import NotFound
from mixtwisted.store.pgsql import codec
from mixtwisted.store.pgsql.database import raiseInstead

_SET_ITEM = ("INSERT INTO items (channel, node, item_id, xml) "
             "VALUES (%s, %s, %s, %s) "
             "ON CONFLICT (channel, node, item_id) DO UPDATE "
             "SET xml = EXCLUDED.xml, seq = DEFAULT")

_SET_PRESENCE = ("INSERT INTO presence (" + codec.PRESENCE_COLUMNS + ") "
                 "VALUES (%s, %s, %s, %s, %s, %s, %s) "
                 "ON CONFLICT (channel, proxy_id, resource) DO UPDATE "
                 "SET jid = EXCLUDED.jid, xml = EXCLUDED.xml, "
                 "updated = EXCLUDED.updated, "
                 "confirmed = EXCLUDED.confirmed, seq = DEFAULT")

_SELECT_PRESENCE = "SELECT " + codec.PRESENCE_COLUMNS + " FROM presence"

_ONE_PRESENCE = "channel = %s AND proxy_id = %s AND resource = %s"


def _firstPresence(rows):
    return codec.presenceFromRow(rows[0]) if rows else None


class ItemStorage:
    """
    Items of nodes published by users (the avatar nodes).
    """

    def setItem(self, channel, node, itemId, xml):
        d = self._db.runOperation(_SET_ITEM, (channel, node, itemId, xml))
        return d.addErrback(raiseInstead, ForeignKeyViolation,
                            NotFound("No such channel"))

    def getItems(self, channel, node):
        d = self._db.runQuery(
            "SELECT item_id, xml FROM items WHERE channel = %s AND node = %s "
            "ORDER BY seq", (channel, node))
        return d.addCallback(lambda rows: [tuple(row) for row in rows])

    def removeItems(self, channel, node, itemIds=None):
        sql = ("DELETE FROM items WHERE channel = %s AND node = %s")
        params = [channel, node]
        if itemIds is not None:
            itemIds = list(itemIds)
            sql += " AND item_id = ANY(%s::text[])"
            params.append(itemIds)

        def removed(rows):
            if itemIds is None:
                return [itemId for _, itemId in sorted(rows)]
            gone = set(itemId for _, itemId in rows)
            ordered = []
            for itemId in itemIds:
                if itemId in gone and itemId not in ordered:
                    ordered.append(itemId)
            return ordered
        d = self._db.runQuery(sql + " RETURNING seq, item_id", params)
        return d.addCallback(removed)


class PresenceStorage:
    """
    The presence node: one item per online client.
    """

    def setPresence(self, record):
        d = self._db.runOperation(_SET_PRESENCE, codec.presenceParams(record))
        return d.addErrback(raiseInstead, ForeignKeyViolation,
                            NotFound("No such channel"))

    def getPresence(self, channel, proxyId, resource):
        d = self._db.runQuery(_SELECT_PRESENCE + " WHERE " + _ONE_PRESENCE,
                              (channel, proxyId, resource))
        return d.addCallback(_firstPresence)

    def removePresence(self, channel, proxyId, resource):
        d = self._db.runQuery(
            "DELETE FROM presence WHERE " + _ONE_PRESENCE +
            " RETURNING " + codec.PRESENCE_COLUMNS,
            (channel, proxyId, resource))
        return d.addCallback(_firstPresence)

    def listPresence(self, channel):
        d = self._db.runQuery(
            _SELECT_PRESENCE + " WHERE channel = %s ORDER BY seq", (channel,))
        return d.addCallback(
            lambda rows: [codec.presenceFromRow(row) for row in rows])

    def markPresenceUnconfirmed(self):
        return self._db.runOperation(
            "UPDATE presence SET confirmed = false WHERE confirmed")
