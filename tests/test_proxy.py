"""
Proxy JIDs (requirements.md §1.8 PJID, XEP-0369 §3.8), driven by literal
XML.
"""

import re

from twisted.trial import unittest

from mixtwisted import channels

from mixtwisted.store.memory import MemoryStore
from tests.helpers import (
    CAT, CAT_FULL, COVEN, DOMAIN, HAG66, HAG66_FULL, HECATE, HECATE_FULL,
    startHarness, MIXTestMixin, MemoryStoreMixin, NODE_PARTICIPANTS, NS_PUBSUB)
from tests.pgsql import PgsqlStoreMixin

PROXY_RE = re.compile(r"^([a-z0-9]+)#coven@mix\.shakespeare\.example$")


class ProxyTestsMixin(MIXTestMixin):
    """
    Proxy JIDs in channel C{coven} owned by hag66.
    """

    async def setUp(self):
        await MIXTestMixin.setUp(self)
        self.assertResult(await self.h.create())
        self.h.take()

    async def participantIds(self, reader=HAG66_FULL):
        response = await self.h.iq(
            "<iq type='get' id='p1' from='%s' to='%s'>"
            "<pubsub xmlns='%s'><items node='%s'/></pubsub></iq>"
            % (reader, COVEN, NS_PUBSUB, NODE_PARTICIPANTS))
        self.assertResult(response)
        return [i["id"] for i in
                response.pubsub.items.elements(NS_PUBSUB, "item")]

    def offer(self, *ids):
        """
        Make the proxy identifier generator return C{ids} in order.
        """
        offered = list(ids)
        original = channels.generateProxyId
        self.patch(channels, "generateProxyId",
                   lambda *a: offered.pop(0) if offered else original(*a))

    # PJID-1

    async def test_format(self):
        """
        PJID-1, PJID-4: the bare proxy JID is C{<id>#coven@<mix domain>};
        the identifier has only [a-z0-9] (so no '#', '/', '@') and does not
        contain the user's localpart.
        """
        proxy = await self.proxyOf(HAG66)
        match = PROXY_RE.match(proxy)
        self.assertTrue(match, proxy)
        proxyId = match.group(1)
        for forbidden in "#/@":
            self.assertNotIn(forbidden, proxyId)
        self.assertNotIn("hag66", proxyId)

    async def test_channelNameWithHash(self):
        """
        PJID-1, PJID-5, AMB-30: a channel whose name contains '#' (and
        whose suffix is no channel) gets proxy JIDs C{<id>#a#b@…}; the
        channel JID still routes to the channel.
        """
        self.assertResult(await self.h.create("a#b"))
        channelJID = "a#b@" + DOMAIN
        proxy = await self.proxyOf(CAT, channelJID)
        self.assertTrue(re.match(r"^[a-z0-9]+#a#b@mix\.shakespeare\.example$",
                                 proxy), proxy)
        self.h.take()
        await self.h.message(CAT_FULL, "hello", channel=channelJID)
        out = [o for o in self.h.take()
               if o.getAttribute("type") == "groupchat"]
        self.assertEqual(1, len(out))
        self.assertEqual(channelJID, out[0]["from"])
        self.assertEqual(CAT, out[0]["to"])
        self.assertEqual(proxy, str(out[0].mix.jid))

    # PJID-2

    async def test_stableWhileParticipant(self):
        """
        PJID-2: the proxy JID does not change with setnick,
        update-subscription or a repeated join; the participants item id
        is that proxy JID.
        """
        proxy = await self.proxyOf(HAG66)
        self.assertEqual([proxy], await self.participantIds())
        self.assertResult(await self.h.setnick(HAG66_FULL, "thirdwitch"))
        self.assertResult(await self.h.iq(
            "<iq type='set' id='u1' from='%s' to='%s'>"
            "<update-subscription xmlns='urn:xmpp:mix:1'>"
            "<subscribe node='urn:xmpp:mix:nodes:info'/>"
            "</update-subscription></iq>" % (HAG66_FULL, COVEN)))
        self.assertEqual(proxy, await self.proxyOf(HAG66))
        self.assertEqual([proxy], await self.participantIds())
        self.h.take()
        await self.h.message(HAG66_FULL, "hi")
        reflected = self.h.take()[-1]
        self.assertEqual(proxy, str(reflected.mix.jid))

    # PJID-3

    async def test_differentUsersDifferentIds(self):
        """
        PJID-3: two users get different proxy JIDs.
        """
        self.assertNotEqual(await self.proxyOf(HAG66), await self.proxyOf(CAT))

    async def test_keptAfterLeave(self):
        """
        PJID-3, JOIN-22: the mapping is kept after leave: the returning
        user gets the same proxy JID.
        """
        proxy = await self.proxyOf(CAT)
        self.assertResult(await self.h.leave(CAT))
        self.assertEqual(proxy, await self.proxyOf(CAT))

    async def test_neverReused(self):
        """
        PJID-3: after A leaves, B never gets A's identifier, even when the
        generator offers it; the store refuses to reserve an issued id.
        """
        proxy = await self.proxyOf(CAT)
        oldId = proxy.split("#", 1)[0]
        self.assertResult(await self.h.leave(CAT))
        self.assertFalse(
            await self.h.store.reserveProxyId("coven", HECATE, oldId))
        self.offer(oldId, "fresh0000001")
        self.assertEqual("fresh0000001#coven@" + DOMAIN,
                         await self.proxyOf(HECATE))
        # And A still gets its own back.
        self.assertEqual(proxy, await self.proxyOf(CAT))

    # PJID-4

    async def test_unrelatedAcrossChannels(self):
        """
        PJID-4: the identifiers of one real JID in two channels are
        different.
        """
        self.assertResult(await self.h.create("witches"))
        first = (await self.proxyOf(HAG66)).split("#", 1)[0]
        second = (await self.proxyOf(
            HAG66, "witches@" + DOMAIN)).split("#", 1)[0]
        self.assertNotEqual(first, second)

    async def test_notDerivedFromJID(self):
        """
        PJID-4: the identifier is not a function of the real JID and the
        service's settings: the same user in the same channel of two
        identically configured services gets different identifiers.  (The
        other service keeps its state in memory: two services never share
        a database.)
        """
        other = await startHarness(MemoryStore(), self.makeSettings())
        await other.create()
        first = await self.proxyOf(HAG66)
        response = await other.join(HAG66)
        self.assertEqual("result", response["type"])
        self.assertNotEqual(first, response.join["jid"])

    async def test_noCollisions(self):
        """
        PJID-4: 50 users get 50 distinct, well-formed proxy JIDs.
        """
        proxies = set()
        for n in range(50):
            proxy = await self.proxyOf("user%d@shakespeare.example" % (n,))
            self.assertTrue(PROXY_RE.match(proxy), proxy)
            proxies.add(proxy)
        self.assertEqual(50, len(proxies))

    # PJID-5

    async def test_groupchatToProxyNotChannel(self):
        """
        PJID-5: a groupchat message to a participant's proxy JID is not
        treated as a message to the channel: the sender gets an error and
        nothing is reflected.
        """
        proxy = await self.proxyOf(HAG66)
        await self.proxyOf(CAT)
        self.h.take()
        await self.h.receive(
            "<message type='groupchat' id='g1' from='%s' to='%s'>"
            "<body>hi</body></message>" % (CAT_FULL, proxy))
        out = self.h.take()
        self.assertEqual(1, len(out), [o.toXml() for o in out])
        self.assertEqual("error", out[0]["type"])
        self.assertEqual(CAT_FULL, out[0]["to"])
        self.assertEqual(proxy, out[0]["from"])

    async def test_joinToProxyNotChannel(self):
        """
        PJID-5: a join sent to a participant's proxy JID is an error, not
        a join of the channel.
        """
        proxy = await self.proxyOf(HAG66)
        response = await self.h.join(CAT, proxy)
        self.assertEqual("error", response["type"], response.toXml())
        self.assertIs(None, await self.h.store.getParticipant("coven", CAT))

    async def test_unknownProxy(self):
        """
        PJID-5: a proxy-looking JID of no participant is
        C{item-not-found}, for messages and IQs.
        """
        await self.proxyOf(HAG66)
        self.h.take()
        unknown = "zzzz0000zzzz#coven@" + DOMAIN
        await self.h.receive(
            "<message type='chat' id='pm1' from='%s' to='%s'>"
            "<body>hi</body></message>" % (HECATE_FULL, unknown))
        out = self.h.take()
        self.assertEqual(1, len(out))
        self.assertError(out[0], "cancel", "item-not-found")
        response = await self.h.join(CAT, unknown)
        self.assertError(response, "cancel", "item-not-found")

    async def test_proxyOfLeftUserNotResolved(self):
        """
        PJID-5, PJID-3: the proxy JID of a user who left names no
        participant: C{item-not-found}.
        """
        proxy = await self.proxyOf(CAT)
        self.assertResult(await self.h.leave(CAT))
        self.h.take()
        await self.h.receive(
            "<message type='chat' id='pm1' from='%s' to='%s'>"
            "<body>hi</body></message>" % (HECATE_FULL, proxy))
        out = self.h.take()
        self.assertEqual(1, len(out))
        self.assertError(out[0], "cancel", "item-not-found")

    async def test_neverAllocateChannelName(self):
        """
        AMB-30, PJID-5: an identifier whose C{id#coven} is an existing
        channel name is never allocated.
        """
        # 'abc#witches' may be created while 'witches' does not exist.
        self.assertResult(await self.h.create("abc#witches"))
        self.assertResult(await self.h.create("witches"))
        self.offer("abc", "def")
        self.assertEqual("def#witches@" + DOMAIN,
                         await self.proxyOf(CAT, "witches@" + DOMAIN))
        # The exact channel name still routes to that channel.
        self.assertResult(await self.h.join(HECATE, "abc#witches@" + DOMAIN))
        self.assertIsNot(
            None, await self.h.store.getParticipant("abc#witches", HECATE))

    # PJID-8

    async def test_joinResultCarriesProxy(self):
        """
        PJID-8, JOIN-2: the join result's jid is the bare proxy JID that
        identifies the participant in the participants node and in
        reflected messages.
        """
        proxy = await self.proxyOf(CAT)
        self.assertEqual([proxy], await self.participantIds(CAT_FULL))
        self.assertNotIn("/", proxy)
        self.assertNotIn(CAT, proxy)


class ProxyMemoryTests(MemoryStoreMixin, ProxyTestsMixin, unittest.TestCase):
    pass


class ProxyPgsqlTests(PgsqlStoreMixin, ProxyTestsMixin, unittest.TestCase):
    pass
