"""
Delivery routing (issue 6, L{mixtwisted.routing}): channel traffic to the
bare JID (MIX-PAM servers, XEP-0369 §7) or to the full JIDs of the user's
online clients (servers without MIX, as a MUC does), per user domain:
operator overrides, or the answer of the domain to a disco#info query.

The messages (MSG-5, MSG-6), presence (PRES-3, PRES-14, JOIN-10) and
bounce (DLV-1, DLV-4, PRES-9) requirements hold with the addresses
changed; the real JIDs stay hidden (VIS-6).
"""

from twisted.trial import unittest

from tests.helpers import (
    COVEN, DOMAIN, HAG66, HAG66_FULL, HECATE, HECATE_FULL, MIXTestMixin,
    MemoryStoreMixin, NODE_MESSAGES, NODE_PARTICIPANTS, NODE_PRESENCE,
    NS_DISCO_INFO, NS_MIX, child, groupchats, serviceSettings)
from tests.pgsql import PgsqlStoreMixin
from mixtwisted.handlers.messages import MessageHandler

SHAKESPEARE = "shakespeare.example"
HECATE_PHONE = HECATE + "/phone"
HAG66_PHONE = HAG66 + "/phone"

WITH_PRESENCE = (NODE_MESSAGES, NODE_PARTICIPANTS, NODE_PRESENCE)

PAM = "urn:xmpp:mix:pam:2"


def queries(stanzas):
    """
    The disco#info queries to user domains among C{stanzas}.
    """
    return [s for s in stanzas if s.name == "iq" and
            s.getAttribute("type") == "get" and
            child(s, NS_DISCO_INFO, "query") is not None and
            "@" not in s.getAttribute("to")]


def presences(stanzas, kind=None):
    return [s for s in stanzas if s.name == "presence" and
            s.getAttribute("type") == kind]


class RoutingTestsMixin(MIXTestMixin):
    """
    Channel coven created by hag66; hag66 and hecate joined with the
    presence node; hag66's nick is thirdwitch.
    """

    delivery = "auto"
    overrides = ()

    def makeSettings(self):
        return serviceSettings(delivery=self.delivery,
                               deliveryDomains=self.overrides)

    async def setUp(self):
        await MIXTestMixin.setUp(self)
        self.assertResult(await self.h.create())
        self.hagProxy = await self.proxyOf(HAG66, nodes=WITH_PRESENCE)
        await self.h.setnick(HAG66_FULL, "thirdwitch")
        self.hecateProxy = await self.proxyOf(HECATE, nodes=WITH_PRESENCE)
        await self.h.advance(0)
        self.sent = self.h.take()

    async def online(self, full):
        return await self.send("<presence from='%s' to='%s'/>"
                               % (full, COVEN))

    async def answer(self, query, features=(), sender=None, recipient=None,
                     iqId=None, kind="result"):
        body = "".join("<feature var='%s'/>" % (f,) for f in features)
        return await self.send(
            "<iq type='%s' id='%s' from='%s' to='%s'>"
            "<query xmlns='%s'>%s</query></iq>" % (
                kind, iqId or query["id"], sender or query["to"],
                recipient or query["from"], NS_DISCO_INFO, body))

    async def message(self, full=HAG66_FULL, mid="m1", body="hi"):
        return await self.send(
            "<message type='groupchat' id='%s' from='%s' to='%s'>"
            "<body>%s</body></message>" % (mid, full, COVEN, body))


class AutoTestsMixin(RoutingTestsMixin):

    async def test_askedOnceAndCached(self):
        """
        The user's domain is asked once (disco#info from the service
        domain, a fresh id); until it answers a user with no online client
        gets the copy at its bare JID (the spec's way); later messages ask
        nothing more.
        """
        out = await self.message()
        asked = queries(self.sent + out)
        self.assertEqual(1, len(asked))
        self.assertEqual(SHAKESPEARE, asked[0]["to"])
        self.assertEqual(DOMAIN, asked[0]["from"])
        self.assertGreaterEqual(len(asked[0]["id"]), 16)
        self.assertEqual([HAG66, HECATE],
                         sorted(m["to"] for m in groupchats(out)))
        out = await self.message(mid="m2")
        self.assertEqual([], queries(out))
        self.assertEqual(2, len(groupchats(out)))

    async def pending(self):
        asked = queries(self.sent + await self.message())
        self.assertEqual(1, len(asked))
        return asked[0]

    async def test_pamDomainBare(self):
        """
        A domain advertising MIX-PAM gets everything at bare JIDs
        (XEP-0369 §7), even for users whose clients sent presence.
        """
        query = await self.pending()
        await self.answer(query, ["http://jabber.org/protocol/disco#info",
                                  PAM])
        await self.online(HECATE_PHONE)
        out = await self.message(mid="m2")
        self.assertEqual([HAG66, HECATE],
                         sorted(m["to"] for m in groupchats(out)))

    async def test_accountFeatureBare(self):
        """
        XEP-0369 §7's urn:xmpp:mix:account:0 counts as MIX support too.
        """
        query = await self.pending()
        await self.answer(query, ["urn:xmpp:mix:account:0"])
        await self.online(HECATE_PHONE)
        out = await self.message(mid="m2")
        self.assertEqual([HAG66, HECATE],
                         sorted(m["to"] for m in groupchats(out)))

    async def test_nonPamDomainFull(self):
        """
        A domain without MIX: one copy per online client at its full JID
        (known from the presence it sent to the channel), none to any bare
        JID; the originator's own copies, with <submission-id/>, go to its
        online clients and to the client that sent the message.
        """
        query = await self.pending()
        await self.answer(query, ["http://jabber.org/protocol/disco#info"])
        await self.online(HECATE_FULL)
        await self.online(HECATE_PHONE)
        await self.online(HAG66_PHONE)
        out = groupchats(await self.message(mid="m2"))
        self.assertEqual(sorted([HECATE_FULL, HECATE_PHONE, HAG66_PHONE,
                                 HAG66_FULL]),
                         sorted(m["to"] for m in out))
        for m in out:
            submission = child(child(m, NS_MIX, "mix"), NS_MIX,
                               "submission-id")
            if m["to"].startswith(HAG66):
                self.assertEqual("m2", str(submission))
            else:
                self.assertIsNone(submission)
        # The copies are one stanza with the address changed.
        ids = {m["id"] for m in out}
        self.assertEqual(1, len(ids))

    async def test_errorAnswerFull(self):
        """
        An error answer counts as no MIX.
        """
        query = await self.pending()
        await self.answer(query, kind="error")
        await self.online(HECATE_FULL)
        out = groupchats(await self.message(mid="m2"))
        self.assertEqual(sorted([HECATE_FULL, HAG66_FULL]),
                         sorted(m["to"] for m in out))

    async def test_timeoutFull(self):
        """
        No answer within the time-out: no MIX.
        """
        await self.pending()
        await self.h.advance(31)
        await self.online(HECATE_FULL)
        out = groupchats(await self.message(mid="m2"))
        self.assertEqual(sorted([HECATE_FULL, HAG66_FULL]),
                         sorted(m["to"] for m in out))

    async def test_unknownWithOnlineClient(self):
        """
        While the domain is unknown, a user whose clients are online gets
        the copy at their full JIDs (they are there), not at its bare JID
        (no duplicate on a MIX server).
        """
        await self.online(HECATE_FULL)
        out = groupchats(await self.message())
        self.assertIn(HECATE_FULL, [m["to"] for m in out])
        self.assertNotIn(HECATE, [m["to"] for m in out])

    async def test_spoofedAnswersIgnored(self):
        """
        Only an answer with the query's id, from exactly the domain asked,
        to exactly the service domain counts.
        """
        query = await self.pending()
        await self.answer(query, [PAM], sender="evil.example")
        await self.answer(query, [PAM], sender=HAG66_FULL)
        await self.answer(query, [PAM], recipient=COVEN)
        await self.answer(query, [PAM], iqId="guessed")
        await self.online(HECATE_FULL)
        # Still unknown: the online client gets it at its full JID.
        out = groupchats(await self.message(mid="m2"))
        self.assertIn(HECATE_FULL, [m["to"] for m in out])
        # The real answer still counts.
        await self.answer(query, [PAM])
        out = groupchats(await self.message(mid="m3"))
        self.assertEqual([HAG66, HECATE], sorted(m["to"] for m in out))

    async def test_expiry(self):
        """
        A decision is kept for an hour (MIX) or ten minutes (none), then
        the domain is asked again, the old decision holding until the
        answer.
        """
        query = await self.pending()
        await self.answer(query, [PAM])
        await self.h.advance(3599)
        self.assertEqual([], queries(await self.message(mid="m2")))
        await self.h.advance(2)
        out = await self.message(mid="m3")
        again = queries(out)
        self.assertEqual(1, len(again))
        self.assertNotEqual(query["id"], again[0]["id"])
        self.assertEqual([HAG66, HECATE],
                         sorted(m["to"] for m in groupchats(out)))
        await self.answer(again[0])
        await self.online(HECATE_FULL)
        out = groupchats(await self.message(mid="m4"))
        self.assertEqual(sorted([HECATE_FULL, HAG66_FULL]),
                         sorted(m["to"] for m in out))
        await self.h.advance(599)
        self.assertEqual([], queries(await self.message(mid="m5")))
        await self.h.advance(2)
        self.assertEqual(1, len(queries(await self.message(mid="m6"))))


class AutoMemoryTests(MemoryStoreMixin, AutoTestsMixin, unittest.TestCase):
    pass


class AutoPgsqlTests(PgsqlStoreMixin, AutoTestsMixin, unittest.TestCase):
    pass


class FullTestsMixin(RoutingTestsMixin):
    """
    The operator set C{full} for shakespeare.example (the default stays
    C{auto}): nothing is asked.
    """

    overrides = ((SHAKESPEARE, "full"),)

    async def test_noQuery(self):
        await self.online(HECATE_FULL)
        out = await self.message()
        self.assertEqual([], queries(self.sent + out))
        self.assertEqual(sorted([HECATE_FULL, HAG66_FULL]),
                         sorted(m["to"] for m in groupchats(out)))

    async def test_noOnlineClientNothingLive(self):
        """
        A participant with no online client gets nothing live; its MAM
        catch-up has the message (MSG-4).
        """
        out = groupchats(await self.message())
        self.assertEqual([HAG66_FULL], [m["to"] for m in out])
        response = await self.h.iq(
            "<iq type='set' id='q' from='%s' to='%s'>"
            "<query xmlns='urn:xmpp:mam:2'/></iq>" % (HECATE_FULL, COVEN))
        self.assertResult(response)
        results = [s for s in self.h.take() if s.name == "message"]
        self.assertEqual(1, len(results))
        self.assertEqual(HECATE_FULL, results[0]["to"])

    async def test_presenceToFullJIDs(self):
        """
        PRES-3, PRES-14 at full JIDs: a client's presence goes to every
        online client of the presence subscribers, never to a bare JID;
        a client becoming known gets the current presence (JOIN-10, as a
        MUC's occupant list).
        """
        out = presences(await self.online(HAG66_FULL))
        # hecate has no online client yet: only hag66's own client.
        self.assertEqual([HAG66_FULL], [p["to"] for p in out])
        out = presences(await self.online(HECATE_FULL))
        to = sorted(p["to"] for p in out)
        # hecate's presence to both clients, and hag66's to hecate's
        # client (the dump).
        self.assertEqual(sorted([HAG66_FULL, HECATE_FULL, HECATE_FULL]), to)
        dump = [p for p in out if p["to"] == HECATE_FULL and
                p["from"].startswith(self.hagProxy)]
        self.assertEqual(1, len(dump))
        out = await self.send("<presence type='unavailable' from='%s' "
                              "to='%s'/>" % (HECATE_FULL, COVEN))
        self.assertEqual([HAG66_FULL],
                         [p["to"] for p in presences(out, "unavailable")])

    async def test_messageBounceFromFullJID(self):
        """
        A copy to a full JID bounced (even with a transient error): the
        client is gone -- its item is removed with unavailable (PRES-9);
        nothing is held, no marker, no retransmission (DLV-4 does not
        apply).
        """
        await self.online(HECATE_FULL)
        await self.online(HAG66_FULL)
        out = groupchats(await self.message())
        archiveId = out[0]["id"]
        out = await self.send(
            "<message type='error' id='%s' from='%s' to='%s'>"
            "<error type='wait'><remote-server-timeout "
            "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
            "</message>" % (archiveId, HECATE_FULL, COVEN))
        self.assertEqual([HAG66_FULL],
                         [p["to"] for p in presences(out, "unavailable")])
        await self.h.advance(700)
        out = self.h.take()
        self.assertEqual([], [s for s in out if s.name == "iq" and
                              s.getAttribute("type") == "get"])
        handler = [h for h in self.h.handlers
                   if isinstance(h, MessageHandler)][0]
        self.assertEqual({}, handler.deliveries.held)
        # hecate's client is no longer known online: nothing live.
        out = groupchats(await self.message(mid="m2"))
        self.assertEqual([HAG66_FULL], [m["to"] for m in out])

    async def test_presenceBounceFromFullJID(self):
        """
        PRES-9: a presence error from a client's full JID to a full proxy
        JID (presence the channel sent it) removes its item.
        """
        await self.online(HECATE_FULL)
        out = presences(await self.online(HAG66_FULL))
        toHecate = [p for p in out if p["to"] == HECATE_FULL][0]
        out = await self.send(
            "<presence type='error' from='%s' to='%s'><error type='cancel'>"
            "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-"
            "stanzas'/></error></presence>" % (HECATE_FULL,
                                              toHecate["from"]))
        self.assertEqual([HAG66_FULL],
                         [p["to"] for p in presences(out, "unavailable")])

    async def test_noLeak(self):
        """
        VIS-6: in the jid-hidden channel, nothing sent to hecate's clients
        names hag66's real JID, nor the other way round.
        """
        sent = []
        sent += self.h.raw()
        await self.h.receive("<presence from='%s' to='%s'/>"
                             % (HAG66_FULL, COVEN))
        await self.h.receive("<presence from='%s' to='%s'/>"
                             % (HECATE_FULL, COVEN))
        await self.message()
        await self.message(HECATE_FULL, mid="m2")
        await self.h.receive("<presence type='unavailable' from='%s' "
                             "to='%s'/>" % (HAG66_FULL, COVEN))
        sent += self.h.raw()
        self.assertTrue(sent)
        for xml in sent:
            if "to='%s'" % (HECATE_FULL,) in xml:
                self.assertNotIn("hag66", xml)
                self.assertNotIn("7533", xml)
            if "to='%s'" % (HAG66_FULL,) in xml:
                self.assertNotIn("hecate", xml)
                self.assertNotIn("2491", xml)


class FullMemoryTests(MemoryStoreMixin, FullTestsMixin, unittest.TestCase):
    pass


class FullPgsqlTests(PgsqlStoreMixin, FullTestsMixin, unittest.TestCase):
    pass


class BareTestsMixin(RoutingTestsMixin):
    """
    C{bare} for every domain: the spec's way, nothing asked.
    """

    delivery = "bare"

    async def test_bare(self):
        await self.online(HECATE_FULL)
        out = await self.message()
        self.assertEqual([], queries(self.sent + out))
        self.assertEqual([HAG66, HECATE],
                         sorted(m["to"] for m in groupchats(out)))
        self.assertEqual(
            [HAG66, HECATE],
            sorted(p["to"] for p in presences(await self.online(
                HAG66_FULL))))


class BareMemoryTests(MemoryStoreMixin, BareTestsMixin, unittest.TestCase):
    pass


class BarePgsqlTests(PgsqlStoreMixin, BareTestsMixin, unittest.TestCase):
    pass
