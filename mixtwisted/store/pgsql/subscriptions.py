"""
L{mixtwisted.interfaces.ISubscriptionStorage} on PostgreSQL.
"""

from psycopg2.errors import ForeignKeyViolation

from mixtwisted.errors import NotFound
from mixtwisted.store.pgsql.channels import channelScope
from mixtwisted.store.pgsql.database import raiseInstead

# Adding a node already subscribed keeps its place in the order (seq).
# The channel is looked up first so that an unknown one is reported also
# when there is no node to add, as the memory store does.
_ADD = ("WITH target AS (SELECT name FROM channels WHERE name = %s), "
        "added AS (INSERT INTO subscriptions (channel, node, jid) "
        "SELECT target.name, n.node, %s "
        "FROM target, unnest(%s::text[]) WITH ORDINALITY AS n(node, ord) "
        "ORDER BY n.ord ON CONFLICT DO NOTHING) "
        "SELECT count(*) FROM target")

_REMOVE = "DELETE FROM subscriptions WHERE channel = %s AND jid = %s"


def subscribersKey(channel, node):
    """
    The cache key of a node's subscriber list.
    """
    return ("subscribers", channel, node)


def subscriptionsScope(channel):
    """
    The cache scope of every subscriber list of a channel.
    """
    return ("subscriptions", channel)


def _checkAdded(rows):
    if not rows[0][0]:
        raise NotFound("No such channel")


class SubscriptionStorage:
    """
    Node subscriptions, by bare JID.
    """

    def setSubscriptions(self, channel, jid, nodes):
        nodes = list(nodes)

        def replace(cursor):
            d = cursor.execute(_REMOVE, (channel, jid))
            d.addCallback(lambda _: cursor.execute(
                _ADD, (channel, jid, nodes)))
            d.addCallback(lambda _: _checkAdded(cursor.fetchall()))
            return d
        d = self._write([subscriptionsScope(channel)],
                        self._db.runInteraction, replace)
        return d.addErrback(raiseInstead, ForeignKeyViolation,
                            NotFound("No such channel"))

    def addSubscriptions(self, channel, jid, nodes):
        nodes = list(nodes)
        d = self._write([subscribersKey(channel, node) for node in nodes],
                        self._db.runQuery, _ADD, (channel, jid, nodes))
        d.addCallback(_checkAdded)
        return d.addErrback(raiseInstead, ForeignKeyViolation,
                            NotFound("No such channel"))

    def removeSubscriptions(self, channel, jid, nodes=None):
        if nodes is None:
            return self._write([subscriptionsScope(channel)],
                               self._db.runOperation, _REMOVE,
                               (channel, jid))
        nodes = list(nodes)
        return self._write([subscribersKey(channel, node) for node in nodes],
                           self._db.runOperation,
                           _REMOVE + " AND node = ANY(%s::text[])",
                           (channel, jid, nodes))

    def getSubscriptions(self, channel, jid):
        d = self._db.runQuery(
            "SELECT node FROM subscriptions WHERE channel = %s AND jid = %s",
            (channel, jid))
        return d.addCallback(lambda rows: set(row[0] for row in rows))

    def getSubscribers(self, channel, node):
        return self._cachedRead(
            subscribersKey(channel, node),
            (channelScope(channel), subscriptionsScope(channel)),
            self._loadSubscribers, channel, node, copy=list)

    def _loadSubscribers(self, channel, node):
        d = self._db.runQuery(
            "SELECT jid FROM subscriptions WHERE channel = %s AND node = %s "
            "ORDER BY seq", (channel, node))
        return d.addCallback(lambda rows: tuple(row[0] for row in rows))
