"""
Delivery routing (issue 6, L{mixtwisted.routing}): channel traffic to the
bare JID (MIX-PAM servers, XEP-0369 §7) or to the full JIDs of the user's
online clients (servers without MIX, as a MUC does), per user domain:
operator overrides, or the answer of the domain to a disco#info query.

The messages (MSG-5, MSG-6), presence (PRES-3, PRES-14, JOIN-10) and
bounce (DLV-1, DLV-4, PRES-9) requirements hold with the addresses
changed; the real JIDs stay hidden (VIS-6).
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.helpers import (
    COVEN, DOMAIN, HAG66, HAG66_FULL, HECATE, HECATE_FULL, MIXTestMixin,
    MemoryStoreMixin, NODE_MESSAGES, NODE_PARTICIPANTS, NODE_PRESENCE,
    NS_DISCO_INFO, NS_MIX, child, groupchats, serviceSettings, startHarness,
    submitForm)
from tests.pgsql import PgsqlStoreMixin
from mixtwisted.handlers.messages import MessageHandler
from mixtwisted.handlers.presence import PresenceHandler

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


def checks(stanzas, to):
    """
    The ghost checks (disco#info from the channel JID) to C{to} among
    C{stanzas}.
    """
    return [s for s in stanzas if s.name == "iq" and
            s.getAttribute("type") == "get" and
            child(s, NS_DISCO_INFO, "query") is not None and
            s.getAttribute("to") == to and s.getAttribute("from") == COVEN]


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

    async def bounce(self, archiveId, sender, condition,
                     errorType="wait"):
        return await self.send(
            "<message type='error' id='%s' from='%s' to='%s'>"
            "<error type='%s'><%s xmlns='urn:ietf:params:xml:ns:xmpp-"
            "stanzas'/></error></message>" % (archiveId, sender, COVEN,
                                             errorType, condition))

    async def ghostAnswer(self, check, kind="result"):
        return await self.send(
            "<iq type='%s' id='%s' from='%s' to='%s'><query xmlns='%s'/>"
            "</iq>" % (kind, check["id"], check["to"], check["from"],
                       NS_DISCO_INFO))

    def handler(self, kind):
        return [h for h in self.h.handlers if isinstance(h, kind)][0]


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

    async def test_errorAnswerUnknown(self):
        """
        An error answer decides nothing: the domain stays unknown (full
        JIDs of online clients, else the bare JID) and is asked again
        after a minute.
        """
        query = await self.pending()
        await self.answer(query, kind="error")
        await self.online(HECATE_FULL)
        out = await self.message(mid="m2")
        self.assertEqual([], queries(out))
        self.assertEqual(sorted([HECATE_FULL, HAG66]),
                         sorted(m["to"] for m in groupchats(out)))
        await self.h.advance(61)
        self.assertEqual(1, len(queries(await self.message(mid="m3"))))

    async def test_timeoutUnknown(self):
        """
        No answer within the time-out: the same.
        """
        await self.pending()
        await self.h.advance(31)
        await self.online(HECATE_FULL)
        out = await self.message(mid="m2")
        self.assertEqual([], queries(out))
        self.assertEqual(sorted([HECATE_FULL, HAG66]),
                         sorted(m["to"] for m in groupchats(out)))

    async def test_failedRecheckKeepsDecision(self):
        """
        The re-check of a domain known to have MIX failing (an error, no
        answer: the domain briefly unreachable, the query lost while the
        stream was down) keeps the decision, and asks again later with a
        growing delay; only a result without the features decides full.
        """
        query = await self.pending()
        await self.answer(query, [PAM])
        await self.online(HECATE_FULL)
        await self.h.advance(3601)
        again = queries(await self.message(mid="m2"))
        self.assertEqual(1, len(again))
        await self.answer(again[0], kind="error")
        out = await self.message(mid="m3")
        self.assertEqual([HAG66, HECATE],
                         sorted(m["to"] for m in groupchats(out)))
        await self.h.advance(61)
        again = queries(await self.message(mid="m4"))
        self.assertEqual(1, len(again))
        await self.h.advance(31)
        out = await self.message(mid="m5")
        self.assertEqual([], queries(out))
        self.assertEqual([HAG66, HECATE],
                         sorted(m["to"] for m in groupchats(out)))
        # Twice the wait after the second failure in a row.
        await self.h.advance(100)
        self.assertEqual([], queries(await self.message(mid="m6")))
        await self.h.advance(30)
        again = queries(await self.message(mid="m7"))
        self.assertEqual(1, len(again))
        await self.answer(again[0], ["http://jabber.org/protocol/disco#info"])
        # (Its earlier item went unanswered to the hourly ghost check.)
        await self.online(HECATE_FULL)
        out = await self.message(mid="m8")
        self.assertEqual(sorted([HECATE_FULL, HAG66_FULL]),
                         sorted(m["to"] for m in groupchats(out)))

    async def test_bounceAsksNothing(self):
        """
        A message error from anyone (not a recipient, no archive id) never
        makes the service ask that sender's domain.
        """
        out = await self.bounce("x", "e@evil.example/r",
                                "service-unavailable", "cancel")
        self.assertEqual([], queries(out))

    async def test_noHoldUnlessBare(self):
        """
        DLV-4 holds and retransmits to the bare JID: a user whose domain
        is undecided is not held; one held while its domain delivered to
        bare JIDs is dropped when the domain turns out not to.
        """
        out = await self.message()
        query = queries(self.sent + out)[0]
        toHecate = [m for m in groupchats(out) if m["to"] == HECATE][0]
        await self.bounce(toHecate["id"], HECATE, "remote-server-timeout")
        deliveries = self.handler(MessageHandler).deliveries
        self.assertEqual({}, deliveries.held)
        await self.answer(query, [PAM])
        out = await self.message(mid="m2")
        toHecate = [m for m in groupchats(out) if m["to"] == HECATE][0]
        await self.bounce(toHecate["id"], HECATE, "remote-server-timeout")
        self.assertIn(HECATE, deliveries.held.get("coven", {}))
        await self.h.advance(3601)
        self.h.take()
        again = queries(await self.message(mid="m3"))
        self.assertEqual(1, len(again))
        await self.answer(again[0], ["http://jabber.org/protocol/disco#info"])
        self.assertEqual({}, deliveries.held)
        self.assertEqual([], await self.h.store.listPending("coven", HECATE))
        await self.online(HECATE_FULL)
        out = groupchats(await self.message(mid="m4"))
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
        # The client going gets its own unavailable too.
        self.assertEqual(sorted([HAG66_FULL, HECATE_FULL]),
                         sorted(p["to"] for p in presences(out,
                                                           "unavailable")))

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
        out = await self.bounce(archiveId, HECATE_FULL,
                                "recipient-unavailable")
        self.assertEqual(sorted([HAG66_FULL, HECATE_FULL]),
                         sorted(p["to"] for p in presences(out,
                                                           "unavailable")))
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
        self.assertEqual(sorted([HAG66_FULL, HECATE_FULL]),
                         sorted(p["to"] for p in presences(out,
                                                           "unavailable")))

    async def test_restartConfirmedByCheck(self):
        """
        After a restart (or reconnection) the probe to a bare JID gets no
        answer from a server without MIX (the channel is not in the
        user's roster, RFC 6121 §4.3): each item of a user reached at full
        JIDs is checked at once (disco#info to the client); a result
        confirms it past the grace period, no answer removes it.
        """
        await self.online(HECATE_FULL)
        await self.online(HAG66_FULL)
        self.h = await startHarness(self.h.store, self.h.settings)
        sent = self.h.take()
        hecate = checks(sent, HECATE_FULL)
        self.assertEqual(1, len(hecate))
        self.assertEqual(1, len(checks(sent, HAG66_FULL)))
        for probe in presences(sent, "probe"):
            await self.send("<presence type='unsubscribed' from='%s' "
                            "to='%s'/>" % (probe["to"], probe["from"]))
        await self.ghostAnswer(hecate[0])
        await self.h.advance(31)
        out = self.h.take()
        # hag66's client did not answer: gone, and told so.
        self.assertEqual(sorted([HAG66_FULL, HECATE_FULL]),
                         sorted(p["to"] for p in presences(out,
                                                           "unavailable")))
        await self.h.advance(200)
        self.assertEqual([], presences(self.h.take(), "unavailable"))
        out = groupchats(await self.message(HECATE_FULL, mid="m2"))
        self.assertEqual([HECATE_FULL], [m["to"] for m in out])

    async def test_nodeRemovedUnavailable(self):
        """
        The presence node taken out: every online client gets the
        unavailable of every item (addressed before they are forgotten).
        """
        await self.online(HECATE_FULL)
        await self.online(HAG66_FULL)
        response = await self.h.iq(
            "<iq type='set' id='cf' from='%s' to='%s'><pubsub xmlns='"
            "http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:"
            "mix:nodes:config'><item>%s</item></publish></pubsub></iq>" % (
                HAG66_FULL, COVEN, submitForm(
                    ("Nodes Present", ["participants", "information"]))))
        self.assertResult(response)
        out = presences(self.h.take(), "unavailable")
        self.assertEqual(sorted([HAG66_FULL, HAG66_FULL, HECATE_FULL,
                                 HECATE_FULL]),
                         sorted(p["to"] for p in out))

    async def test_unreachableBounceChecked(self):
        """
        D-65: a full-JID copy bounced with remote-server-* (the client's
        server maybe briefly unreachable) does not remove the client at
        once: it is checked a minute later, and kept if it answers.
        """
        await self.online(HECATE_FULL)
        await self.online(HAG66_FULL)
        out = groupchats(await self.message())
        out = await self.bounce(out[0]["id"], HECATE_FULL,
                                "remote-server-timeout")
        self.assertEqual([], presences(out, "unavailable"))
        await self.h.advance(59)
        self.assertEqual([], checks(self.h.take(), HECATE_FULL))
        await self.h.advance(1)
        check = checks(self.h.take(), HECATE_FULL)
        self.assertEqual(1, len(check))
        await self.ghostAnswer(check[0])
        out = groupchats(await self.message(mid="m2"))
        self.assertEqual(sorted([HECATE_FULL, HAG66_FULL]),
                         sorted(m["to"] for m in out))
        await self.bounce(out[0]["id"], HECATE_FULL,
                          "remote-server-not-found", "cancel")
        await self.h.advance(60)
        check = checks(self.h.take(), HECATE_FULL)
        out = await self.ghostAnswer(check[0], "error")
        self.assertEqual(sorted([HAG66_FULL, HECATE_FULL]),
                         sorted(p["to"] for p in presences(out,
                                                           "unavailable")))

    async def test_reindexMerges(self):
        """
        On reconnection the clients are indexed again from the stored
        items under the channel's key: a presence stored meanwhile is not
        lost from the index.
        """
        presence = self.handler(PresenceHandler).presence
        tracker = self.h.tracker
        real = tracker.listPresence
        held = defer.Deferred()

        def gated(*args, **kwargs):
            del tracker.listPresence
            results = []
            real(*args, **kwargs).addCallback(results.append)
            held.addCallback(lambda _: results[0])
            return held
        tracker.listPresence = gated
        d = presence.online()
        await self.h.settle()
        await self.h.receive("<presence from='%s' to='%s'/>"
                             % (HECATE_FULL, COVEN))
        await self.h.settle()
        held.callback(None)
        await d
        await self.h.settle()
        self.h.take()
        out = groupchats(await self.message())
        self.assertIn(HECATE_FULL, [m["to"] for m in out])

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
