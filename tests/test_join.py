"""
Join, update-subscription and leave (requirements.md §1.7 JOIN, PREF-1,
XEP-0369 §6.1.1, §6.1.3, §6.1.4), driven by literal XML.
"""

from twisted.trial import unittest

from tests.helpers import (
    CAT, CAT_FULL, COVEN, DOMAIN, HAG66, HAG66_FULL, HECATE, MIXTestMixin,
    MemoryStoreMixin, NODE_ALLOWED, NODE_CONFIG, NODE_INFO, NODE_JIDMAP,
    NODE_MESSAGES, NODE_PARTICIPANTS, NODE_PRESENCE, NS_DATA, NS_MIX,
    NS_PUBSUB_EVENT, formValues, notifications, submitForm)
from tests.pgsql import PgsqlStoreMixin

NODE_BOGUS = "urn:example:cauldron"


def subscribedNodes(element):
    return [s["node"] for s in element.elements(NS_MIX, "subscribe")]


class JoinTestsMixin(MIXTestMixin):
    """
    Join, update-subscription and leave on a channel C{coven} owned by
    hag66.
    """

    async def setUp(self):
        await MIXTestMixin.setUp(self)
        self.assertResult(await self.h.create())
        self.h.take()

    async def participant(self, bare, channel="coven"):
        return await self.h.store.getParticipant(channel, bare)

    async def subscriptions(self, bare, channel="coven"):
        return await self.h.store.getSubscriptions(channel, bare)

    async def joinIQ(self, sender, body, to=COVEN, attrs=""):
        return await self.h.iq(
            "<iq type='set' id='j2' from='%s' to='%s'>"
            "<join xmlns='urn:xmpp:mix:1'%s>%s</join></iq>"
            % (sender, to, attrs, body))

    async def update(self, sender, body, to=COVEN):
        return await self.h.iq(
            "<iq type='set' id='u1' from='%s' to='%s'>"
            "<update-subscription xmlns='urn:xmpp:mix:1'>%s"
            "</update-subscription></iq>" % (sender, to, body))

    # JOIN-1, JOIN-2, PJID-8

    async def test_joinFromBareJID(self):
        """
        JOIN-1, JOIN-2, PJID-8: a join relayed from the bare JID gets a
        result from the channel to the bare JID, same id, with
        C{<join xmlns='urn:xmpp:mix:1' jid='<id>#coven@…'>} and one
        C{<subscribe/>} per subscribed node in request order.
        """
        response = await self.h.iq(
            "<iq type='set' id='E6E10350' from='%s' to='%s'>"
            "<join xmlns='urn:xmpp:mix:1'>"
            "<subscribe node='%s'/><subscribe node='%s'/>"
            "<subscribe node='%s'/><subscribe node='%s'/>"
            "</join></iq>" % (HAG66, COVEN, NODE_MESSAGES, NODE_PRESENCE,
                              NODE_PARTICIPANTS, NODE_CONFIG))
        self.assertResult(response)
        self.assertEqual(COVEN, response["from"])
        self.assertEqual(HAG66, response["to"])
        self.assertEqual("E6E10350", response["id"])
        children = list(response.elements())
        self.assertEqual(1, len(children))
        join = children[0]
        self.assertEqual((NS_MIX, "join"), (join.uri, join.name))
        self.assertEqual(["jid"], list(join.attributes))
        proxy = join["jid"]
        local, _, domain = proxy.partition("@")
        self.assertEqual(DOMAIN, domain)
        proxyId, _, channel = local.partition("#")
        self.assertEqual("coven", channel)
        self.assertTrue(proxyId)
        self.assertEqual(
            [NODE_MESSAGES, NODE_PRESENCE, NODE_PARTICIPANTS, NODE_CONFIG],
            subscribedNodes(join))
        self.assertEqual(4, len(list(join.elements())))
        record = await self.participant(HAG66)
        self.assertEqual(proxyId, record.proxyId)
        self.assertEqual(
            {NODE_MESSAGES, NODE_PRESENCE, NODE_PARTICIPANTS, NODE_CONFIG},
            await self.subscriptions(HAG66))

    async def test_joinFromFullJID(self):
        """
        JOIN-1, AMB-16: a join from a full JID is accepted; the participant
        is the bare JID.
        """
        response = await self.h.join(CAT_FULL)
        self.assertResult(response)
        self.assertEqual(CAT_FULL, response["to"])
        self.assertIsNot(None, await self.participant(CAT))
        self.assertIs(None, await self.participant(CAT_FULL))
        self.assertEqual({NODE_MESSAGES, NODE_PARTICIPANTS},
                         await self.subscriptions(CAT))

    async def test_joinChannelAttributeSame(self):
        """
        JOIN-1, AMB-16: a C{channel} attribute naming the addressed channel
        (localpart or JID) is ignored.
        """
        for user, attribute in ((CAT, "coven"), (HECATE, COVEN)):
            response = await self.joinIQ(
                user, "<subscribe node='%s'/>" % NODE_MESSAGES,
                attrs=" channel='%s'" % attribute)
            self.assertResult(response)
            self.assertEqual([NODE_MESSAGES], subscribedNodes(response.join))
            self.assertIsNot(None, await self.participant(user))

    async def test_joinChannelAttributeOther(self):
        """
        JOIN-1, AMB-16: a C{channel} attribute naming another channel is a
        C{bad-request}; nobody joins.
        """
        self.assertResult(await self.h.create("witches"))
        response = await self.joinIQ(
            CAT, "<subscribe node='%s'/>" % NODE_MESSAGES,
            attrs=" channel='witches@%s'" % DOMAIN)
        self.assertError(response, "modify", "bad-request")
        self.assertIs(None, await self.participant(CAT))
        self.assertIs(None, await self.participant(CAT, "witches"))

    async def test_joinUnknownChannel(self):
        """
        JOIN-1, ERR: joining a channel that does not exist is
        C{item-not-found}.
        """
        response = await self.h.join(CAT, "nowhere@" + DOMAIN)
        self.assertError(response, "cancel", "item-not-found")

    async def test_joinFromMIXDomain(self):
        """
        AMB-49: joins from the MIX domain itself (a channel, a proxy JID,
        the service) are C{forbidden}.
        """
        for sender in ("hecate@" + DOMAIN, DOMAIN, "x#coven@" + DOMAIN):
            response = await self.h.join(sender)
            self.assertError(response, "auth", "forbidden")
        self.assertEqual([], await self.h.store.listParticipants("coven"))

    # JOIN-3

    async def test_joinWithoutSubscriptions(self):
        """
        JOIN-3: a join subscribing to nothing succeeds with no
        C{<subscribe/>} and makes a participant.
        """
        response = await self.h.join(CAT, nodes=())
        self.assertResult(response)
        self.assertEqual([], list(response.join.elements()))
        self.assertTrue(response.join["jid"].endswith("#coven@" + DOMAIN))
        self.assertIsNot(None, await self.participant(CAT))
        self.assertEqual(set(), await self.subscriptions(CAT))

    # JOIN-4

    async def test_joinPartial(self):
        """
        JOIN-4: unknown, absent and forbidden nodes are left out of the
        result; the others are subscribed.
        """
        response = await self.h.join(CAT, nodes=(
            NODE_BOGUS, NODE_MESSAGES, NODE_ALLOWED, NODE_JIDMAP,
            NODE_PARTICIPANTS))
        self.assertResult(response)
        self.assertEqual([NODE_MESSAGES, NODE_PARTICIPANTS],
                         subscribedNodes(response.join))
        self.assertEqual({NODE_MESSAGES, NODE_PARTICIPANTS},
                         await self.subscriptions(CAT))

    # JOIN-5

    async def test_joinNoneSubscribableNotFound(self):
        """
        JOIN-5, AMB-12: when no node can be subscribed the error IQ carries
        C{<join xmlns='urn:xmpp:mix:1'>} listing the nodes that failed for
        the first node's reason, then C{item-not-found} (cancel); the user
        does not become a participant.
        """
        response = await self.h.join(CAT, nodes=(NODE_BOGUS, NODE_JIDMAP,
                                                 NODE_ALLOWED))
        self.assertError(response, "cancel", "item-not-found")
        self.assertEqual(COVEN, response["from"])
        self.assertEqual(CAT, response["to"])
        children = list(response.elements())
        self.assertEqual(["join", "error"], [c.name for c in children])
        join = children[0]
        self.assertEqual(NS_MIX, join.uri)
        self.assertEqual([NODE_BOGUS, NODE_ALLOWED], subscribedNodes(join))
        self.assertIs(None, await self.participant(CAT))
        self.assertEqual(set(), await self.subscriptions(CAT))
        self.assertEqual([], self.h.take())

    async def test_joinNoneSubscribableForbidden(self):
        """
        JOIN-5: when the first node fails for rights (jidmap of a jid-hidden
        channel, non-admin) the error is C{forbidden} (auth) listing only
        the nodes refused for rights; no participant is added.
        """
        response = await self.h.join(CAT, nodes=(NODE_JIDMAP, NODE_BOGUS))
        self.assertError(response, "auth", "forbidden")
        children = list(response.elements())
        self.assertEqual(["join", "error"], [c.name for c in children])
        self.assertEqual(NS_MIX, children[0].uri)
        self.assertEqual([NODE_JIDMAP], subscribedNodes(children[0]))
        self.assertIs(None, await self.participant(CAT))

    async def test_ownerMaySubscribeJidmap(self):
        """
        JOIN-5, VIS-5: the owner may subscribe to jidmap of a jid-hidden
        channel.
        """
        response = await self.h.join(HAG66, nodes=(NODE_JIDMAP,))
        self.assertResult(response)
        self.assertEqual([NODE_JIDMAP], subscribedNodes(response.join))

    # JOIN-7, JOIN-8

    async def test_participantsNotification(self):
        """
        JOIN-7: the participants-node subscribers get a notification, at
        their bare JIDs, from the channel, with the new proxy JID as item
        id and C{<participant xmlns='urn:xmpp:mix:1'/>} without nick.
        """
        await self.proxyOf(HECATE)
        self.h.take()
        proxy = await self.proxyOf(CAT_FULL)
        notes = notifications(self.h.take(), NODE_PARTICIPANTS)
        self.assertEqual(sorted([HECATE, CAT]), sorted(t for t, _ in notes))
        for to, items in notes:
            message = items.parent.parent
            self.assertEqual(COVEN, message["from"])
            self.assertTrue(message.getAttribute("id"))
            children = list(items.elements())
            self.assertEqual(1, len(children))
            item = children[0]
            self.assertEqual((NS_PUBSUB_EVENT, "item"), (item.uri, item.name))
            self.assertEqual(proxy, item["id"])
            payload = list(item.elements())
            self.assertEqual(1, len(payload))
            self.assertEqual((NS_MIX, "participant"),
                             (payload[0].uri, payload[0].name))
            self.assertEqual([], list(payload[0].elements()))

    async def test_participantsNotificationWithoutNickAfterNickRejoin(self):
        """
        JOIN-7: a user who had a nick, left and joined again is announced
        without nick.
        """
        await self.proxyOf(HECATE)
        await self.proxyOf(CAT)
        self.assertResult(await self.h.setnick(CAT_FULL, "greymalkin"))
        self.assertResult(await self.h.leave(CAT))
        self.h.take()
        await self.proxyOf(CAT)
        notes = [i for t, i in notifications(self.h.take(), NODE_PARTICIPANTS)
                 if t == HECATE]
        self.assertEqual(1, len(notes))
        participant = notes[0].item.participant
        self.assertEqual([], list(participant.elements()))

    async def test_jidmapNotification(self):
        """
        JOIN-8, NODE-5: jidmap subscribers (the owner) get the new item:
        proxy JID to real bare JID.
        """
        await self.proxyOf(HAG66, nodes=(NODE_JIDMAP,))
        self.h.take()
        proxy = await self.proxyOf(CAT_FULL)
        notes = notifications(self.h.take(), NODE_JIDMAP)
        self.assertEqual([HAG66], [t for t, _ in notes])
        item = list(notes[0][1].elements())
        self.assertEqual(1, len(item))
        self.assertEqual(proxy, item[0]["id"])
        participant = item[0].participant
        self.assertEqual(NS_MIX, participant.uri)
        self.assertEqual([CAT], [str(j) for j in
                                 participant.elements(NS_MIX, "jid")])

    # JOIN-11 (PREF-1)

    async def test_joinWithPrefs(self):
        """
        JOIN-11, PREF-1, AMB-13: a join carrying a prefs form
        (underscored var) gets a result form with all four preferences,
        defaults for those not given; jid stays the proxy JID.
        """
        response = await self.h.join(CAT, extra=submitForm(
            ("JID_Visibility", ["never"])))
        self.assertResult(response)
        join = response.join
        self.assertIn("#coven@", join["jid"])
        self.assertEqual([NODE_MESSAGES, NODE_PARTICIPANTS],
                         subscribedNodes(join))
        forms = list(join.elements(NS_DATA, "x"))
        self.assertEqual(1, len(forms))
        self.assertEqual("result", forms[0]["type"])
        self.assertEqual({
            "FORM_TYPE": [NS_MIX],
            "JID Visibility": ["never"],
            "Private Messages": ["allow"],
            "vCard": ["block"],
            "Presence": ["share"],
        }, formValues(forms[0]))
        self.assertEqual("never",
                         (await self.participant(CAT)).prefs["JID Visibility"])

    async def test_joinWithoutPrefsHasNoForm(self):
        """
        JOIN-11, AMB-13: without a prefs form in the request the result has
        none.
        """
        response = await self.h.join(CAT)
        self.assertResult(response)
        self.assertEqual([], list(response.join.elements(NS_DATA, "x")))

    async def test_joinInvalidPref(self):
        """
        JOIN-11, PREF-9: an invalid preference value is a C{bad-request};
        the user does not join.
        """
        response = await self.h.join(CAT, extra=submitForm(
            ("vCard", ["sometimes"])))
        self.assertError(response, "modify", "bad-request")
        self.assertIs(None, await self.participant(CAT))
        self.assertEqual([], notifications(self.h.take(), NODE_PARTICIPANTS))

    async def test_joinAlwaysInHiddenChannel(self):
        """
        JOIN-14: C{always} in the (default) jid-hidden channel is
        C{not-acceptable} (modify); the user does not join.
        """
        response = await self.h.join(CAT, extra=submitForm(
            ("JID Visibility", ["always"])))
        self.assertError(response, "modify", "not-acceptable")
        self.assertIs(None, await self.participant(CAT))

    async def test_joinNeverInVisibleChannel(self):
        """
        JOIN-14: C{never} in a jid-visible channel is C{not-acceptable}.
        """
        self.assertResult(await self.h.create("witches", form=submitForm(
            ("JID Visibility", ["jid-visible"]))))
        response = await self.h.join(
            CAT, "witches@" + DOMAIN,
            extra=submitForm(("JID Visibility", ["never"])))
        self.assertError(response, "modify", "not-acceptable")
        self.assertIs(None, await self.participant(CAT, "witches"))

    async def test_joinPresenceForced(self):
        """
        JOIN-15, PREF-4, AMB-44: when Participants Must Provide Presence is
        true, Presence 'not share' is stored and reported as 'share'.
        """
        self.assertResult(await self.h.create("witches", form=submitForm(
            ("Participants Must Provide Presence", ["true"]))))
        response = await self.h.join(
            CAT, "witches@" + DOMAIN,
            extra=submitForm(("Presence", ["not share"])))
        self.assertResult(response)
        fields = formValues(response.join.x)
        self.assertEqual(["share"], fields["Presence"])
        self.assertEqual(
            "share",
            (await self.participant(CAT, "witches")).prefs["Presence"])

    async def test_joinPresenceNotForced(self):
        """
        PREF-1: without that option, Presence 'not share' is kept.
        """
        response = await self.h.join(
            CAT, extra=submitForm(("Presence", ["not share"])))
        self.assertResult(response)
        self.assertEqual(["not share"],
                         formValues(response.join.x)["Presence"])

    # JOIN-13

    async def test_rejoin(self):
        """
        JOIN-13, AMB-14: a participant joining again gets the same proxy
        JID, its subscriptions replaced by the request, and no new
        participants notification.
        """
        await self.proxyOf(HECATE)
        first = await self.proxyOf(CAT)
        self.h.take()
        response = await self.h.join(CAT, nodes=(NODE_INFO,))
        self.assertResult(response)
        self.assertEqual(first, response.join["jid"])
        self.assertEqual([NODE_INFO], subscribedNodes(response.join))
        self.assertEqual({NODE_INFO}, await self.subscriptions(CAT))
        self.assertEqual([], notifications(self.h.take(), NODE_PARTICIPANTS))

    # JOIN-16, JOIN-17

    async def test_updateSubscriptionAdds(self):
        """
        JOIN-16, JOIN-17, AMB-15: update-subscription from the full JID
        adds nodes; the result goes to the full JID with jid = the real
        bare JID and the subscribed nodes; earlier subscriptions stay.
        """
        await self.proxyOf(HAG66, nodes=(NODE_MESSAGES,))
        response = await self.update(
            HAG66_FULL, "<subscribe node='%s'/>" % NODE_PARTICIPANTS)
        self.assertResult(response)
        self.assertEqual(HAG66_FULL, response["to"])
        self.assertEqual(COVEN, response["from"])
        update = response.firstChildElement()
        self.assertEqual((NS_MIX, "update-subscription"),
                         (update.uri, update.name))
        self.assertEqual({"jid": HAG66}, update.attributes)
        self.assertEqual([NODE_PARTICIPANTS], subscribedNodes(update))
        self.assertEqual({NODE_MESSAGES, NODE_PARTICIPANTS},
                         await self.subscriptions(HAG66))
        self.h.take()
        await self.proxyOf(CAT)
        self.assertIn(HAG66, [t for t, _ in
                              notifications(self.h.take(), NODE_PARTICIPANTS)])

    async def test_updateSubscriptionRemoves(self):
        """
        JOIN-17, AMB-15: C{<unsubscribe node/>} removes the subscription,
        is echoed, and the user no longer gets that node's notifications.
        """
        await self.proxyOf(HAG66)
        response = await self.update(
            HAG66_FULL, "<unsubscribe node='%s'/>" % NODE_PARTICIPANTS)
        self.assertResult(response)
        update = response.firstChildElement()
        self.assertEqual([NODE_PARTICIPANTS],
                         [u["node"] for u in
                          update.elements(NS_MIX, "unsubscribe")])
        self.assertEqual({NODE_MESSAGES}, await self.subscriptions(HAG66))
        self.h.take()
        await self.proxyOf(CAT)
        self.assertNotIn(HAG66, [
            t for t, _ in notifications(self.h.take(), NODE_PARTICIPANTS)])

    async def test_updateSubscriptionUnsubscribeMessages(self):
        """
        JOIN-17: after unsubscribing from messages the user gets no
        reflected groupchat messages of others.
        """
        await self.proxyOf(HAG66)
        await self.proxyOf(CAT)
        self.assertResult(await self.update(
            HAG66_FULL, "<unsubscribe node='%s'/>" % NODE_MESSAGES))
        self.h.take()
        await self.h.message(CAT_FULL, "Harpier cries")
        out = [s for s in self.h.take()
               if s.getAttribute("type") == "groupchat"]
        self.assertEqual([CAT], [s["to"] for s in out])

    async def test_updateSubscriptionRights(self):
        """
        JOIN-17: same rights as join: a non-admin cannot add jidmap.
        """
        await self.proxyOf(CAT, nodes=(NODE_MESSAGES,))
        response = await self.update(CAT_FULL, "<subscribe node='%s'/>"
                                     % NODE_JIDMAP)
        self.assertError(response, "auth", "forbidden")
        self.assertEqual({NODE_MESSAGES}, await self.subscriptions(CAT))

    async def test_updateSubscriptionNonParticipant(self):
        """
        JOIN-17: update-subscription by a non-participant is
        C{forbidden}.
        """
        response = await self.update(CAT_FULL, "<subscribe node='%s'/>"
                                     % NODE_MESSAGES)
        self.assertError(response, "auth", "forbidden")
        self.assertEqual(set(), await self.subscriptions(CAT))

    # JOIN-18 .. JOIN-23

    async def test_leave(self):
        """
        JOIN-18: leave relayed from the bare JID gets
        C{<leave xmlns='urn:xmpp:mix:1'/>} from the channel to the bare
        JID; the user is no participant and subscribed to nothing.
        """
        await self.proxyOf(CAT)
        response = await self.h.leave(CAT)
        self.assertResult(response)
        self.assertEqual(COVEN, response["from"])
        self.assertEqual(CAT, response["to"])
        self.assertEqual("l1", response["id"])
        children = list(response.elements())
        self.assertEqual(1, len(children))
        self.assertEqual((NS_MIX, "leave"),
                         (children[0].uri, children[0].name))
        self.assertEqual({}, children[0].attributes)
        self.assertEqual([], list(children[0].elements()))
        self.assertIs(None, await self.participant(CAT))
        self.assertEqual(set(), await self.subscriptions(CAT))

    async def test_leaveRetractsParticipant(self):
        """
        JOIN-19: participants subscribers get
        C{<retract id='PROXY'/>} on the participants node.
        """
        await self.proxyOf(HECATE)
        proxy = await self.proxyOf(CAT)
        self.h.take()
        self.assertResult(await self.h.leave(CAT))
        notes = notifications(self.h.take(), NODE_PARTICIPANTS)
        self.assertEqual([HECATE], [t for t, _ in notes])
        message = notes[0][1].parent.parent
        self.assertEqual(COVEN, message["from"])
        children = list(notes[0][1].elements())
        self.assertEqual([(NS_PUBSUB_EVENT, "retract")],
                         [(c.uri, c.name) for c in children])
        self.assertEqual({"id": proxy}, children[0].attributes)

    async def test_leaveRetractsJidmap(self):
        """
        JOIN-21: jidmap subscribers get a retract of the leaving user's
        jidmap item.
        """
        await self.proxyOf(HAG66, nodes=(NODE_JIDMAP,))
        proxy = await self.proxyOf(CAT)
        self.h.take()
        self.assertResult(await self.h.leave(CAT))
        notes = notifications(self.h.take(), NODE_JIDMAP)
        self.assertEqual([HAG66], [t for t, _ in notes])
        self.assertEqual([proxy],
                         [r["id"] for r in
                          notes[0][1].elements(NS_PUBSUB_EVENT, "retract")])

    async def test_rejoinAfterLeave(self):
        """
        JOIN-22, PJID-3: a user who left and joins again gets the same
        proxy JID, announced as a new participant.
        """
        await self.proxyOf(HECATE)
        first = await self.proxyOf(CAT)
        self.assertResult(await self.h.leave(CAT))
        self.h.take()
        self.assertEqual(first, await self.proxyOf(CAT))
        self.assertIn(HECATE, [
            t for t, _ in notifications(self.h.take(), NODE_PARTICIPANTS)])

    async def test_leaveNonParticipant(self):
        """
        JOIN-23: leave by a non-participant succeeds and notifies no one.
        """
        await self.proxyOf(HECATE)
        self.h.take()
        response = await self.h.leave(CAT)
        self.assertResult(response)
        self.assertEqual("leave", response.firstChildElement().name)
        self.assertEqual([], self.h.take())

    async def test_leaveFromFullJID(self):
        """
        JOIN-23, AMB-16: leave from a full JID removes the bare JID.
        """
        await self.proxyOf(CAT)
        response = await self.h.leave(CAT_FULL)
        self.assertResult(response)
        self.assertEqual(CAT_FULL, response["to"])
        self.assertIs(None, await self.participant(CAT))

    async def test_leaveUnknownChannel(self):
        """
        JOIN-23: leaving a channel that does not exist is
        C{item-not-found}.
        """
        self.assertError(await self.h.leave(CAT, "nowhere@" + DOMAIN),
                         "cancel", "item-not-found")

    async def test_noMessagesAfterLeave(self):
        """
        JOIN-19: after leave the user gets no more messages or
        notifications; a groupchat message it sends is refused.
        """
        await self.proxyOf(HAG66)
        await self.proxyOf(CAT)
        self.assertResult(await self.h.leave(HAG66))
        self.h.take()
        await self.h.message(CAT_FULL, "Thrice the brinded cat hath mew'd")
        out = self.h.take()
        self.assertNotIn(HAG66, [s.getAttribute("to") for s in out])
        self.assertEqual([CAT], [s["to"] for s in out
                                 if s.getAttribute("type") == "groupchat"])
        await self.h.message(HAG66_FULL, "Round about the cauldron go", "m2")
        out = self.h.take()
        self.assertEqual(1, len(out))
        self.assertEqual(HAG66_FULL, out[0]["to"])
        self.assertError(out[0], "auth", "forbidden")
        await self.proxyOf(HECATE)
        self.assertNotIn(HAG66, [s.getAttribute("to")
                                 for s in self.h.take()])


class JoinMemoryTests(MemoryStoreMixin, JoinTestsMixin, unittest.TestCase):
    pass


class JoinPgsqlTests(PgsqlStoreMixin, JoinTestsMixin, unittest.TestCase):
    pass
