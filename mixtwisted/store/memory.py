"""
The in-memory store: the embedded default.

Everything lives in dictionaries of this object; nothing survives a restart.
Every method returns an already-fired Deferred, so the channel logic runs
the same code paths as with a database store.
"""

import zlib
from bisect import bisect_left
from dataclasses import replace

from twisted.internet import defer
from zope.interface import implementer

from mixtwisted.errors import Conflict, NotFound
from mixtwisted.interfaces import IMIXStorage
from mixtwisted.namespaces import DEFAULT_REVISION, NODE_MESSAGES
from mixtwisted.store.paging import filtered, page, pageSorted

#: The answer of getRevisions for a channel where everybody speaks the
#: default revision.
_NOBODY = {}


class _NodeArchive:
    """
    The archive of one node of a channel: its entries and their archive
    ids, both ascending by archive id (MAM pages by bisection).

    The archives of nodes other than messages (jidmap, info, config,
    MAM-4) are kept packed: each entry's XML compressed with the node's
    first entry as preset dictionary, which it repeats but for a few ids
    (a jidmap entry, one per join, takes about 80 bytes instead of 380).
    They are read rarely; messages, read on every MAM page and
    retransmission, are kept as they are.

    @ivar packed: whether entries are kept packed.
    """

    __slots__ = ("entries", "ids", "packed", "_dictionary")

    def __init__(self, packed):
        self.entries, self.ids = [], []
        self.packed = packed
        self._dictionary = None

    def pack(self, message):
        """
        The entry to keep for C{message}: itself, or a copy whose C{xml}
        is packed (bytes).
        """
        if not self.packed:
            return message
        data = message.xml.encode("utf-8")
        if self._dictionary is None:
            self._dictionary = data
        packer = zlib.compressobj(9, zlib.DEFLATED, -15, 9,
                                  zlib.Z_DEFAULT_STRATEGY, self._dictionary)
        return replace(message, xml=packer.compress(data) + packer.flush())

    def unpack(self, entry):
        """
        The L{ArchivedMessage} a kept entry stands for.
        """
        if not self.packed:
            return entry
        unpacker = zlib.decompressobj(-15, self._dictionary)
        xml = unpacker.decompress(entry.xml) + unpacker.flush()
        return replace(entry, xml=xml.decode("utf-8"))


@implementer(IMIXStorage)
class MemoryStore:
    """
    Keep channels, participants, subscriptions and archives in memory.
    """

    name = "memory"

    def __init__(self):
        self._channels = {}
        # channel -> real bare JID -> ParticipantRecord
        self._participants = {}
        # channel -> nick key -> real bare JID of the participant using it
        self._nicks = {}
        # the distinct preference dicts of stored participants
        # (_sharedPrefs), by their sorted items
        self._prefs = {}
        # channel -> real bare JID -> revision, for participants not on
        # the default revision (getRevisions); absent: nobody.
        self._revisions = {}
        # channel -> proxyId -> real bare JID (kept after leave: PJID-3)
        self._proxyIds = {}
        # channel -> real bare JID -> proxyId
        self._proxyOf = {}
        # channel -> node -> dict(jid -> None), insertion ordered
        self._subscribers = {}
        # channel -> node -> _NodeArchive
        self._archives = {}
        # channel -> archive id -> node
        self._archiveIds = {}
        # bare JID -> (nick, nickKey); nickKey -> bare JID
        self._registered = {}
        self._nickHolders = {}
        # channel -> node -> dict(itemId -> xml), insertion ordered
        self._items = {}
        # channel -> real full JID -> (proxyId, resource), and back
        self._clients = {}
        self._clientsBack = {}
        # channel -> (proxyId, resource) -> PresenceRecord, insertion ordered
        self._presence = {}
        self._lastArchiveId = None
        # (channel, recipient bare JID) -> dict(archiveId -> stamp)
        self._pending = {}

    def start(self):
        return defer.succeed(None)

    def stop(self):
        return defer.succeed(None)

    #: Every operation completes before it returns.
    busy = 0

    def whenIdle(self):
        return defer.succeed(None)

    # IChannelStorage

    def createChannel(self, record):
        if record.name in self._channels:
            return defer.fail(Conflict("Channel exists"))
        self._channels[record.name] = record.copy()
        self._participants[record.name] = {}
        self._subscribers[record.name] = {}
        self._archives[record.name] = {}
        self._archiveIds[record.name] = {}
        self._proxyIds.setdefault(record.name, {})
        self._proxyOf.setdefault(record.name, {})
        return defer.succeed(None)

    def getChannel(self, name):
        record = self._channels.get(name)
        return defer.succeed(record.copy() if record else None)

    def updateChannel(self, record):
        if record.name not in self._channels:
            return defer.fail(NotFound("No such channel"))
        self._channels[record.name] = record.copy()
        return defer.succeed(None)

    def deleteChannel(self, name):
        existed = self._channels.pop(name, None) is not None
        self._participants.pop(name, None)
        self._nicks.pop(name, None)
        self._revisions.pop(name, None)
        self._subscribers.pop(name, None)
        self._archives.pop(name, None)
        self._archiveIds.pop(name, None)
        self._items.pop(name, None)
        self._presence.pop(name, None)
        for key in [k for k in self._pending if k[0] == name]:
            del self._pending[key]
        return defer.succeed(existed)

    def listChannels(self):
        return defer.succeed([r.copy() for r in self._channels.values()])

    # IParticipantStorage

    def getParticipant(self, channel, jid):
        record = self._participants.get(channel, {}).get(jid)
        return defer.succeed(record.copy() if record else None)

    def getParticipantByProxy(self, channel, proxyId):
        jid = self._proxyIds.get(channel, {}).get(proxyId)
        if jid is None:
            return defer.succeed(None)
        return self.getParticipant(channel, jid)

    def getParticipantByNick(self, channel, nickKey):
        jid = self._nicks.get(channel, {}).get(nickKey)
        if jid is None:
            return defer.succeed(None)
        return self.getParticipant(channel, jid)

    def listParticipants(self, channel):
        return defer.succeed(
            [r.copy() for r in self._participants.get(channel, {}).values()])

    def saveParticipant(self, record):
        participants = self._participants.get(record.channel)
        if participants is None:
            return defer.fail(NotFound("No such channel"))
        nicks = self._nicks.setdefault(record.channel, {})
        if nicks.get(record.nickKey, record.jid) != record.jid:
            return defer.fail(Conflict("Nick in use"))
        stored = replace(record, prefs=self._sharedPrefs(record.prefs))
        previous = participants.get(record.jid)
        if previous is not None and previous.nickKey is not None:
            del nicks[previous.nickKey]
        if record.nickKey is not None:
            nicks[record.nickKey] = record.jid
        participants[record.jid] = stored
        self._setRevision(record.channel, record.jid, record.revision)
        return defer.succeed(None)

    def _sharedPrefs(self, prefs):
        """
        One stored dict per distinct set of preferences: most participants
        have the same (the defaults), so that each would otherwise keep
        its own copy of the same four entries.  Stored records are never
        changed in place, and reads hand out copies (C{record.copy()}).
        """
        key = tuple(sorted(prefs.items()))
        shared = self._prefs.get(key)
        if shared is None:
            shared = self._prefs[key] = dict(prefs)
        return shared

    def _setRevision(self, channel, jid, revision):
        revisions = self._revisions.get(channel)
        if revision == DEFAULT_REVISION:
            if revisions is not None:
                revisions.pop(jid, None)
                if not revisions:
                    del self._revisions[channel]
        else:
            # A new dict on every change: callers may hold the old one.
            revisions = dict(revisions or {})
            revisions[jid] = revision
            self._revisions[channel] = revisions

    def getRevisions(self, channel):
        return defer.succeed(self._revisions.get(channel, _NOBODY))

    def removeParticipant(self, channel, jid):
        removed = self._participants.get(channel, {}).pop(jid, None)
        if removed is not None and removed.nickKey is not None:
            del self._nicks[channel][removed.nickKey]
        self._setRevision(channel, jid, DEFAULT_REVISION)
        return defer.succeed(removed is not None)

    def proxyIdFor(self, channel, jid):
        return defer.succeed(self._proxyOf.get(channel, {}).get(jid))

    def reserveProxyId(self, channel, jid, proxyId):
        issued = self._proxyIds.setdefault(channel, {})
        if proxyId in issued:
            return defer.succeed(False)
        issued[proxyId] = jid
        self._proxyOf.setdefault(channel, {})[jid] = proxyId
        return defer.succeed(True)

    # ISubscriptionStorage

    def _nodes(self, channel):
        nodes = self._subscribers.get(channel)
        if nodes is None:
            raise NotFound("No such channel")
        return nodes

    def setSubscriptions(self, channel, jid, nodes):
        self.removeSubscriptions(channel, jid)
        return self.addSubscriptions(channel, jid, nodes)

    def addSubscriptions(self, channel, jid, nodes):
        try:
            table = self._nodes(channel)
        except NotFound as e:
            return defer.fail(e)
        for node in nodes:
            table.setdefault(node, {})[jid] = None
        return defer.succeed(None)

    def removeSubscriptions(self, channel, jid, nodes=None):
        table = self._subscribers.get(channel, {})
        for node in (table if nodes is None else nodes):
            table.get(node, {}).pop(jid, None)
        return defer.succeed(None)

    def getSubscriptions(self, channel, jid):
        table = self._subscribers.get(channel, {})
        return defer.succeed(
            set(node for node, jids in table.items() if jid in jids))

    def getSubscribers(self, channel, node):
        return defer.succeed(
            list(self._subscribers.get(channel, {}).get(node, ())))

    # IArchiveStorage

    def appendMessage(self, channel, message):
        archives = self._archives.get(channel)
        if archives is None:
            return defer.fail(NotFound("No such channel"))
        archive = archives.get(message.node)
        if archive is None:
            archive = archives[message.node] = _NodeArchive(
                message.node != NODE_MESSAGES)
        entries, ids = archive.entries, archive.ids
        message = archive.pack(message)
        if ids and ids[-1] > message.archiveId:
            # Ids are issued in order; keep the lists sorted if one is not.
            index = bisect_left(ids, message.archiveId)
            entries.insert(index, message)
            ids.insert(index, message.archiveId)
        else:
            entries.append(message)
            ids.append(message.archiveId)
        self._archiveIds[channel][message.archiveId] = message.node
        if self._lastArchiveId is None or \
                message.archiveId > self._lastArchiveId:
            self._lastArchiveId = message.archiveId
        return defer.succeed(None)

    def queryArchive(self, channel, query):
        archive = self._archives.get(channel, {}).get(query.node)
        if archive is None:
            return defer.succeed(page([], query))
        if filtered(query):
            result = page(archive.entries, query)
        else:
            result = pageSorted(archive.entries, archive.ids, query)
        if archive.packed:
            result = replace(result, messages=[
                archive.unpack(entry) for entry in result.messages])
        return defer.succeed(result)

    def _locate(self, channel, archiveId):
        """
        Return C{(node archive, index)} of an archived entry, or C{None}.
        """
        node = self._archiveIds.get(channel, {}).get(archiveId)
        if node is None:
            return None
        archive = self._archives[channel][node]
        return archive, bisect_left(archive.ids, archiveId)

    def getArchived(self, channel, archiveId):
        found = self._locate(channel, archiveId)
        if found is None:
            return defer.succeed(None)
        archive, index = found
        return defer.succeed(archive.unpack(archive.entries[index]))

    def replaceArchived(self, channel, archiveId, xml):
        found = self._locate(channel, archiveId)
        if found is None:
            return defer.succeed(False)
        archive, index = found
        archive.entries[index] = archive.pack(
            replace(archive.entries[index], xml=xml))
        return defer.succeed(True)

    def hasArchived(self, channel, archiveId):
        return defer.succeed(
            archiveId in self._archiveIds.get(channel, ()))

    def lastArchiveId(self):
        return defer.succeed(self._lastArchiveId)

    # INickStorage

    def registerNick(self, jid, nick, nickKey):
        holder = self._nickHolders.get(nickKey)
        if holder is not None and holder != jid:
            return defer.fail(Conflict("Nick registered by another user"))
        previous = self._registered.get(jid)
        if previous is not None:
            self._nickHolders.pop(previous[1], None)
        self._registered[jid] = (nick, nickKey)
        self._nickHolders[nickKey] = jid
        return defer.succeed(None)

    def getRegisteredNick(self, jid):
        return defer.succeed(self._registered.get(jid))

    def nickHolder(self, nickKey):
        return defer.succeed(self._nickHolders.get(nickKey))

    # IItemStorage

    def setItem(self, channel, node, itemId, xml):
        if channel not in self._channels:
            return defer.fail(NotFound("No such channel"))
        items = self._items.setdefault(channel, {}).setdefault(node, {})
        items.pop(itemId, None)
        items[itemId] = xml
        return defer.succeed(None)

    def getItems(self, channel, node):
        items = self._items.get(channel, {}).get(node, {})
        return defer.succeed(list(items.items()))

    def removeItems(self, channel, node, itemIds=None):
        items = self._items.get(channel, {}).get(node, {})
        ids = list(items) if itemIds is None else \
            [i for i in itemIds if i in items]
        for itemId in ids:
            del items[itemId]
        return defer.succeed(ids)

    # IClientStorage

    def clientResource(self, channel, realFullJID):
        entry = self._clients.get(channel, {}).get(realFullJID)
        return defer.succeed(entry[1] if entry else None)

    def reserveClientResource(self, channel, realFullJID, proxyId, resource):
        back = self._clientsBack.setdefault(channel, {})
        if (proxyId, resource) in back:
            return defer.succeed(False)
        back[(proxyId, resource)] = realFullJID
        self._clients.setdefault(channel, {})[realFullJID] = (
            proxyId, resource)
        return defer.succeed(True)

    def clientFor(self, channel, proxyId, resource):
        return defer.succeed(
            self._clientsBack.get(channel, {}).get((proxyId, resource)))

    # IPresenceStorage

    def setPresence(self, record):
        if record.channel not in self._channels:
            return defer.fail(NotFound("No such channel"))
        items = self._presence.setdefault(record.channel, {})
        key = (record.proxyId, record.resource)
        items.pop(key, None)
        items[key] = replace(record)
        return defer.succeed(None)

    def getPresence(self, channel, proxyId, resource):
        record = self._presence.get(channel, {}).get((proxyId, resource))
        return defer.succeed(replace(record) if record else None)

    def removePresence(self, channel, proxyId, resource):
        return defer.succeed(
            self._presence.get(channel, {}).pop((proxyId, resource), None))

    def listPresence(self, channel):
        return defer.succeed(
            [replace(r) for r in self._presence.get(channel, {}).values()])

    def markPresenceUnconfirmed(self):
        for items in self._presence.values():
            for record in items.values():
                record.confirmed = False
        return defer.succeed(None)

    # IDeliveryStorage

    def addPending(self, channel, recipient, archiveId, stamp):
        entries = self._pending.setdefault((channel, recipient), {})
        entries[archiveId] = stamp
        return defer.succeed(len(entries))

    def listPending(self, channel, recipient):
        return defer.succeed(
            sorted(self._pending.get((channel, recipient), ())))

    def listPendingEntries(self, channel, recipient):
        return defer.succeed(
            sorted(self._pending.get((channel, recipient), {}).items()))

    def removePending(self, channel, recipient, archiveIds=None, upTo=None):
        key = (channel, recipient)
        entries = self._pending.get(key, {})
        if archiveIds is None:
            archiveIds = list(entries)
        for archiveId in archiveIds:
            stamp = entries.get(archiveId)
            if stamp is not None and (upTo is None or stamp <= upTo):
                del entries[archiveId]
        if not entries:
            self._pending.pop(key, None)
        return defer.succeed(None)

    def pendingRecipients(self):
        return defer.succeed(sorted(
            (channel, recipient, min(entries.values()))
            for (channel, recipient), entries in self._pending.items()))
