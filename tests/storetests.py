"""
Contract tests of the storage interfaces (L{mixtwisted.interfaces}).

One mixin per interface.  A store runs them by mixing them into a
C{TestCase} with a C{makeStore} method (see C{tests/test_store_memory.py});
tests return Deferreds, so a store that does real I/O runs them unchanged.
"""

from twisted.internet import defer
from zope.interface.verify import verifyObject

from mixtwisted.errors import Conflict, NotFound
from mixtwisted.interfaces import (
    IArchiveStorage, IChannelStorage, IClientStorage, IDeliveryStorage,
    IItemStorage,
    IMIXStorage, INickStorage, IParticipantStorage, IPresenceStorage,
    ISubscriptionStorage)
from mixtwisted.records import (
    ArchivedMessage, ArchiveQuery, ChannelRecord, ParticipantRecord)

M = "urn:xmpp:mix:nodes:messages"
P = "urn:xmpp:mix:nodes:participants"
J = "urn:xmpp:mix:nodes:jidmap"
CORE = "urn:xmpp:mix:core:1"


class StoreTestBase:
    """
    Gives each test a fresh store with two channels, C{coven} and C{cave}.
    """

    def makeStore(self):
        raise NotImplementedError()

    @defer.inlineCallbacks
    def setUp(self):
        self.store = yield self.makeStore()
        yield self.store.createChannel(ChannelRecord(
            name="coven", config={"Owner": ("hecate@example.org",)},
            info={"Name": "Coven"}, configId="2020-01-01T00:00:00Z"))
        yield self.store.createChannel(ChannelRecord(name="cave"))


class ChannelStorageTests(StoreTestBase):
    """
    L{IChannelStorage}.
    """

    def test_interface(self):
        self.assertTrue(verifyObject(IChannelStorage, self.store))
        self.assertTrue(verifyObject(IMIXStorage, self.store))

    @defer.inlineCallbacks
    def test_idleAfterWork(self):
        """
        Once what a caller asked for is answered, the store is idle.
        """
        yield self.store.getChannel("coven")
        yield self.store.whenIdle()
        self.assertEqual(0, self.store.busy)

    @defer.inlineCallbacks
    def test_getChannel(self):
        channel = yield self.store.getChannel("coven")
        self.assertEqual(("coven", ("hecate@example.org",), "Coven"),
                         (channel.name, channel.config["Owner"],
                          channel.info["Name"]))

    @defer.inlineCallbacks
    def test_getChannelUnknown(self):
        self.assertIdentical(None, (yield self.store.getChannel("nope")))

    @defer.inlineCallbacks
    def test_createConflict(self):
        yield self.assertFailure(
            self.store.createChannel(ChannelRecord(name="coven")), Conflict)

    @defer.inlineCallbacks
    def test_copies(self):
        """
        Changing a record changes nothing until it is saved.
        """
        channel = yield self.store.getChannel("coven")
        channel.info["Name"] = "Changed"
        again = yield self.store.getChannel("coven")
        self.assertEqual("Coven", again.info["Name"])

    @defer.inlineCallbacks
    def test_updateChannel(self):
        channel = yield self.store.getChannel("coven")
        channel.info["Name"] = "Changed"
        channel.banned = ("lear@example.org",)
        yield self.store.updateChannel(channel)
        again = yield self.store.getChannel("coven")
        self.assertEqual(("Changed", ("lear@example.org",)),
                         (again.info["Name"], again.banned))

    @defer.inlineCallbacks
    def test_updateUnknown(self):
        yield self.assertFailure(
            self.store.updateChannel(ChannelRecord(name="nope")), NotFound)

    @defer.inlineCallbacks
    def test_listChannels(self):
        names = sorted(c.name for c in (yield self.store.listChannels()))
        self.assertEqual(["cave", "coven"], names)

    @defer.inlineCallbacks
    def test_deleteChannel(self):
        self.assertTrue((yield self.store.deleteChannel("coven")))
        self.assertIdentical(None, (yield self.store.getChannel("coven")))
        self.assertFalse((yield self.store.deleteChannel("coven")))

    @defer.inlineCallbacks
    def test_deleteDropsContents(self):
        """
        Deleting a channel drops its participants, subscriptions and
        archive; re-creating it starts empty.
        """
        yield self.store.reserveProxyId("coven", "a@example.org", "abc")
        yield self.store.saveParticipant(ParticipantRecord(
            "coven", "a@example.org", "abc"))
        yield self.store.setSubscriptions("coven", "a@example.org", [M])
        yield self.store.appendMessage("coven", ArchivedMessage(
            "0000000000000001-A", 1.0, M, None, "<message/>"))
        yield self.store.deleteChannel("coven")
        yield self.store.createChannel(ChannelRecord(name="coven"))
        self.assertEqual([], (yield self.store.listParticipants("coven")))
        self.assertEqual([], (yield self.store.getSubscribers("coven", M)))
        page = yield self.store.queryArchive("coven", ArchiveQuery(node=M))
        self.assertEqual(0, page.count)


class ParticipantStorageTests(StoreTestBase):
    """
    L{IParticipantStorage}.
    """

    def test_interface(self):
        self.assertTrue(verifyObject(IParticipantStorage, self.store))

    @defer.inlineCallbacks
    def test_saveAndGet(self):
        yield self.store.saveParticipant(ParticipantRecord(
            "coven", "a@example.org", "abc", nick="Witch", nickKey="witch",
            prefs={"vCard": "allow"}))
        record = yield self.store.getParticipant("coven", "a@example.org")
        self.assertEqual(("abc", "Witch", {"vCard": "allow"}),
                         (record.proxyId, record.nick, record.prefs))
        self.assertIdentical(
            None, (yield self.store.getParticipant("cave", "a@example.org")))

    @defer.inlineCallbacks
    def test_lookups(self):
        yield self.store.reserveProxyId("coven", "a@example.org", "abc")
        yield self.store.saveParticipant(ParticipantRecord(
            "coven", "a@example.org", "abc", nick="Witch", nickKey="witch"))
        byProxy = yield self.store.getParticipantByProxy("coven", "abc")
        byNick = yield self.store.getParticipantByNick("coven", "witch")
        self.assertEqual(("a@example.org", "a@example.org"),
                         (byProxy.jid, byNick.jid))
        self.assertIdentical(
            None, (yield self.store.getParticipantByProxy("coven", "zzz")))
        self.assertIdentical(
            None, (yield self.store.getParticipantByNick("coven", "x")))

    @defer.inlineCallbacks
    def test_nickConflict(self):
        yield self.store.saveParticipant(ParticipantRecord(
            "coven", "a@example.org", "abc", nick="Witch", nickKey="witch"))
        yield self.assertFailure(self.store.saveParticipant(ParticipantRecord(
            "coven", "b@example.org", "def", nick="WITCH", nickKey="witch")),
            Conflict)
        # The same nick in another channel is fine.
        yield self.store.saveParticipant(ParticipantRecord(
            "cave", "b@example.org", "def", nick="WITCH", nickKey="witch"))

    @defer.inlineCallbacks
    def test_listInJoinOrder(self):
        for jid, proxyId in (("b@example.org", "b1"), ("a@example.org", "a1"),
                             ("c@example.org", "c1")):
            yield self.store.saveParticipant(
                ParticipantRecord("coven", jid, proxyId))
        records = yield self.store.listParticipants("coven")
        self.assertEqual(["b@example.org", "a@example.org", "c@example.org"],
                         [r.jid for r in records])

    @defer.inlineCallbacks
    def test_revision(self):
        """
        A participant's protocol revision is kept (REV-2); getRevisions
        lists only those not on the default revision, per channel, and
        follows saves and removals.
        """
        self.assertEqual({}, (yield self.store.getRevisions("coven")))
        yield self.store.saveParticipant(ParticipantRecord(
            "coven", "a@example.org", "abc", revision=CORE))
        yield self.store.saveParticipant(ParticipantRecord(
            "coven", "b@example.org", "def"))
        yield self.store.saveParticipant(ParticipantRecord(
            "cave", "c@example.org", "ghi", revision=CORE))
        record = yield self.store.getParticipant("coven", "a@example.org")
        self.assertEqual(CORE, record.revision)
        record = yield self.store.getParticipant("coven", "b@example.org")
        self.assertEqual("urn:xmpp:mix:1", record.revision)
        self.assertEqual({"a@example.org": CORE},
                         (yield self.store.getRevisions("coven")))
        self.assertEqual({"c@example.org": CORE},
                         (yield self.store.getRevisions("cave")))
        # Back to the default revision, then a removal.
        yield self.store.saveParticipant(ParticipantRecord(
            "coven", "a@example.org", "abc"))
        self.assertEqual({}, (yield self.store.getRevisions("coven")))
        yield self.store.saveParticipant(ParticipantRecord(
            "coven", "b@example.org", "def", revision=CORE))
        self.assertEqual({"b@example.org": CORE},
                         (yield self.store.getRevisions("coven")))
        yield self.store.removeParticipant("coven", "b@example.org")
        self.assertEqual({}, (yield self.store.getRevisions("coven")))
        yield self.store.deleteChannel("cave")
        self.assertEqual({}, (yield self.store.getRevisions("cave")))

    @defer.inlineCallbacks
    def test_remove(self):
        yield self.store.saveParticipant(
            ParticipantRecord("coven", "a@example.org", "abc"))
        self.assertTrue(
            (yield self.store.removeParticipant("coven", "a@example.org")))
        self.assertFalse(
            (yield self.store.removeParticipant("coven", "a@example.org")))
        self.assertIdentical(
            None, (yield self.store.getParticipant("coven", "a@example.org")))

    @defer.inlineCallbacks
    def test_proxyIdsKeptAndNeverReused(self):
        """
        PJID-3: an identifier stays bound to its JID after leave and is
        never issued to anybody else.
        """
        self.assertTrue((yield self.store.reserveProxyId(
            "coven", "a@example.org", "abc")))
        yield self.store.saveParticipant(
            ParticipantRecord("coven", "a@example.org", "abc"))
        yield self.store.removeParticipant("coven", "a@example.org")
        self.assertEqual("abc", (yield self.store.proxyIdFor(
            "coven", "a@example.org")))
        self.assertFalse((yield self.store.reserveProxyId(
            "coven", "b@example.org", "abc")))
        self.assertIdentical(None, (yield self.store.proxyIdFor(
            "coven", "b@example.org")))
        # Another channel has its own identifiers.
        self.assertTrue((yield self.store.reserveProxyId(
            "cave", "b@example.org", "abc")))

    @defer.inlineCallbacks
    def test_proxyIdsSurviveChannelDeletion(self):
        """
        PJID-3 (DEC): identifiers are not recycled when a channel is
        destroyed and created again.
        """
        yield self.store.reserveProxyId("coven", "a@example.org", "abc")
        yield self.store.deleteChannel("coven")
        yield self.store.createChannel(ChannelRecord(name="coven"))
        self.assertFalse((yield self.store.reserveProxyId(
            "coven", "b@example.org", "abc")))


class SubscriptionStorageTests(StoreTestBase):
    """
    L{ISubscriptionStorage}.
    """

    def test_interface(self):
        self.assertTrue(verifyObject(ISubscriptionStorage, self.store))

    @defer.inlineCallbacks
    def test_setAndGet(self):
        yield self.store.setSubscriptions("coven", "a@example.org", [M, P])
        yield self.store.setSubscriptions("coven", "b@example.org", [M])
        self.assertEqual({M, P}, (yield self.store.getSubscriptions(
            "coven", "a@example.org")))
        self.assertEqual(["a@example.org", "b@example.org"],
                         (yield self.store.getSubscribers("coven", M)))
        self.assertEqual(["a@example.org"],
                         (yield self.store.getSubscribers("coven", P)))
        self.assertEqual([], (yield self.store.getSubscribers("cave", M)))

    @defer.inlineCallbacks
    def test_setReplaces(self):
        yield self.store.setSubscriptions("coven", "a@example.org", [M, P])
        yield self.store.setSubscriptions("coven", "a@example.org", [J])
        self.assertEqual({J}, (yield self.store.getSubscriptions(
            "coven", "a@example.org")))

    @defer.inlineCallbacks
    def test_addAndRemove(self):
        yield self.store.addSubscriptions("coven", "a@example.org", [M])
        yield self.store.addSubscriptions("coven", "a@example.org", [P, M])
        yield self.store.removeSubscriptions("coven", "a@example.org", [M])
        self.assertEqual({P}, (yield self.store.getSubscriptions(
            "coven", "a@example.org")))
        yield self.store.removeSubscriptions("coven", "a@example.org")
        self.assertEqual(set(), (yield self.store.getSubscriptions(
            "coven", "a@example.org")))

    @defer.inlineCallbacks
    def test_unknownChannel(self):
        yield self.assertFailure(self.store.addSubscriptions(
            "nope", "a@example.org", [M]), NotFound)


def entry(n, node=M, sender="p1#coven@mix.example.org", itemId=None):
    return ArchivedMessage("%016X-AB" % (n,), float(n), node, sender,
                           "<message id='%d'/>" % (n,), itemId)


class ArchiveStorageTests(StoreTestBase):
    """
    L{IArchiveStorage}: filters and RSM paging (MAM-3).
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield StoreTestBase.setUp(self)
        for n in range(1, 8):
            sender = "p1#coven@mix.example.org" if n % 2 else \
                "p2#coven@mix.example.org"
            yield self.store.appendMessage("coven", entry(n, sender=sender))
        yield self.store.appendMessage("coven", entry(
            8, node=J, sender=None, itemId="p1#coven@mix.example.org"))
        yield self.store.appendMessage("cave", entry(9))

    def ids(self, page):
        return [int(m.archiveId.split("-")[0], 16) for m in page.messages]

    def test_interface(self):
        self.assertTrue(verifyObject(IArchiveStorage, self.store))

    @defer.inlineCallbacks
    def test_all(self):
        page = yield self.store.queryArchive("coven", ArchiveQuery(node=M))
        self.assertEqual(([1, 2, 3, 4, 5, 6, 7], True, 7),
                         (self.ids(page), page.complete, page.count))
        self.assertEqual("<message id='1'/>", page.messages[0].xml)

    @defer.inlineCallbacks
    def test_forward(self):
        page = yield self.store.queryArchive(
            "coven", ArchiveQuery(node=M, maximum=3))
        self.assertEqual(([1, 2, 3], False), (self.ids(page), page.complete))
        page = yield self.store.queryArchive("coven", ArchiveQuery(
            node=M, maximum=3, after=page.messages[-1].archiveId))
        self.assertEqual(([4, 5, 6], False), (self.ids(page), page.complete))
        page = yield self.store.queryArchive("coven", ArchiveQuery(
            node=M, maximum=3, after=page.messages[-1].archiveId))
        self.assertEqual(([7], True, 7),
                         (self.ids(page), page.complete, page.count))

    @defer.inlineCallbacks
    def test_backward(self):
        page = yield self.store.queryArchive(
            "coven", ArchiveQuery(node=M, maximum=3, before=""))
        self.assertEqual(([5, 6, 7], False), (self.ids(page), page.complete))
        page = yield self.store.queryArchive("coven", ArchiveQuery(
            node=M, maximum=3, before=page.messages[0].archiveId))
        self.assertEqual(([2, 3, 4], False), (self.ids(page), page.complete))
        page = yield self.store.queryArchive("coven", ArchiveQuery(
            node=M, maximum=3, before=page.messages[0].archiveId))
        self.assertEqual(([1], True), (self.ids(page), page.complete))

    @defer.inlineCallbacks
    def test_filters(self):
        page = yield self.store.queryArchive(
            "coven", ArchiveQuery(node=M, start=3.0, end=5.0))
        self.assertEqual([3, 4, 5], self.ids(page))
        page = yield self.store.queryArchive("coven", ArchiveQuery(
            node=M, with_="p2#coven@mix.example.org"))
        self.assertEqual(([2, 4, 6], 3), (self.ids(page), page.count))
        page = yield self.store.queryArchive("coven", ArchiveQuery(
            node=J, ids=("p1#coven@mix.example.org",)))
        self.assertEqual([8], self.ids(page))

    @defer.inlineCallbacks
    def test_maxZero(self):
        page = yield self.store.queryArchive(
            "coven", ArchiveQuery(node=M, maximum=0))
        self.assertEqual(([], 7), (page.messages, page.count))

    @defer.inlineCallbacks
    def test_countLimit(self):
        """
        A query with filters counts up to C{paging.COUNT_LIMIT} matching
        entries; beyond that its page has no count (C{None}), and is
        otherwise the same.  Without filters the count is always given.
        """
        from mixtwisted.store import paging
        self.patch(paging, "COUNT_LIMIT", 3)
        page = yield self.store.queryArchive("coven", ArchiveQuery(node=M))
        self.assertEqual(7, page.count)
        page = yield self.store.queryArchive("coven", ArchiveQuery(
            node=M, with_="p2#coven@mix.example.org"))
        self.assertEqual(([2, 4, 6], True, 3),
                         (self.ids(page), page.complete, page.count))
        page = yield self.store.queryArchive("coven", ArchiveQuery(
            node=M, with_="p1#coven@mix.example.org"))
        self.assertEqual(([1, 3, 5, 7], True, None),
                         (self.ids(page), page.complete, page.count))
        page = yield self.store.queryArchive("coven", ArchiveQuery(
            node=M, start=2.0, maximum=2))
        self.assertEqual(([2, 3], False, None),
                         (self.ids(page), page.complete, page.count))
        page = yield self.store.queryArchive("coven", ArchiveQuery(
            node=M, start=2.0, end=6.0, maximum=2, before=""))
        self.assertEqual(([5, 6], False, None),
                         (self.ids(page), page.complete, page.count))
        page = yield self.store.queryArchive("coven", ArchiveQuery(
            node=M, start=5.0, maximum=0))
        self.assertEqual(([], False, 3),
                         (self.ids(page), page.complete, page.count))

    @defer.inlineCallbacks
    def test_hasArchived(self):
        self.assertTrue((yield self.store.hasArchived(
            "coven", entry(3).archiveId)))
        self.assertFalse((yield self.store.hasArchived(
            "cave", entry(3).archiveId)))
        self.assertFalse((yield self.store.hasArchived("coven", "nope")))

    @defer.inlineCallbacks
    def test_lastArchiveId(self):
        self.assertEqual(entry(9).archiveId,
                         (yield self.store.lastArchiveId()))

    @defer.inlineCallbacks
    def test_getArchived(self):
        found = yield self.store.getArchived("coven", entry(3).archiveId)
        self.assertEqual(("<message id='3'/>", 3.0),
                         (found.xml, found.stamp))
        self.assertIdentical(None, (yield self.store.getArchived(
            "cave", entry(3).archiveId)))

    @defer.inlineCallbacks
    def test_replaceArchived(self):
        replaced = yield self.store.replaceArchived(
            "coven", entry(3).archiveId, "<message id='3'><gone/></message>")
        self.assertTrue(replaced)
        page = yield self.store.queryArchive("coven", ArchiveQuery(node=M))
        self.assertEqual(
            ("<message id='3'><gone/></message>", 7),
            (page.messages[2].xml, page.count))
        self.assertEqual("p1#coven@mix.example.org", page.messages[2].sender)
        self.assertFalse((yield self.store.replaceArchived(
            "coven", "0000000000000063-AB", "<message/>")))


class NickStorageTests(StoreTestBase):
    """
    L{INickStorage}: one registered nick per bare JID, unique by key.
    """

    def test_interface(self):
        self.assertTrue(verifyObject(INickStorage, self.store))

    @defer.inlineCallbacks
    def test_register(self):
        yield self.store.registerNick("a@example.org", "Witch", "witch")
        self.assertEqual(("Witch", "witch"), (
            yield self.store.getRegisteredNick("a@example.org")))
        self.assertEqual("a@example.org",
                         (yield self.store.nickHolder("witch")))
        self.assertIdentical(None, (yield self.store.getRegisteredNick(
            "b@example.org")))

    @defer.inlineCallbacks
    def test_conflict(self):
        yield self.store.registerNick("a@example.org", "Witch", "witch")
        yield self.assertFailure(self.store.registerNick(
            "b@example.org", "WITCH", "witch"), Conflict)

    @defer.inlineCallbacks
    def test_replace(self):
        """
        Registering again replaces the nick and frees the old one.
        """
        yield self.store.registerNick("a@example.org", "Witch", "witch")
        yield self.store.registerNick("a@example.org", "Cat", "cat")
        self.assertIdentical(None, (yield self.store.nickHolder("witch")))
        yield self.store.registerNick("b@example.org", "Witch", "witch")


class ItemStorageTests(StoreTestBase):
    """
    L{IItemStorage}: user-published items (avatar nodes).
    """

    def test_interface(self):
        self.assertTrue(verifyObject(IItemStorage, self.store))

    @defer.inlineCallbacks
    def test_items(self):
        yield self.store.setItem("coven", "urn:x", "i1", "<a/>")
        yield self.store.setItem("coven", "urn:x", "i2", "<b/>")
        yield self.store.setItem("coven", "urn:x", "i1", "<c/>")
        self.assertEqual([("i2", "<b/>"), ("i1", "<c/>")],
                         (yield self.store.getItems("coven", "urn:x")))
        self.assertEqual([], (yield self.store.getItems("cave", "urn:x")))
        self.assertEqual(["i2"], (yield self.store.removeItems(
            "coven", "urn:x", ["i2", "nope"])))
        self.assertEqual(["i1"], (yield self.store.removeItems(
            "coven", "urn:x")))
        self.assertEqual([], (yield self.store.getItems("coven", "urn:x")))

    @defer.inlineCallbacks
    def test_unknownChannel(self):
        yield self.assertFailure(
            self.store.setItem("nope", "urn:x", "i1", "<a/>"), NotFound)

    @defer.inlineCallbacks
    def test_deletedWithChannel(self):
        yield self.store.setItem("coven", "urn:x", "i1", "<a/>")
        yield self.store.deleteChannel("coven")
        yield self.store.createChannel(ChannelRecord(name="coven"))
        self.assertEqual([], (yield self.store.getItems("coven", "urn:x")))


class ClientStorageTests(StoreTestBase):
    """
    L{IClientStorage}: full proxy JIDs of clients (PJID-6).
    """

    def test_interface(self):
        self.assertTrue(verifyObject(IClientStorage, self.store))

    @defer.inlineCallbacks
    def test_reserve(self):
        full = "a@example.org/phone"
        self.assertIdentical(None, (yield self.store.clientResource(
            "coven", full)))
        self.assertTrue((yield self.store.reserveClientResource(
            "coven", full, "p1", "r1")))
        self.assertEqual("r1", (yield self.store.clientResource(
            "coven", full)))
        self.assertEqual(full, (yield self.store.clientFor(
            "coven", "p1", "r1")))
        self.assertIdentical(None, (yield self.store.clientFor(
            "cave", "p1", "r1")))

    @defer.inlineCallbacks
    def test_neverReused(self):
        yield self.store.reserveClientResource(
            "coven", "a@example.org/phone", "p1", "r1")
        self.assertFalse((yield self.store.reserveClientResource(
            "coven", "a@example.org/laptop", "p1", "r1")))
        self.assertTrue((yield self.store.reserveClientResource(
            "coven", "a@example.org/laptop", "p1", "r2")))


class PresenceStorageTests(StoreTestBase):
    """
    L{IPresenceStorage}: the presence node's items.
    """

    def record(self, proxyId="p1", resource="r1", xml="<presence/>",
               channel="coven"):
        from mixtwisted.records import PresenceRecord
        return PresenceRecord(channel, proxyId, resource,
                              "a@example.org/" + resource, xml, 5.0)

    def test_interface(self):
        self.assertTrue(verifyObject(IPresenceStorage, self.store))

    @defer.inlineCallbacks
    def test_setGetList(self):
        yield self.store.setPresence(self.record())
        yield self.store.setPresence(self.record(resource="r2"))
        yield self.store.setPresence(self.record(xml="<presence><show/>"
                                                     "</presence>"))
        found = yield self.store.getPresence("coven", "p1", "r1")
        self.assertEqual(("<presence><show/></presence>",
                          "a@example.org/r1", 5.0, True),
                         (found.xml, found.jid, found.updated,
                          found.confirmed))
        listed = yield self.store.listPresence("coven")
        self.assertEqual(["r2", "r1"], [r.resource for r in listed])
        self.assertEqual([], (yield self.store.listPresence("cave")))

    @defer.inlineCallbacks
    def test_remove(self):
        yield self.store.setPresence(self.record())
        removed = yield self.store.removePresence("coven", "p1", "r1")
        self.assertEqual("r1", removed.resource)
        self.assertIdentical(None, (yield self.store.removePresence(
            "coven", "p1", "r1")))
        self.assertIdentical(None, (yield self.store.getPresence(
            "coven", "p1", "r1")))

    @defer.inlineCallbacks
    def test_unconfirmed(self):
        yield self.store.setPresence(self.record())
        yield self.store.markPresenceUnconfirmed()
        found = yield self.store.getPresence("coven", "p1", "r1")
        self.assertFalse(found.confirmed)

    @defer.inlineCallbacks
    def test_unknownChannelAndDeletion(self):
        yield self.assertFailure(self.store.setPresence(
            self.record(channel="nope")), NotFound)
        yield self.store.setPresence(self.record())
        yield self.store.deleteChannel("coven")
        yield self.store.createChannel(ChannelRecord(name="coven"))
        self.assertEqual([], (yield self.store.listPresence("coven")))


class DeliveryStorageTests(StoreTestBase):
    """
    L{IDeliveryStorage}: messages waiting for a recipient (DLV-1..4).
    """

    def test_interface(self):
        self.assertTrue(verifyObject(IDeliveryStorage, self.store))

    @defer.inlineCallbacks
    def test_addListInArchiveOrder(self):
        """
        Pending ids come back in archive order whatever the order they
        were added in, once each; the count is per recipient.
        """
        self.assertEqual(1, (yield self.store.addPending(
            "coven", "a@example.org", "0000000000000002-b", 20.0)))
        self.assertEqual(2, (yield self.store.addPending(
            "coven", "a@example.org", "0000000000000001-a", 10.0)))
        self.assertEqual(2, (yield self.store.addPending(
            "coven", "a@example.org", "0000000000000001-a", 30.0)))
        self.assertEqual(1, (yield self.store.addPending(
            "coven", "b@example.org", "0000000000000002-b", 20.0)))
        self.assertEqual(
            ["0000000000000001-a", "0000000000000002-b"],
            (yield self.store.listPending("coven", "a@example.org")))
        self.assertEqual([], (yield self.store.listPending(
            "cave", "a@example.org")))

    @defer.inlineCallbacks
    def test_addAgainRenewsStamp(self):
        """
        Adding a pending id again keeps one entry and gives it the new
        stamp (its latest failure, DLV-1); L{listPendingEntries} gives the
        stamps, in archive order.
        """
        yield self.store.addPending("coven", "a@example.org", "02", 20.0)
        yield self.store.addPending("coven", "a@example.org", "01", 10.0)
        self.assertEqual(2, (yield self.store.addPending(
            "coven", "a@example.org", "01", 30.5)))
        self.assertEqual(
            [("01", 30.5), ("02", 20.0)],
            (yield self.store.listPendingEntries("coven", "a@example.org")))
        self.assertEqual([], (yield self.store.listPendingEntries(
            "coven", "b@example.org")))

    @defer.inlineCallbacks
    def test_stampsExact(self):
        """
        Stamps come back exactly as given (they are compared with
        C{upTo}): no rounding of the fraction.
        """
        stamp = 1500000123.0000002
        yield self.store.addPending("coven", "a@example.org", "01", stamp)
        self.assertEqual(
            [("01", stamp)],
            (yield self.store.listPendingEntries("coven", "a@example.org")))
        yield self.store.removePending("coven", "a@example.org", ["01"],
                                       upTo=stamp)
        self.assertEqual([], (yield self.store.listPending(
            "coven", "a@example.org")))

    @defer.inlineCallbacks
    def test_remove(self):
        for archiveId in ("01", "02", "03"):
            yield self.store.addPending("coven", "a@example.org", archiveId,
                                        1.0)
        yield self.store.addPending("coven", "b@example.org", "01", 1.0)
        yield self.store.removePending("coven", "a@example.org",
                                       ["01", "03", "99"])
        self.assertEqual(["02"], (yield self.store.listPending(
            "coven", "a@example.org")))
        yield self.store.removePending("coven", "a@example.org")
        self.assertEqual([], (yield self.store.listPending(
            "coven", "a@example.org")))
        self.assertEqual(["01"], (yield self.store.listPending(
            "coven", "b@example.org")))

    @defer.inlineCallbacks
    def test_removeUpTo(self):
        """
        With C{upTo}, only the given entries whose stamp is at most C{upTo}
        go: one added again since with a later stamp stays (a
        retransmitted message that bounced again, DLV-1), and so do the
        entries not named.
        """
        for archiveId, stamp in (("01", 1.0), ("02", 2.0), ("03", 3.0),
                                 ("04", 4.0)):
            yield self.store.addPending("coven", "a@example.org", archiveId,
                                        stamp)
        # Read at 3.0; 02 bounces again at 5.0 before the removal.
        yield self.store.addPending("coven", "a@example.org", "02", 5.0)
        yield self.store.removePending("coven", "a@example.org",
                                       ["01", "02", "03"], upTo=3.0)
        self.assertEqual(
            [("02", 5.0), ("04", 4.0)],
            (yield self.store.listPendingEntries("coven", "a@example.org")))
        # Without ids: everything up to the stamp.
        yield self.store.removePending("coven", "a@example.org", upTo=4.0)
        self.assertEqual([("02", 5.0)], (yield self.store.listPendingEntries(
            "coven", "a@example.org")))
        yield self.store.removePending("coven", "a@example.org", ["02"],
                                       upTo=5.0)
        self.assertEqual([], (yield self.store.pendingRecipients()))

    @defer.inlineCallbacks
    def test_pendingRecipients(self):
        """
        Every recipient with entries, with the smallest of their stamps
        (a renewed stamp counts as renewed); a recipient whose entries are
        all removed is not listed.
        """
        yield self.store.addPending("coven", "b@example.org", "02", 7.0)
        yield self.store.addPending("coven", "b@example.org", "01", 9.0)
        yield self.store.addPending("cave", "a@example.org", "05", 3.0)
        yield self.store.addPending("coven", "c@example.org", "05", 3.0)
        yield self.store.removePending("coven", "c@example.org", ["05"])
        self.assertEqual(
            [("cave", "a@example.org", 3.0), ("coven", "b@example.org", 7.0)],
            (yield self.store.pendingRecipients()))
        yield self.store.addPending("coven", "b@example.org", "02", 11.0)
        self.assertEqual(
            [("cave", "a@example.org", 3.0), ("coven", "b@example.org", 9.0)],
            (yield self.store.pendingRecipients()))

    @defer.inlineCallbacks
    def test_deleteChannel(self):
        yield self.store.addPending("coven", "a@example.org", "01", 1.0)
        yield self.store.addPending("cave", "a@example.org", "01", 1.0)
        yield self.store.deleteChannel("coven")
        self.assertEqual([("cave", "a@example.org", 1.0)],
                         (yield self.store.pendingRecipients()))
