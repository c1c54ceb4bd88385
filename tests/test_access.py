"""
Access to joining and the jidmap-visible node: allowed and banned lists
(JOIN-6, ACL-3), the participants access value without a participants node
(NODE-4), and jid-maybe-visible channels (NODE-7, JOIN-9).

The allowed and banned nodes cannot be written over PubSub yet (that comes
with channel administration), so these tests put their items in the store
directly and check how joins honour them.
"""

from twisted.trial import unittest

from tests.helpers import (
    CAT, COVEN, DOMAIN, HAG66, HAG66_FULL, HECATE, MIXTestMixin,
    MemoryStoreMixin, NODE_JIDMAP_VISIBLE, NODE_MESSAGES, NS_MIX, NS_PUBSUB,
    submitForm)
from tests.pgsql import PgsqlStoreMixin


def prefsForm(visibility):
    return submitForm(("JID Visibility", [visibility]))


class AccessTestsMixin(MIXTestMixin):
    """
    Who may join, by the allowed and banned nodes.
    """

    async def setItems(self, nodesPresent, allowed=(), banned=()):
        """
        Create coven with C{Nodes Present} and put items in its allowed and
        banned nodes through the store.
        """
        self.assertResult(await self.h.create("coven", HAG66_FULL, submitForm(
            ("Nodes Present", list(nodesPresent)))))
        channel = await self.h.store.getChannel("coven")
        channel.allowed, channel.banned = tuple(allowed), tuple(banned)
        await self.h.store.updateChannel(channel)

    async def test_bannedJIDCannotJoin(self):
        """
        JOIN-6, ACL-3: a JID in the banned node is refused with
        C{forbidden} and does not become a participant.
        """
        await self.setItems(["participants", "banned"], banned=[CAT])
        self.assertError(await self.h.join(CAT), "auth", "forbidden")
        self.assertIdentical(
            None, await self.h.store.getParticipant("coven", CAT))
        self.assertResult(await self.h.join(HECATE))

    async def test_bannedDomainCannotJoin(self):
        """
        ACL-3, AMB-25: a domain item bans every JID of that domain.
        """
        await self.setItems(["participants", "banned"],
                            banned=["shakespeare.example"])
        self.assertError(await self.h.join(CAT), "auth", "forbidden")
        self.assertError(await self.h.join(HECATE), "auth", "forbidden")
        self.assertResult(await self.h.join("lear@other.example"))

    async def test_allowedNodeLimitsJoins(self):
        """
        ACL-3: with an allowed node, only matching JIDs may join.
        """
        await self.setItems(["participants", "allowed"], allowed=[HECATE])
        self.assertResult(await self.h.join(HECATE))
        self.assertError(await self.h.join(CAT), "auth", "forbidden")

    async def test_allowedDomain(self):
        """
        ACL-3: an allowed domain item admits every JID of the domain, and
        no sub-domain (AMB-25).
        """
        await self.setItems(["participants", "allowed"],
                            allowed=["shakespeare.example"])
        self.assertResult(await self.h.join(CAT))
        self.assertError(await self.h.join("puck@sub.shakespeare.example"),
                         "auth", "forbidden")

    async def test_bannedBeatsAllowed(self):
        """
        ACL-3, NODE-11: banned takes priority over allowed.
        """
        await self.setItems(["participants", "allowed", "banned"],
                            allowed=["shakespeare.example"], banned=[CAT])
        self.assertError(await self.h.join(CAT), "auth", "forbidden")
        self.assertResult(await self.h.join(HECATE))

    async def test_ownerAlwaysAllowed(self):
        """
        AMB-25: owners are Allowed even when the allowed node does not list
        them.
        """
        await self.setItems(["participants", "allowed"], allowed=[CAT])
        self.assertResult(await self.h.join(HAG66))

    async def test_itemsIgnoredWithoutNode(self):
        """
        NODE-10: without an allowed node everybody is allowed, whatever the
        store holds for it.
        """
        await self.setItems(["participants"], allowed=[CAT], banned=[HECATE])
        self.assertResult(await self.h.join(HECATE))

    async def test_participantsValueNeedsParticipantsNode(self):
        """
        NODE-4: without a participants node, the access value
        C{participants} is refused with C{not-acceptable}.
        """
        response = await self.h.create("coven", HAG66_FULL, submitForm(
            ("Nodes Present", ["presence"])))
        self.assertError(response, "modify", "not-acceptable")
        response = await self.h.create("coven", HAG66_FULL, submitForm(
            ("Nodes Present", ["presence"]),
            ("Messages Node Subscription", ["allowed"]),
            ("Presence Node Subscription", ["allowed"]),
            ("Participants Node Subscription", ["admins"]),
            ("Information Node Subscription", ["allowed"])))
        self.assertResult(response)

    async def test_nickRegistrationAdvertised(self):
        """
        DISCO-5: nick registration is offered by this service (NICK-9), so
        its feature is advertised.
        """
        response = await self.h.iq(
            "<iq type='get' id='d' from='%s' to='%s'><query xmlns="
            "'http://jabber.org/protocol/disco#info'/></iq>"
            % (HAG66_FULL, DOMAIN))
        features = [f["var"] for f in response.query.elements(
            "http://jabber.org/protocol/disco#info", "feature")]
        self.assertIn("urn:xmpp:mix:1", features)
        self.assertIn("urn:xmpp:mix:1#nick-register", features)
        # DISCO-6: both vCard protocols are relayed (RELAY-3), so both are
        # advertised.
        self.assertIn("vcard-temp", features)
        self.assertIn("urn:ietf:params:xml:ns:vcard-4.0", features)


class MaybeVisibleTestsMixin(MIXTestMixin):
    """
    The jidmap-visible node of jid-maybe-visible channels (NODE-7, JOIN-9).
    """

    async def setUp(self):
        await MIXTestMixin.setUp(self)
        self.assertResult(await self.h.create("coven", HAG66_FULL, submitForm(
            ("JID Visibility", ["jid-maybe-visible"]))))
        self.proxy = (await self.h.join(
            HAG66, nodes=(NODE_MESSAGES, NODE_JIDMAP_VISIBLE))).join["jid"]
        self.h.take()

    async def items(self, requester):
        response = await self.h.iq(
            "<iq type='get' id='i' from='%s/r' to='%s'><pubsub xmlns='%s'>"
            "<items node='%s'/></pubsub></iq>"
            % (requester, COVEN, NS_PUBSUB, NODE_JIDMAP_VISIBLE))
        self.assertResult(response)
        return {item["id"]: str(item.participant.jid)
                for item in response.pubsub.items.elements(NS_PUBSUB, "item")}

    async def test_nodeExistsAndListsEveryParticipant(self):
        """
        NODE-7: the node exists in jid-maybe-visible channels and lists
        every participant; one who does not share shows its proxy JID.
        """
        self.assertEqual({self.proxy: self.proxy}, await self.items(HAG66))

    async def test_sharingParticipantShowsRealJID(self):
        """
        NODE-7, JOIN-9: a participant whose preference shares the JID shows
        its real bare JID; the node's subscribers are notified on join.
        """
        response = await self.h.join(CAT, extra=prefsForm("always"))
        proxy = response.join["jid"]
        notifications = [
            m for m in self.h.take()
            if m.name == "message" and m.event is not None and
            m.event.items["node"] == NODE_JIDMAP_VISIBLE]
        self.assertEqual([HAG66], [m["to"] for m in notifications])
        item = notifications[0].event.items.item
        self.assertEqual((proxy, CAT), (item["id"], str(item.participant.jid)))
        self.assertEqual(CAT, (await self.items(HAG66))[proxy])

    async def test_preferVisibleShares(self):
        """
        VIS-3 (DEC extension): C{prefer visible} shares the JID in a
        jid-maybe-visible channel; C{prefer not} does not.
        """
        visible = await self.h.join(CAT, extra=prefsForm("prefer visible"))
        hidden = await self.h.join(HECATE, extra=prefsForm("prefer not"))
        items = await self.items(HAG66)
        self.assertEqual(CAT, items[visible.join["jid"]])
        self.assertEqual(hidden.join["jid"], items[hidden.join["jid"]])

    async def test_absentInOtherModes(self):
        """
        NODE-7: the node is only used in jid-maybe-visible channels.
        """
        self.assertResult(await self.h.create("cave", HAG66_FULL))
        response = await self.h.iq(
            "<iq type='get' id='i' from='%s' to='cave@%s'><pubsub xmlns='%s'>"
            "<items node='%s'/></pubsub></iq>"
            % (HAG66_FULL, DOMAIN, NS_PUBSUB, NODE_JIDMAP_VISIBLE))
        self.assertError(response, "cancel", "item-not-found")

    async def test_leaveRetracts(self):
        """
        JOIN-21: leaving removes the jidmap-visible item, with a retract
        notification.
        """
        proxy = (await self.h.join(CAT)).join["jid"]
        self.h.take()
        self.assertResult(await self.h.iq(
            "<iq type='set' id='l' from='%s' to='%s'><leave xmlns='%s'/></iq>"
            % (CAT, COVEN, NS_MIX)))
        retracts = [m.event.items.retract["id"] for m in self.h.take()
                    if m.name == "message" and m.event is not None and
                    m.event.items["node"] == NODE_JIDMAP_VISIBLE]
        self.assertEqual([proxy], retracts)
        self.assertNotIn(proxy, await self.items(HAG66))


class AccessMemoryTests(MemoryStoreMixin, AccessTestsMixin,
                        unittest.TestCase):
    pass


class AccessPgsqlTests(PgsqlStoreMixin, AccessTestsMixin,
                       unittest.TestCase):
    pass


class MaybeVisibleMemoryTests(MemoryStoreMixin, MaybeVisibleTestsMixin,
                              unittest.TestCase):
    pass


class MaybeVisiblePgsqlTests(PgsqlStoreMixin, MaybeVisibleTestsMixin,
                             unittest.TestCase):
    pass
