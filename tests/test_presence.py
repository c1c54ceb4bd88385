"""
Presence in channels (requirements.md 1.12 PRES, 1.13 X403; XEP-0369
§6.1.7–6.1.12, XEP-0403): the presence node, distribution, resync, join,
leave, nick changes, destruction, Open Presence, visibility, Participants
Must Provide Presence, rate limits.
"""

from twisted.trial import unittest
from twisted.words.protocols.jabber.jid import JID

from tests.helpers import (
    CAT, CAT_FULL, COVEN, DOMAIN, HAG66, HAG66_FULL, HECATE, HECATE_FULL,
    MIXTestMixin, MemoryStoreMixin, NODE_MESSAGES, NODE_PARTICIPANTS,
    NODE_PRESENCE, NS_CLIENT, NS_MIX, NS_PUBSUB, NS_XML,
    child, groupchats, notifications, submitForm)
from tests.pgsql import PgsqlStoreMixin

NS_NICK = "http://jabber.org/protocol/nick"
NS_MIXP = "urn:xmpp:mix:presence:0"
NS_CAPS = "http://jabber.org/protocol/caps"

WITH_PRESENCE = (NODE_MESSAGES, NODE_PARTICIPANTS, NODE_PRESENCE)

BREW = ("<presence from='%s' to='%s'><show>dnd</show>"
        "<status xml:lang='en'>Making a Brew</status>"
        "<status xml:lang='fr'>Une potion</status><priority>5</priority>"
        "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
        "node='http://psi-im.org' ver='q07IKJEyjvHSyhy//CH0CxmKi8w='/>"
        "<nick xmlns='http://jabber.org/protocol/nick'>forged</nick>"
        "<mix xmlns='urn:xmpp:mix:presence:0'><jid>evil@x.example/r</jid>"
        "<nick>forged</nick></mix></presence>")


def presences(stanzas, kind=None):
    """
    The presence stanzas among C{stanzas} (of type C{kind}; C{None}: of
    any type).
    """
    return [s for s in stanzas if s.name == "presence" and
            (kind is None or s.getAttribute("type") == kind)]


def mixOf(presence):
    """
    C{(jid or None, nick or None)} of a presence's XEP-0403 C{<mix/>}.
    """
    mix = child(presence, NS_MIXP, "mix")
    if mix is None:
        return None
    jid, nick = child(mix, NS_MIXP, "jid"), child(mix, NS_MIXP, "nick")
    return (str(jid) if jid is not None else None,
            str(nick) if nick is not None else None)


class PresenceTestsMixin(MIXTestMixin):
    """
    Channel coven created by hag66, who joined with the presence node and
    has nick thirdwitch; hecate joined with the presence node.
    """

    form = ""

    async def setUp(self):
        await MIXTestMixin.setUp(self)
        self.assertResult(await self.h.create(form=self.form))
        self.hagProxy = await self.proxyOf(HAG66, nodes=WITH_PRESENCE)
        await self.h.setnick(HAG66_FULL, "thirdwitch")
        self.hecateProxy = await self.proxyOf(HECATE, nodes=WITH_PRESENCE)
        # The subscription dumps follow the join results (JOIN-10).
        await self.h.advance(0)
        self.h.take()

    async def available(self, full=HAG66_FULL, payload="<show>dnd</show>"):
        return await self.send("<presence from='%s' to='%s'>%s</presence>"
                               % (full, COVEN, payload))

    async def items(self, requester=HECATE_FULL):
        response = await self.h.iq(
            "<iq type='get' id='pi' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<items node='%s'/></pubsub></iq>"
            % (requester, COVEN, NS_PUBSUB, NODE_PRESENCE))
        return response

    async def itemList(self, requester=HECATE_FULL):
        response = await self.items(requester)
        self.assertResult(response)
        return list(response.pubsub.items.elements(NS_PUBSUB, "item"))


class DistributionTestsMixin(PresenceTestsMixin):

    async def test_availableDistributed(self):
        """
        X403-1: the channel distributes its participants' presence.
        PRES-1, PRES-3, PRES-14, X403-3, X403-4, AMB-39, PJID-6, PJID-7:
        available presence from a client's full JID is sent as presence
        from the client's full proxy JID (an anonymised resource) to the
        bare JID of every presence subscriber, the publisher included,
        with the XEP-0172 nick and the XEP-0403 <mix/> (no <jid/> in a
        jid-hidden channel).
        """
        out = presences(await self.send(BREW % (HAG66_FULL, COVEN)))
        self.assertEqual([HAG66, HECATE], sorted(p["to"] for p in out))
        for presence in out:
            sender = presence["from"]
            proxy, resource = sender.split("/", 1)
            self.assertEqual(self.hagProxy, proxy)
            self.assertNotIn("UUID", resource)
            self.assertNotIn("7533", resource)
            self.assertIsNone(presence.getAttribute("type"))
            self.assertEqual("thirdwitch", str(child(presence, NS_NICK,
                                                     "nick")))
            self.assertEqual((None, "thirdwitch"), mixOf(presence))
        self.assertEqual(out[0]["from"], out[1]["from"])

    async def test_payloadCopied(self):
        """
        PRES-13: show, every status with its xml:lang, priority and caps
        are copied; the client's own nick and <mix/> are replaced by the
        channel's; every copy has its own id.
        """
        out = presences(await self.send(BREW % (HAG66_FULL, COVEN)))
        ids = [p.getAttribute("id") for p in out]
        self.assertTrue(all(ids))
        self.assertEqual(len(ids), len(set(ids)))
        presence = out[0]
        self.assertEqual("dnd", str(presence.show))
        statuses = {s.getAttribute((NS_XML, "lang")): str(s)
                    for s in presence.elements(presence.uri, "status")}
        self.assertEqual({"en": "Making a Brew", "fr": "Une potion"},
                         statuses)
        self.assertEqual("5", str(presence.priority))
        caps = child(presence, NS_CAPS, "c")
        self.assertEqual("q07IKJEyjvHSyhy//CH0CxmKi8w=", caps["ver"])
        self.assertEqual(1, len(list(presence.elements(NS_NICK, "nick"))))
        self.assertEqual(1, len(list(presence.elements(NS_MIXP, "mix"))))
        raw = "".join(self.h.raw())
        self.assertEqual("", raw)
        await self.h.receive(BREW % (HAG66_FULL, COVEN))
        raw = "".join(self.h.raw())
        self.assertNotIn("forged", raw)
        self.assertNotIn("evil", raw)
        self.assertNotIn("pubsub#event", raw)

    async def test_statusLangFromStanza(self):
        """
        PRES-13: a status without xml:lang keeps the stanza's language.
        """
        out = presences(await self.send(
            "<presence from='%s' to='%s' xml:lang='de'>"
            "<status>Zaubertrank</status></presence>" % (HAG66_FULL, COVEN)))
        status = out[0].status
        self.assertEqual("de", status.getAttribute((NS_XML, "lang")))

    async def test_serverAddressesDropped(self):
        """
        VIS-6: delays, stanza ids and extended addressing a server may add
        (they name the sender's server or account) are not copied.
        """
        await self.h.receive(
            "<presence from='%s' to='%s'><show>away</show>"
            "<delay xmlns='urn:xmpp:delay' from='shakespeare.example' "
            "stamp='2002-09-10T23:41:07Z'/>"
            "<stanza-id xmlns='urn:xmpp:sid:0' by='hag66@shakespeare.example'"
            " id='x'/></presence>" % (HAG66_FULL, COVEN))
        out = self.h.raw()
        self.assertEqual(2, len(out))
        for text in out:
            # Everything but the address.
            text = text[text.index(" from="):]
            self.assertIn("<show>away</show>", text)
            for needle in ("urn:xmpp:delay", "urn:xmpp:sid:0", "hag66@",
                           "'shakespeare.example'"):
                self.assertNotIn(needle, text)

    async def test_itemStored(self):
        """
        X403-2, NODE-8, CHAN-7: the presence node holds one item per
        client, id = full proxy JID, payload the presence in jabber:client
        with the <mix/> element; a participant reads it with items.
        """
        sender = presences(await self.available())[0]["from"]
        items = await self.itemList()
        self.assertEqual([sender], [i["id"] for i in items])
        payload = items[0].firstChildElement()
        self.assertEqual((NS_CLIENT, "presence"),
                         (payload.uri, payload.name))
        self.assertEqual((None, "thirdwitch"), mixOf(payload))
        self.assertEqual("dnd", str(child(payload, NS_CLIENT, "show")))

    async def test_itemsForbiddenToStrangers(self):
        """
        CHAN-7, PS-6: who may not subscribe to the presence node may not
        read it either.
        """
        await self.available()
        self.assertError(await self.items(CAT_FULL), "auth", "forbidden")

    async def test_updateKeepsProxyJID(self):
        """
        PJID-6, PRES-12, X403-4: a client's updates come from the same full
        proxy JID; another client of the same user gets another one and its
        own item.
        """
        first = presences(await self.available())[0]["from"]
        again = presences(await self.available(payload="<show>away</show>"))
        self.assertEqual({first}, {p["from"] for p in again})
        self.assertEqual("away", str(again[0].show))
        other = presences(await self.available(HAG66 + "/UUID-c8y/1573"))
        second = other[0]["from"]
        self.assertNotEqual(first, second)
        self.assertEqual(second.split("/")[0], first.split("/")[0])
        self.assertEqual(sorted([first, second]),
                         sorted(i["id"] for i in await self.itemList()))

    async def test_sameResourceAsPrivateMessages(self):
        """
        PJID-6, PM-6: a client has one full proxy JID in a channel, for
        presence and private messages alike.
        """
        sender = presences(await self.available())[0]["from"]
        out = await self.send("<message type='chat' id='pm' from='%s' to='%s'>"
                              "<body>hi</body></message>"
                              % (HAG66_FULL, self.hecateProxy))
        self.assertEqual(sender, out[0]["from"])

    async def test_unavailable(self):
        """
        PRES-5, X403-6: unavailable removes the item and is sent, with the
        <mix/> element, from the full proxy JID to every subscriber; a
        second one finds no item and sends nothing.
        """
        sender = presences(await self.available())[0]["from"]
        out = await self.send("<presence type='unavailable' from='%s' to='%s'>"
                              "<status>bye</status></presence>"
                              % (HAG66_FULL, COVEN))
        gone = presences(out, "unavailable")
        self.assertEqual(len(out), len(gone))
        self.assertEqual([HAG66, HECATE], sorted(p["to"] for p in gone))
        self.assertEqual({sender}, {p["from"] for p in gone})
        self.assertEqual((None, "thirdwitch"), mixOf(gone[0]))
        self.assertEqual([], await self.itemList())
        self.assertEqual([], await self.send(
            "<presence type='unavailable' from='%s' to='%s'/>"
            % (HAG66_FULL, COVEN)))

    async def test_errorRemoves(self):
        """
        PRES-9: a presence error from a client removes its item, with
        unavailable to the subscribers; nothing answers the error.
        """
        await self.available()
        out = await self.send("<presence type='error' from='%s' to='%s'>"
                              "<error type='cancel'><remote-server-not-found "
                              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                              "</error></presence>" % (HAG66_FULL, COVEN))
        self.assertEqual(2, len(presences(out, "unavailable")))
        self.assertEqual([], await self.itemList())

    async def test_nonParticipantIgnored(self):
        """
        PRES-2, ERR-4: without Open Presence, presence from a
        non-participant is ignored, silently.
        """
        self.assertEqual([], await self.available(CAT_FULL))
        self.assertEqual([], await self.itemList())

    async def test_neverAnswered(self):
        """
        ERR-4: presence is never answered with an error: to an unknown
        channel, the service, a proxy JID, or of unknown types.
        """
        for to in ("nosuch@" + DOMAIN, DOMAIN, self.hagProxy,
                   COVEN + "/x"):
            self.assertEqual([], await self.send(
                "<presence from='%s' to='%s'/>" % (HAG66_FULL, to)))
        for kind in ("subscribe", "subscribed", "unsubscribe", "bogus"):
            self.assertEqual([], await self.send(
                "<presence type='%s' from='%s' to='%s'/>"
                % (kind, HAG66_FULL, COVEN)))

    async def test_bareResync(self):
        """
        PRES-6, AMB-46: presence from a bare JID that may read the presence
        node gets one presence per item, to that bare JID only; a probe
        from a bare JID the same.
        """
        await self.available()
        await self.available(HAG66 + "/UUID-c8y/1573")
        self.h.take()
        for kind in ("", " type='probe'"):
            out = await self.send("<presence%s from='%s' to='%s'/>"
                                  % (kind, HECATE, COVEN))
            self.assertEqual(2, len(presences(out)))
            self.assertEqual({HECATE}, {p["to"] for p in out})
            self.assertEqual((None, "thirdwitch"), mixOf(out[0]))

    async def test_resyncRefusedToStrangers(self):
        """
        AMB-46: a bare JID that may not read the presence node gets
        nothing.
        """
        await self.available()
        self.h.take()
        self.assertEqual([], await self.send(
            "<presence from='%s' to='%s'/>" % (CAT, COVEN)))

    async def test_joinSendsCurrent(self):
        """
        JOIN-10, PRES-7: joining with the presence node brings the current
        presence to the joiner's bare JID; without it, nothing.
        """
        sender = presences(await self.available())[0]["from"]
        await self.h.join(CAT, nodes=(NODE_MESSAGES,))
        await self.h.advance(0)
        self.assertEqual([], presences(self.h.take()))
        await self.h.join(CAT, nodes=WITH_PRESENCE)
        await self.h.advance(0)
        out = presences(self.h.take())
        self.assertEqual([(CAT, sender)], [(p["to"], p["from"]) for p in out])

    async def test_updateSubscriptionSendsCurrent(self):
        """
        JOIN-10, JOIN-17, PRES-7: update-subscription adding the presence
        node brings the current presence.
        """
        await self.h.join(CAT, nodes=(NODE_MESSAGES,))
        await self.available()
        self.h.take()
        response = await self.h.iq(
            "<iq type='set' id='u1' from='%s' to='%s'>"
            "<update-subscription xmlns='%s'><subscribe node='%s'/>"
            "</update-subscription></iq>"
            % (CAT_FULL, COVEN, NS_MIX, NODE_PRESENCE))
        self.assertResult(response)
        await self.h.advance(0)
        out = presences(self.h.take())
        self.assertEqual([CAT], [p["to"] for p in out])

    async def test_leaveRemovesClients(self):
        """
        JOIN-20, X403-6, AMB-18, AMB-33: leaving removes every item of the
        user's clients with an unavailable each to the presence
        subscribers, and no PubSub retraction on the presence node.
        """
        first = presences(await self.available())[0]["from"]
        second = presences(await self.available(HAG66 + "/UUID-c8y/1573"))[0]
        response = await self.h.leave(HAG66)
        self.assertResult(response)
        out = self.h.take()
        gone = presences(out, "unavailable")
        self.assertEqual([HECATE, HECATE], [p["to"] for p in gone])
        self.assertEqual(sorted([first, second["from"]]),
                         sorted(p["from"] for p in gone))
        self.assertEqual((None, "thirdwitch"), mixOf(gone[0]))
        self.assertEqual([], notifications(out, NODE_PRESENCE))
        self.assertEqual([], await self.itemList())

    async def test_nickChange(self):
        """
        NICK-6, X403-4: a nick change re-sends the user's clients'
        presence, from the same full proxy JID, with the new nick; the
        item holds it too.
        """
        sender = presences(await self.available())[0]["from"]
        await self.h.setnick(HAG66_FULL, "firstwitch")
        out = presences(self.h.take())
        self.assertEqual([HAG66, HECATE], sorted(p["to"] for p in out))
        self.assertEqual({sender}, {p["from"] for p in out})
        self.assertEqual((None, "firstwitch"), mixOf(out[0]))
        self.assertEqual("firstwitch", str(child(out[0], NS_NICK, "nick")))
        self.assertEqual("dnd", str(out[0].show))
        self.assertEqual((None, "firstwitch"),
                         mixOf((await self.itemList())[0].firstChildElement()))

    async def test_nickAssignedFirst(self):
        """
        NICK-5, AMB-21, X403-3: a participant without nick gets a
        generated one, published, before its presence is shared.
        """
        out = await self.available(HECATE_FULL)
        published = notifications(out, NODE_PARTICIPANTS)
        self.assertTrue(published)
        nick = str(published[0][1].item.participant.nick)
        self.assertNotIn("hecate", nick)
        for presence in presences(out):
            self.assertEqual((None, nick), mixOf(presence))

    async def test_destroy(self):
        """
        CRE-10: destroying a channel sends unavailable for every item to
        the presence subscribers before it goes.
        """
        sender = presences(await self.available())[0]["from"]
        response = await self.h.iq(
            "<iq type='set' id='d1' from='%s' to='%s'>"
            "<destroy xmlns='%s' channel='coven'/></iq>"
            % (HAG66_FULL, DOMAIN, NS_MIX))
        self.assertResult(response)
        gone = presences(self.h.take(), "unavailable")
        self.assertEqual([HAG66, HECATE], sorted(p["to"] for p in gone))
        self.assertEqual({sender}, {p["from"] for p in gone})

    async def test_notShareIgnored(self):
        """
        PREF-5: presence from a participant whose Presence preference is
        'not share' is not shared; changing to 'not share' removes the
        items with unavailable.
        """
        await self.available()
        self.h.take()
        response = await self.h.iq(
            "<iq type='set' id='p2' from='%s' to='%s'>"
            "<user-preference xmlns='%s'>%s</user-preference></iq>"
            % (HAG66_FULL, COVEN, NS_MIX,
               submitForm(("Presence", "not share"))))
        self.assertResult(response)
        self.assertEqual(2, len(presences(self.h.take(), "unavailable")))
        self.assertEqual([], await self.available())
        self.assertEqual([], await self.itemList())

    async def test_pubsubNeverUsed(self):
        """
        PRES-4, X403-5: presence goes out as presence stanzas only, never
        as PubSub events; PubSub publishing to the presence node is
        forbidden.
        """
        out = await self.available()
        self.assertEqual([], [s for s in out if s.name == "message"])
        response = await self.h.iq(
            "<iq type='set' id='pp' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<publish node='%s'><item id='x'><presence xmlns='%s'/></item>"
            "</publish></pubsub></iq>"
            % (HAG66_FULL, COVEN, NS_PUBSUB, NODE_PRESENCE, NS_CLIENT))
        self.assertError(response, "auth", "forbidden")

    async def test_throttled(self):
        """
        Issue 4 limits: a client flooding presence is throttled (the
        excess dropped, silently) without affecting another client.
        """
        sent = 0
        for n in range(40):
            sent += len(await self.available(
                payload="<status>%d</status>" % n))
        # Two subscribers, and only the burst (20) distributed.
        self.assertEqual(20 * 2, sent)
        self.assertEqual(2, len(presences(await self.available(HECATE_FULL))))
        await self.h.advance(10)
        self.assertEqual(2, len(await self.available()))

    async def test_mustProvidePresence(self):
        """
        MSG-8, PRES-10, AMB-44, PREF-4: with Participants Must Provide
        Presence, a
        groupchat message from a client without presence item is refused
        with not-acceptable (modify); once its presence is in, it is
        reflected.
        """
        response = await self.h.iq(
            "<iq type='set' id='cf' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<publish node='urn:xmpp:mix:nodes:config'><item>%s</item>"
            "</publish></pubsub></iq>"
            % (HAG66_FULL, COVEN, NS_PUBSUB, submitForm(
                ("Participants Must Provide Presence", "true"))))
        self.assertResult(response)
        self.h.take()
        out = await self.send("<message type='groupchat' id='m1' from='%s' "
                              "to='%s'><body>hi</body></message>"
                              % (HAG66_FULL, COVEN))
        self.assertEqual(1, len(out))
        self.assertError(out[0], "modify", "not-acceptable")
        await self.available()
        out = await self.send("<message type='groupchat' id='m2' from='%s' "
                              "to='%s'><body>hi</body></message>"
                              % (HAG66_FULL, COVEN))
        self.assertEqual([HAG66, HECATE],
                         sorted(m["to"] for m in groupchats(out)))
        # Another client of the same user without presence: refused.
        out = await self.send(
            "<message type='groupchat' id='m3' from='%s/other' "
            "to='%s'><body>hi</body></message>" % (HAG66, COVEN))
        self.assertError(out[0], "modify", "not-acceptable")


class DistributionMemoryTests(MemoryStoreMixin, DistributionTestsMixin,
                              unittest.TestCase):
    pass


class DistributionPgsqlTests(PgsqlStoreMixin, DistributionTestsMixin,
                             unittest.TestCase):
    pass


class OpenPresenceTestsMixin(PresenceTestsMixin):
    """
    A channel with Open Presence (AMB-43, PJID-9).
    """

    form = submitForm(("Open Presence", "true"))

    async def test_guestPresence(self):
        """
        AMB-43, PJID-9, PRES-2: with Open Presence a non-participant's
        presence is shared under a proxy JID of its own and a generated
        nick; it does not become a participant and its JID never shows.
        """
        out = presences(await self.available(CAT_FULL))
        self.assertEqual([HAG66, HECATE], sorted(p["to"] for p in out))
        sender = out[0]["from"]
        proxy = sender.split("/")[0]
        self.assertTrue(proxy.endswith("#coven@" + DOMAIN))
        self.assertNotIn(proxy, (self.hagProxy, self.hecateProxy))
        jid, nick = mixOf(out[0])
        self.assertIsNone(jid)
        self.assertTrue(nick)
        self.assertNotIn("cat", nick)
        for text in self.h.raw():
            self.assertNotIn("cat@", text)
        response = await self.h.iq(
            "<iq type='get' id='pa' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<items node='%s'/></pubsub></iq>"
            % (HAG66_FULL, COVEN, NS_PUBSUB, NODE_PARTICIPANTS))
        ids = [i["id"] for i in
               response.pubsub.items.elements(NS_PUBSUB, "item")]
        self.assertNotIn(proxy, ids)
        # A second client of the guest: the same proxy and nick.
        again = presences(await self.available(CAT + "/two"))
        self.assertEqual(proxy, again[0]["from"].split("/")[0])
        self.assertEqual((None, nick), mixOf(again[0]))

    async def test_guestUnavailable(self):
        """
        PRES-5: a guest's unavailable removes its item.
        """
        await self.available(CAT_FULL)
        gone = presences(await self.send(
            "<presence type='unavailable' from='%s' to='%s'/>"
            % (CAT_FULL, COVEN)), "unavailable")
        self.assertEqual(2, len(gone))
        self.assertEqual([], await self.itemList())

    async def test_bannedGuestIgnored(self):
        """
        PRES-2: a banned JID is not Allowed and registers no presence.
        """
        response = await self.h.iq(
            "<iq type='set' id='b' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<publish node='urn:xmpp:mix:nodes:banned'><item id='%s'/>"
            "</publish></pubsub></iq>" % (HAG66_FULL, COVEN, NS_PUBSUB, CAT))
        self.assertResult(response)
        self.h.take()
        self.assertEqual([], await self.available(CAT_FULL))

    async def banOrConfigure(self, body):
        response = await self.h.iq(
            "<iq type='set' id='b' from='%s' to='%s'><pubsub xmlns='%s'>"
            "%s</pubsub></iq>" % (HAG66_FULL, COVEN, NS_PUBSUB, body))
        self.assertResult(response)
        return self.h.take()

    async def test_banningOnlineGuest(self):
        """
        ADM-9, PRES-5: banning the domain of an online guest removes its
        item, with unavailable to the presence subscribers.
        """
        await self.available(CAT_FULL)
        out = await self.banOrConfigure(
            "<publish node='urn:xmpp:mix:nodes:banned'><item "
            "id='shakespeare.example.org'/></publish>")
        self.assertEqual(1, len(await self.itemList()))
        out = await self.banOrConfigure(
            "<publish node='urn:xmpp:mix:nodes:banned'><item id='%s'/>"
            "</publish>" % (CAT,))
        gone = presences(out, "unavailable")
        self.assertEqual([HAG66, HECATE], sorted(p["to"] for p in gone))
        self.assertEqual([], await self.itemList())

    async def test_closingOpenPresence(self):
        """
        PRES-2, ADM-5: switching Open Presence off removes the guests'
        items, with unavailable; participants' items stay.
        """
        await self.available(HAG66_FULL)
        await self.available(CAT_FULL)
        self.h.take()
        out = await self.banOrConfigure(
            "<publish node='urn:xmpp:mix:nodes:config'>%s</publish>"
            % (submitForm(("Open Presence", "false")),))
        gone = presences(out, "unavailable")
        self.assertEqual([HAG66, HECATE], sorted(p["to"] for p in gone))
        self.assertEqual(1, len(await self.itemList()))


class OpenPresenceMemoryTests(MemoryStoreMixin, OpenPresenceTestsMixin,
                              unittest.TestCase):
    pass


class OpenPresencePgsqlTests(PgsqlStoreMixin, OpenPresenceTestsMixin,
                             unittest.TestCase):
    pass


class VisibilityTestsMixin(MIXTestMixin):
    """
    The real JID in <mix><jid/> (VIS-3, VIS-6, X403-3, AMB-23).
    """

    async def channel(self, mode, hagPref="default"):
        self.assertResult(await self.h.create(form=submitForm(
            ("JID Visibility", mode))))
        self.assertResult(await self.h.join(HAG66, nodes=WITH_PRESENCE, extra=(
            submitForm(("JID Visibility", hagPref)))))
        await self.h.setnick(HAG66_FULL, "thirdwitch")
        self.assertResult(await self.h.join(HECATE, nodes=WITH_PRESENCE))
        self.h.take()

    async def shown(self):
        out = presences(await self.send("<presence from='%s' to='%s'/>"
                                        % (HAG66_FULL, COVEN)))
        return mixOf(out[0])[0]

    async def test_visible(self):
        """
        VIS-3, X403-3: in a jid-visible channel <jid/> is the client's
        real full JID.
        """
        await self.channel("jid-visible")
        self.assertEqual(HAG66_FULL, await self.shown())

    async def test_hidden(self):
        """
        VIS-6, X403-3, AMB-23: never in a jid-hidden channel, whatever the
        preference.
        """
        await self.channel("jid-hidden", "prefer visible")
        self.assertIsNone(await self.shown())

    async def test_maybeVisible(self):
        """
        VIS-3: in a jid-maybe-visible channel only for a user who shares
        its JID; a preference change re-sends presence without it.
        """
        await self.channel("jid-maybe-visible", "prefer visible")
        self.assertEqual(HAG66_FULL, await self.shown())
        response = await self.h.iq(
            "<iq type='set' id='p2' from='%s' to='%s'>"
            "<user-preference xmlns='%s'>%s</user-preference></iq>"
            % (HAG66_FULL, COVEN, NS_MIX,
               submitForm(("JID Visibility", "prefer not"))))
        self.assertResult(response)
        out = presences(self.h.take())
        self.assertEqual(2, len(out))
        self.assertEqual((None, "thirdwitch"), mixOf(out[0]))
        raw = (await self.h.iq(
            "<iq type='get' id='pi' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<items node='%s'/></pubsub></iq>"
            % (HECATE_FULL, COVEN, NS_PUBSUB, NODE_PRESENCE))).toXml()
        self.assertNotIn("hag66@", raw)

    async def test_maybeVisibleDefault(self):
        """
        VIS-3: by default a jid-maybe-visible channel hides the JID.
        """
        await self.channel("jid-maybe-visible")
        self.assertIsNone(await self.shown())

    async def test_modeChangeHidesStoredJID(self):
        """
        VIS-6: when the owner hides JIDs, items stored while they were
        visible are read and resent without <jid/>.
        """
        await self.channel("jid-maybe-visible", "prefer visible")
        self.assertEqual(HAG66_FULL, await self.shown())
        response = await self.h.iq(
            "<iq type='set' id='inf' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<publish node='urn:xmpp:mix:nodes:info'><item>%s</item>"
            "</publish></pubsub></iq>"
            % (HAG66_FULL, COVEN, NS_PUBSUB,
               submitForm(("JID Visibility", "jid-hidden"))))
        self.assertResult(response)
        self.h.take()
        raw = (await self.h.iq(
            "<iq type='get' id='pi' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<items node='%s'/></pubsub></iq>"
            % (HECATE_FULL, COVEN, NS_PUBSUB, NODE_PRESENCE))).toXml()
        self.assertIn("thirdwitch", raw)
        self.assertNotIn("hag66@", raw)
        await self.h.receive("<presence from='%s' to='%s'/>" % (HECATE, COVEN))
        resync = "".join(self.h.raw())
        self.assertIn("thirdwitch", resync)
        self.assertNotIn("hag66@", resync)


class VisibilityMemoryTests(MemoryStoreMixin, VisibilityTestsMixin,
                            unittest.TestCase):
    pass


class VisibilityPgsqlTests(PgsqlStoreMixin, VisibilityTestsMixin,
                           unittest.TestCase):
    pass


def presenceOf(harness):
    """
    The L{mixtwisted.presence.Presence} behind a harness.
    """
    for handler in harness.handlers:
        if type(handler).__name__ == "PresenceHandler":
            return handler.presence
    raise AssertionError("no presence handler")


class OutsiderVisibilityTestsMixin(PresenceTestsMixin):
    """
    A jid-visible channel whose presence node anyone may read: cat reads
    and subscribes without being a participant (X403-3, VIS-3, VIS-5).
    """

    form = submitForm(("JID Visibility", "jid-visible"),
                      ("Presence Node Subscription", "anyone"))

    async def subscribeCat(self):
        response = await self.h.iq(
            "<iq type='set' id='s1' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<subscribe node='%s' jid='%s'/></pubsub></iq>"
            % (CAT_FULL, COVEN, NS_PUBSUB, NODE_PRESENCE, CAT))
        self.assertResult(response)
        await self.h.advance(0)
        return presences(self.h.take())

    async def test_itemsReadWithoutJIDForOutsiders(self):
        """
        X403-3, VIS-5: a non-participant reading the presence node gets
        the items without <jid/>; a participant gets the real full JID
        (VIS-3, jid-visible).
        """
        await self.available()
        self.h.take()
        [outsider] = await self.itemList(CAT_FULL)
        self.assertNotIn("hag66@", outsider.toXml())
        self.assertIn("thirdwitch", outsider.toXml())
        [member] = await self.itemList(HECATE_FULL)
        self.assertIn("<jid>%s</jid>" % (HAG66_FULL,), member.toXml())

    async def test_resyncWithoutJIDForOutsiders(self):
        """
        PRES-6, X403-3, VIS-5: a resync by a non-participant brings the
        items without <jid/>; a participant's with it.
        """
        await self.available()
        self.h.take()
        out = presences(await self.send("<presence from='%s' to='%s'/>"
                                        % (CAT, COVEN)))
        self.assertEqual([(None, "thirdwitch")], [mixOf(p) for p in out])
        out = presences(await self.send("<presence from='%s' to='%s'/>"
                                        % (HECATE, COVEN)))
        self.assertEqual([(HAG66_FULL, "thirdwitch")],
                         [mixOf(p) for p in out])

    async def test_broadcastSplitByRole(self):
        """
        PRES-3, PRES-7, X403-3, VIS-3, VIS-5: a non-participant
        subscriber gets the subscription dump, every later presence and
        unavailable without <jid/>; participants get <jid/>.
        """
        await self.available()
        self.h.take()
        dump = await self.subscribeCat()
        self.assertEqual([(None, "thirdwitch")], [mixOf(p) for p in dump])
        out = presences(await self.available(payload="<show>away</show>"))
        shown = {p["to"]: mixOf(p)[0] for p in out}
        self.assertEqual({HAG66: HAG66_FULL, HECATE: HAG66_FULL, CAT: None},
                         shown)
        out = presences(await self.send(
            "<presence type='unavailable' from='%s' "
            "to='%s'/>" % (HAG66_FULL, COVEN)))
        shown = {p["to"]: mixOf(p)[0] for p in out}
        self.assertEqual({HAG66: HAG66_FULL, HECATE: HAG66_FULL, CAT: None},
                         shown)

    async def test_administratorsSee(self):
        """
        VIS-5: an administrator who is not a participant may see real
        JIDs like participants.
        """
        response = await self.h.iq(
            "<iq type='set' id='cf' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<publish node='urn:xmpp:mix:nodes:config'><item>%s</item>"
            "</publish></pubsub></iq>"
            % (HAG66_FULL, COVEN, NS_PUBSUB,
               submitForm(("Administrator", [CAT]))))
        self.assertResult(response)
        self.h.take()
        await self.subscribeCat()
        out = presences(await self.available())
        self.assertEqual({HAG66: HAG66_FULL, HECATE: HAG66_FULL,
                          CAT: HAG66_FULL},
                         {p["to"]: mixOf(p)[0] for p in out})
        [item] = await self.itemList(CAT_FULL)
        self.assertIn("<jid>%s</jid>" % (HAG66_FULL,), item.toXml())

    async def test_destroyWithoutJIDForOutsiders(self):
        """
        CRE-10, X403-3, VIS-5: the unavailable presence at destruction
        reaches a non-participant subscriber without <jid/>.
        """
        await self.available()
        await self.subscribeCat()
        self.h.take()
        await self.h.receive("<iq type='set' id='d1' from='%s' to='%s'>"
                             "<destroy xmlns='%s' channel='coven'/></iq>"
                             % (HAG66_FULL, DOMAIN, NS_MIX))
        out = presences(self.h.take(), "unavailable")
        self.assertEqual({HAG66: HAG66_FULL, HECATE: HAG66_FULL, CAT: None},
                         {p["to"]: mixOf(p)[0] for p in out})


class OutsiderVisibilityMemoryTests(MemoryStoreMixin,
                                    OutsiderVisibilityTestsMixin,
                                    unittest.TestCase):
    pass


class OutsiderVisibilityPgsqlTests(PgsqlStoreMixin,
                                   OutsiderVisibilityTestsMixin,
                                   unittest.TestCase):
    pass


class MaybeVisibleOutsiderTestsMixin(OutsiderVisibilityTestsMixin):
    """
    The same in a jid-maybe-visible channel where hag66 shares its JID.
    """

    form = submitForm(("JID Visibility", "jid-maybe-visible"),
                      ("Presence Node Subscription", "anyone"))

    async def setUp(self):
        await OutsiderVisibilityTestsMixin.setUp(self)
        self.assertResult(await self.h.iq(
            "<iq type='set' id='p2' from='%s' to='%s'>"
            "<user-preference xmlns='%s'>%s</user-preference></iq>"
            % (HAG66_FULL, COVEN, NS_MIX,
               submitForm(("JID Visibility", "prefer visible")))))
        self.h.take()


class MaybeVisibleOutsiderMemoryTests(MemoryStoreMixin,
                                      MaybeVisibleOutsiderTestsMixin,
                                      unittest.TestCase):
    pass


class MaybeVisibleOutsiderPgsqlTests(PgsqlStoreMixin,
                                     MaybeVisibleOutsiderTestsMixin,
                                     unittest.TestCase):
    pass


class HardeningTestsMixin(PresenceTestsMixin):
    """
    Review findings: copied extensions, dumps, limits, node removal, the
    order of join results and dumps, guest nicks.
    """

    async def test_onlyAllowlistedExtensionsCopied(self):
        """
        PRES-13, VIS-6: of a client's extensions only caps and idle are
        copied; MUC user items, reachability addresses, signatures and
        vCard photo hashes, which can name the real JID, are dropped.
        """
        payload = (
            "<show>away</show><status>brewing</status><priority>1</priority>"
            "<c xmlns='%s' hash='sha-1' node='http://psi-im.org' ver='v='/>"
            "<idle xmlns='urn:xmpp:idle:1' since='1969-07-21T02:56:15Z'/>"
            "<x xmlns='jabber:x:signed'>iQEzBAEBCAAdFiEE</x>"
            "<reach xmlns='urn:xmpp:reach:0'><addr uri='sip:x@y.example'/>"
            "</reach>"
            "<x xmlns='vcard-temp:x:update'><photo>01b87fcd</photo></x>"
            "<x xmlns='http://jabber.org/protocol/muc#user'>"
            "<item jid='%s'/></x><unknown xmlns='urn:example:x'/>"
            % (NS_CAPS, HAG66_FULL))
        out = presences(await self.available(payload=payload))
        [copy] = [p for p in out if p["to"] == HECATE]
        kept = sorted((c.uri, c.name) for c in copy.elements())
        self.assertEqual(sorted([
            (NS_NICK, "nick"), (NS_MIXP, "mix"), (NS_CAPS, "c"),
            ("urn:xmpp:idle:1", "idle"), (copy.uri, "show"),
            (copy.uri, "status"), (copy.uri, "priority")]), kept)
        copied = "".join(c.toXml() for c in copy.elements())
        self.assertNotIn("hag66", copied)
        self.assertNotIn("shakespeare", copied)

    async def test_childNamingSenderDropped(self):
        """
        VIS-6: a copied child whose text names the sender's bare JID or
        domain is dropped; the rest is kept.
        """
        out = presences(await self.available(payload=(
            "<show>away</show><status>mail hag66@Shakespeare.example</status>"
            "<status xml:lang='fr'>ailleurs</status>")))
        [copy] = [p for p in out if p["to"] == HECATE]
        copied = "".join(c.toXml() for c in copy.elements())
        self.assertNotIn("shakespeare", copied.lower())
        self.assertIn("ailleurs", copy.toXml())
        self.assertIn("away", copy.toXml())

    async def test_dumpOnlyOnNewSubscription(self):
        """
        PRES-7, JOIN-10: the current presence is sent when the presence
        subscription is added, not again on a re-join or an
        update-subscription that already had it.
        """
        await self.available()
        self.h.take()
        self.assertResult(await self.h.join(HECATE, nodes=WITH_PRESENCE))
        await self.h.advance(0)
        self.assertEqual([], presences(self.h.take()))
        response = await self.h.iq(
            "<iq type='set' id='u1' from='%s' to='%s'>"
            "<update-subscription xmlns='%s'><subscribe node='%s'/>"
            "</update-subscription></iq>"
            % (HECATE_FULL, COVEN, NS_MIX, NODE_PRESENCE))
        self.assertResult(response)
        await self.h.advance(0)
        self.assertEqual([], presences(self.h.take()))
        response = await self.h.iq(
            "<iq type='set' id='s1' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<subscribe node='%s' jid='%s'/></pubsub></iq>"
            % (HECATE_FULL, COVEN, NS_PUBSUB, NODE_PRESENCE, HECATE))
        self.assertResult(response)
        await self.h.advance(0)
        self.assertEqual([], presences(self.h.take()))

    async def test_dumpsThrottledPerBareJID(self):
        """
        PRES-6, PRES-7, issue 4: dumps to one bare JID are limited (bursts
        of 5, 2 a second), whichever of its resources asks.
        """
        await self.available()
        self.h.take()
        # The join dumps of setUp are forgotten.
        await self.h.advance(10)
        dumps = 0
        for n in range(20):
            out = await self.send(
                "<presence type='probe' from='%s/r%d' to='%s'/>"
                % (HECATE, n, COVEN))
            dumps += len(presences(out))
        self.assertEqual(5, dumps)
        await self.h.advance(1)
        out = await self.send("<presence from='%s' to='%s'/>"
                              % (HECATE, COVEN))
        self.assertEqual(1, len(presences(out)))

    async def test_rotatingResources(self):
        """
        Issue 4, PRES-1: rotating resources does not escape the limit (per
        bare JID), and one bare JID has at most 10 clients in the node;
        the excess is ignored silently (ERR-4) and gets no proxy resource.
        """
        sent = []
        for n in range(200):
            sent.extend(await self.send("<presence from='%s/r%d' to='%s'/>"
                                        % (HAG66, n, COVEN)))
        self.assertEqual(10 * 2, len(presences(sent)))
        self.assertEqual([], [s for s in sent if s.name != "presence"])
        records = await self.h.store.listPresence("coven")
        self.assertEqual(10, len(records))
        self.assertIsNone(
            await self.h.store.clientResource("coven", HAG66 + "/r10"))
        # The clients that are in still update, once the rate allows.
        await self.h.advance(10)
        self.assertEqual(2, len(presences(await self.send(
            "<presence from='%s/r0' to='%s'><show>away</show></presence>"
            % (HAG66, COVEN)))))

    def test_domainThrottled(self):
        """
        Issue 4: rotating accounts of one domain does not escape the limit
        either (per domain: bursts of 500).
        """
        presence = presenceOf(self.h)
        admitted = sum(presence.admit(JID("u%d@evil.example/r" % n))
                       for n in range(600))
        self.assertEqual(500, admitted)
        self.assertTrue(presence.admit(JID("u1@good.example/r")))

    async def test_mustProvidePresenceWithoutNode(self):
        """
        MSG-8, ADM-5, PRES-5: taking the presence node out sends
        unavailable for every item to its subscribers, deletes the items,
        cancels their ghost timers, and Participants Must Provide Presence
        no longer refuses messages (nobody could provide presence).
        """
        await self.available(HECATE_FULL)
        self.h.take()
        response = await self.h.iq(
            "<iq type='set' id='cf' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<publish node='urn:xmpp:mix:nodes:config'><item>%s</item>"
            "</publish></pubsub></iq>"
            % (HAG66_FULL, COVEN, NS_PUBSUB, submitForm(
                ("Nodes Present", ["participants", "information"]),
                ("Participants Must Provide Presence", "true"))))
        self.assertResult(response)
        gone = presences(self.h.take(), "unavailable")
        self.assertEqual([HAG66, HECATE], sorted(p["to"] for p in gone))
        self.assertEqual([], await self.h.store.listPresence("coven"))
        self.assertEqual({}, presenceOf(self.h)._ghostTimers)
        out = await self.send("<message type='groupchat' id='m1' from='%s' "
                              "to='%s'><body>hi</body></message>"
                              % (HAG66_FULL, COVEN))
        self.assertEqual([HAG66, HECATE],
                         sorted(m["to"] for m in groupchats(out)))
        await self.h.advance(7200)
        self.assertEqual([], self.h.take())

    async def test_dumpAfterJoinResult(self):
        """
        JOIN-10, PRES-7: the current presence follows the join's result
        (a MIX-PAM server adds the channel to the roster on the result).
        """
        await self.available()
        self.h.take()
        await self.h.receive(
            "<iq type='set' id='j9' from='%s' to='%s'>"
            "<join xmlns='%s'><subscribe node='%s'/></join></iq>"
            % (CAT_FULL, COVEN, NS_MIX, NODE_PRESENCE))
        self.assertEqual([], presences(self.h.take()))
        await self.h.advance(0)
        self.assertEqual([CAT], [p["to"] for p in presences(self.h.take())])

    async def test_dumpAfterJoinResultOrder(self):
        """
        JOIN-10: in the stream, the join's result comes before the dump.
        """
        await self.available()
        self.h.take()
        await self.h.receive(
            "<iq type='set' id='j9' from='%s' to='%s'>"
            "<join xmlns='%s'><subscribe node='%s'/></join></iq>"
            % (CAT_FULL, COVEN, NS_MIX, NODE_PRESENCE))
        await self.h.advance(0)
        kinds = [(o.name, o.getAttribute("type")) for o in self.h.take()
                 if o.name in ("iq", "presence")]
        self.assertEqual([("iq", "result"), ("presence", None)], kinds)


class HardeningMemoryTests(MemoryStoreMixin, HardeningTestsMixin,
                           unittest.TestCase):
    pass


class HardeningPgsqlTests(PgsqlStoreMixin, HardeningTestsMixin,
                          unittest.TestCase):
    pass


class GuestLimitTestsMixin(PresenceTestsMixin):
    """
    Open Presence guests: limits and nicks (issue 4, AMB-43).
    """

    form = submitForm(("Open Presence", "true"))

    async def guest(self, bare):
        return presences(await self.send("<presence from='%s/r' to='%s'/>"
                                         % (bare, COVEN)))

    async def test_guestsPerDomain(self):
        """
        Issue 4, PRES-2: at most 50 guests per domain; the excess is
        ignored silently (ERR-4) and reserves no proxy id.
        """
        for n in range(60):
            await self.guest("g%d@evil.example" % (n,))
        records = await self.h.store.listPresence("coven")
        self.assertEqual(50, len(records))
        self.assertIsNone(
            await self.h.store.proxyIdFor("coven", "g55@evil.example"))
        self.assertEqual(2, len(await self.guest("g0@other.example")))
        # Participants are not guests: still in.
        self.assertEqual(2, len(await self.available()))

    async def test_guestsPerChannel(self):
        """
        Issue 4, PRES-2: the channel takes at most maxGuests guests (1000
        by default); a guest already in may add clients.
        """
        presenceOf(self.h).maxGuests = 3
        for n in range(5):
            await self.guest("g%d@d%d.example" % (n, n))
        records = await self.h.store.listPresence("coven")
        self.assertEqual(3, len(records))
        self.assertEqual(2, len(presences(await self.send(
            "<presence from='g0@d0.example/second' to='%s'/>" % (COVEN,)))))

    async def test_guestNicksDistinct(self):
        """
        AMB-43, NICK-2: a generated guest nick never clashes with another
        guest's.
        """
        nicks = iter(["samenick", "samenick", "othernick"])
        presenceOf(self.h)._generateNick = lambda: next(nicks)
        first = await self.guest("g1@d.example")
        second = await self.guest("g2@e.example")
        self.assertEqual("samenick", mixOf(first[0])[1])
        self.assertEqual("othernick", mixOf(second[0])[1])


class GuestLimitMemoryTests(MemoryStoreMixin, GuestLimitTestsMixin,
                            unittest.TestCase):
    pass


class GuestLimitPgsqlTests(PgsqlStoreMixin, GuestLimitTestsMixin,
                           unittest.TestCase):
    pass
