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


def prefsForm(visibility):
    return submitForm(("JID Visibility", [visibility]))


class AccessTestsMixin(MIXTestMixin):
    """
    Who may join, by the allowed and banned nodes.
    """

    def setItems(self, nodesPresent, allowed=(), banned=()):
        """
        Create coven with C{Nodes Present} and put items in its allowed and
        banned nodes through the store.
        """
        self.assertResult(self.h.create("coven", HAG66_FULL, submitForm(
            ("Nodes Present", list(nodesPresent)))))
        channel = self.successResultOf(self.h.store.getChannel("coven"))
        channel.allowed, channel.banned = tuple(allowed), tuple(banned)
        self.successResultOf(self.h.store.updateChannel(channel))

    def test_bannedJIDCannotJoin(self):
        """
        JOIN-6, ACL-3: a JID in the banned node is refused with
        C{forbidden} and does not become a participant.
        """
        self.setItems(["participants", "banned"], banned=[CAT])
        self.assertError(self.h.join(CAT), "auth", "forbidden")
        self.assertIdentical(None, self.successResultOf(
            self.h.store.getParticipant("coven", CAT)))
        self.assertResult(self.h.join(HECATE))

    def test_bannedDomainCannotJoin(self):
        """
        ACL-3, AMB-25: a domain item bans every JID of that domain.
        """
        self.setItems(["participants", "banned"],
                      banned=["shakespeare.example"])
        self.assertError(self.h.join(CAT), "auth", "forbidden")
        self.assertError(self.h.join(HECATE), "auth", "forbidden")
        self.assertResult(self.h.join("lear@other.example"))

    def test_allowedNodeLimitsJoins(self):
        """
        ACL-3: with an allowed node, only matching JIDs may join.
        """
        self.setItems(["participants", "allowed"], allowed=[HECATE])
        self.assertResult(self.h.join(HECATE))
        self.assertError(self.h.join(CAT), "auth", "forbidden")

    def test_allowedDomain(self):
        """
        ACL-3: an allowed domain item admits every JID of the domain, and
        no sub-domain (AMB-25).
        """
        self.setItems(["participants", "allowed"],
                      allowed=["shakespeare.example"])
        self.assertResult(self.h.join(CAT))
        self.assertError(self.h.join("puck@sub.shakespeare.example"),
                         "auth", "forbidden")

    def test_bannedBeatsAllowed(self):
        """
        ACL-3, NODE-11: banned takes priority over allowed.
        """
        self.setItems(["participants", "allowed", "banned"],
                      allowed=["shakespeare.example"], banned=[CAT])
        self.assertError(self.h.join(CAT), "auth", "forbidden")
        self.assertResult(self.h.join(HECATE))

    def test_ownerAlwaysAllowed(self):
        """
        AMB-25: owners are Allowed even when the allowed node does not list
        them.
        """
        self.setItems(["participants", "allowed"], allowed=[CAT])
        self.assertResult(self.h.join(HAG66))

    def test_itemsIgnoredWithoutNode(self):
        """
        NODE-10: without an allowed node everybody is allowed, whatever the
        store holds for it.
        """
        self.setItems(["participants"], allowed=[CAT], banned=[HECATE])
        self.assertResult(self.h.join(HECATE))

    def test_participantsValueNeedsParticipantsNode(self):
        """
        NODE-4: without a participants node, the access value
        C{participants} is refused with C{not-acceptable}.
        """
        response = self.h.create("coven", HAG66_FULL, submitForm(
            ("Nodes Present", ["presence"])))
        self.assertError(response, "modify", "not-acceptable")
        response = self.h.create("coven", HAG66_FULL, submitForm(
            ("Nodes Present", ["presence"]),
            ("Messages Node Subscription", ["allowed"]),
            ("Presence Node Subscription", ["allowed"]),
            ("Participants Node Subscription", ["admins"]),
            ("Information Node Subscription", ["allowed"])))
        self.assertResult(response)

    def test_nickRegistrationAdvertised(self):
        """
        DISCO-5: nick registration is offered by this service (NICK-9), so
        its feature is advertised.
        """
        response = self.h.iq(
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

    def setUp(self):
        MIXTestMixin.setUp(self)
        self.assertResult(self.h.create("coven", HAG66_FULL, submitForm(
            ("JID Visibility", ["jid-maybe-visible"]))))
        self.proxy = self.h.join(
            HAG66, nodes=(NODE_MESSAGES, NODE_JIDMAP_VISIBLE)).join["jid"]
        self.h.take()

    def items(self, requester):
        response = self.h.iq(
            "<iq type='get' id='i' from='%s/r' to='%s'><pubsub xmlns='%s'>"
            "<items node='%s'/></pubsub></iq>"
            % (requester, COVEN, NS_PUBSUB, NODE_JIDMAP_VISIBLE))
        self.assertResult(response)
        return {item["id"]: str(item.participant.jid)
                for item in response.pubsub.items.elements(NS_PUBSUB, "item")}

    def test_nodeExistsAndListsEveryParticipant(self):
        """
        NODE-7: the node exists in jid-maybe-visible channels and lists
        every participant; one who does not share shows its proxy JID.
        """
        self.assertEqual({self.proxy: self.proxy}, self.items(HAG66))

    def test_sharingParticipantShowsRealJID(self):
        """
        NODE-7, JOIN-9: a participant whose preference shares the JID shows
        its real bare JID; the node's subscribers are notified on join.
        """
        response = self.h.join(CAT, extra=prefsForm("always"))
        proxy = response.join["jid"]
        notifications = [
            m for m in self.h.take()
            if m.name == "message" and m.event is not None and
            m.event.items["node"] == NODE_JIDMAP_VISIBLE]
        self.assertEqual([HAG66], [m["to"] for m in notifications])
        item = notifications[0].event.items.item
        self.assertEqual((proxy, CAT), (item["id"], str(item.participant.jid)))
        self.assertEqual(CAT, self.items(HAG66)[proxy])

    def test_preferVisibleShares(self):
        """
        VIS-3 (DEC extension): C{prefer visible} shares the JID in a
        jid-maybe-visible channel; C{prefer not} does not.
        """
        visible = self.h.join(CAT, extra=prefsForm("prefer visible"))
        hidden = self.h.join(HECATE, extra=prefsForm("prefer not"))
        items = self.items(HAG66)
        self.assertEqual(CAT, items[visible.join["jid"]])
        self.assertEqual(hidden.join["jid"], items[hidden.join["jid"]])

    def test_absentInOtherModes(self):
        """
        NODE-7: the node is only used in jid-maybe-visible channels.
        """
        self.assertResult(self.h.create("cave", HAG66_FULL))
        response = self.h.iq(
            "<iq type='get' id='i' from='%s' to='cave@%s'><pubsub xmlns='%s'>"
            "<items node='%s'/></pubsub></iq>"
            % (HAG66_FULL, DOMAIN, NS_PUBSUB, NODE_JIDMAP_VISIBLE))
        self.assertError(response, "cancel", "item-not-found")

    def test_leaveRetracts(self):
        """
        JOIN-21: leaving removes the jidmap-visible item, with a retract
        notification.
        """
        proxy = self.h.join(CAT).join["jid"]
        self.h.take()
        self.assertResult(self.h.iq(
            "<iq type='set' id='l' from='%s' to='%s'><leave xmlns='%s'/></iq>"
            % (CAT, COVEN, NS_MIX)))
        retracts = [m.event.items.retract["id"] for m in self.h.take()
                    if m.name == "message" and m.event is not None and
                    m.event.items["node"] == NODE_JIDMAP_VISIBLE]
        self.assertEqual([proxy], retracts)
        self.assertNotIn(proxy, self.items(HAG66))


class AccessMemoryTests(MemoryStoreMixin, AccessTestsMixin,
                        unittest.TestCase):
    pass


class MaybeVisibleMemoryTests(MemoryStoreMixin, MaybeVisibleTestsMixin,
                              unittest.TestCase):
    pass
