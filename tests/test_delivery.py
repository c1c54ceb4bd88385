"""
Ensuring message delivery (requirements.md 1.19 DLV-1..4, AMB-36; XEP-0369
§6.3): bounced reflections kept pending, C{<marker/>} IQs with exponential
back-off on the service's C{Clock}, ordered retransmission, the limits,
forgetting, restart, presence bounces.
"""

from twisted.internet import defer
from twisted.python import log
from twisted.trial import unittest

from mixtwisted.handlers.delivery import DeliveryHandler
from tests.helpers import (
    CAT, COVEN, DOMAIN, HAG66, HAG66_FULL, HECATE, HECATE_FULL,
    MIXTestMixin, MemoryStoreMixin, NODE_MESSAGES, NODE_PARTICIPANTS,
    NODE_PRESENCE, NS_MIX, NS_SID, child, groupchats, startHarness)
from tests.pgsql import PgsqlStoreMixin
from tests.test_presence import presences

WITH_PRESENCE = (NODE_MESSAGES, NODE_PARTICIPANTS, NODE_PRESENCE)

#: The stanza-error namespace, spelled out.
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"

#: Defaults of Limits the tests rely on: first marker after 5 s, doubling
#: up to 600 s, 60 s to answer.
FIRST, CAP, TIMEOUT = 5.0, 600.0, 60.0


def bounce(mid, condition="remote-server-timeout", errorType="wait",
           sender=HECATE, to=COVEN):
    """
    A message error as the XMPP server returns a reflection it could not
    deliver (DLV-1).
    """
    return ("<message type='error' id='%s' from='%s' to='%s'>"
            "<body>Harpier cries</body><error type='%s'>"
            "<%s xmlns='%s'/></error></message>"
            % (mid, sender, to, errorType, condition, NS_STANZAS))


def markers(stanzas):
    """
    The marker IQs among C{stanzas}.
    """
    return [s for s in stanzas if s.name == "iq" and
            child(s, NS_MIX, "marker") is not None]


class DeliveryTestsMixin(MIXTestMixin):
    """
    Channel coven; hag66 (nick thirdwitch) and hecate (nick hecate) joined
    with the messages, participants and presence nodes.
    """

    async def setUp(self):
        await MIXTestMixin.setUp(self)
        self.assertResult(await self.h.create())
        self.assertResult(await self.h.join(HAG66, nodes=WITH_PRESENCE))
        self.assertResult(await self.h.join(HECATE, nodes=WITH_PRESENCE))
        await self.h.setnick(HAG66_FULL, "thirdwitch")
        await self.h.setnick(HECATE_FULL, "hecate")
        await self.h.advance(0)
        self.h.take()
        self.logged = []
        log.addObserver(self._observe)
        self.addCleanup(log.removeObserver, self._observe)

    def _observe(self, event):
        if event.get("message"):
            self.logged.append(" ".join(str(m) for m in event["message"]))

    def deliveries(self, harness=None):
        harness = harness or self.h
        for handler in harness.handlers:
            if isinstance(handler, DeliveryHandler):
                return handler.deliveries
        raise AssertionError("no delivery handler")

    def deliveryCalls(self, harness=None):
        """
        The delayed calls of the delivery logic on the harness's clock.
        """
        harness = harness or self.h
        deliveries = self.deliveries(harness)
        return [c for c in harness.clock.getDelayedCalls()
                if getattr(c.func, "__self__", None) is deliveries]

    async def say(self, body, mid="m1", sender=HAG66_FULL):
        """
        Send a groupchat message; return C{(archive id, stanzas sent)}.
        """
        await self.h.message(sender, body, mid)
        out = self.h.take()
        own = [s for s in groupchats(out) if s["to"] == HAG66]
        archiveId = own[0]["id"] if own else \
            groupchats(out)[0]["id"]
        return archiveId, out

    def copiesTo(self, stanzas, bare):
        return [s for s in groupchats(stanzas) if s["to"] == bare]

    async def nextMarker(self, before, to=HECATE, harness=None):
        """
        Check that nothing is sent during C{before} seconds less one, then
        that exactly one marker (and nothing else) goes at C{before};
        return it.
        """
        harness = harness or self.h
        await harness.advance(before - 1)
        self.assertEqual([], harness.take())
        await harness.advance(1)
        out = harness.take()
        self.assertEqual(1, len(out), [s.toXml() for s in out])
        marker = markers(out)
        self.assertEqual(1, len(marker), out[0].toXml())
        self.assertEqual(to, marker[0]["to"])
        return marker[0]

    async def answer(self, marker, kind="result", condition=None,
                     errorType="cancel", sender=None, to=None, iqId=None,
                     harness=None):
        """
        Answer a marker; return what the service sent.
        """
        harness = harness or self.h
        error = ""
        if condition is not None:
            kind = "error"
            error = ("<error type='%s'><%s xmlns='%s'/></error>"
                     % (errorType, condition, NS_STANZAS))
        await harness.receive(
            "<iq type='%s' id='%s' from='%s' to='%s'>%s</iq>"
            % (kind, iqId or marker["id"], sender or marker["to"],
               to or marker["from"], error))
        return harness.take()

    async def held(self, mid="m1", condition="remote-server-timeout",
                   errorType="wait", to=HECATE):
        """
        hag66 says something, whose copy to C{to} bounces; return its
        archive id.
        """
        archiveId, _ = await self.say("Harpier cries", mid)
        self.assertEqual([], await self.send(
            bounce(archiveId, condition, errorType, sender=to)))
        return archiveId

    # Bounces (DLV-1, DLV-2, DLV-4)

    async def assertMarkerAfterBounce(self, condition, errorType):
        archiveId, out = await self.say("Harpier cries")
        self.assertEqual(1, len(self.copiesTo(out, HECATE)))
        # An error is never answered (ERR-6).
        self.assertEqual([], await self.send(
            bounce(archiveId, condition, errorType)))
        marker = await self.nextMarker(FIRST)
        self.assertEqual("get", marker["type"])
        self.assertEqual(COVEN, marker["from"])
        self.assertEqual(HECATE, marker["to"])
        self.assertGreaterEqual(len(marker["id"]), 16)
        self.assertNotEqual(archiveId, marker["id"])
        self.assertEqual(["marker"], [c.name for c in marker.elements()])
        self.assertEqual([], list(child(marker, NS_MIX, "marker").elements()))

    async def test_remoteServerTimeout(self):
        """
        DLV-1, DLV-2, DLV-4: a reflection bounced with
        C{remote-server-timeout} is not answered; a few seconds later the
        channel sends C{<iq type='get'><marker xmlns='urn:xmpp:mix:1'/>
        </iq>} from the channel JID to the recipient's bare JID, with a
        fresh id.
        """
        await self.assertMarkerAfterBounce("remote-server-timeout", "wait")

    async def test_remoteServerNotFound(self):
        """
        DLV-4, AMB-36: C{remote-server-not-found} (type cancel) is
        transient too.
        """
        await self.assertMarkerAfterBounce("remote-server-not-found",
                                           "cancel")

    async def test_anyWaitError(self):
        """
        DLV-4, AMB-36: any error of type C{wait} is transient.
        """
        await self.assertMarkerAfterBounce("resource-constraint", "wait")

    async def test_permanentErrorNotRetried(self):
        """
        DLV-4, AMB-36: a bounce with another error (C{item-not-found},
        cancel) is logged and not retried: no marker, nothing held; later
        messages go to the recipient at once.
        """
        archiveId = await self.held(condition="item-not-found",
                                    errorType="cancel")
        await self.h.advance(3600)
        self.assertEqual([], self.h.take())
        self.assertTrue([m for m in self.logged
                         if archiveId in m and "not retried" in m],
                        self.logged)
        _, out = await self.say("Fillet of a fenny snake", "m2")
        self.assertEqual(1, len(self.copiesTo(out, HECATE)))
        self.assertEqual([], self.deliveryCalls())

    async def test_fromFullJID(self):
        """
        DLV-1: what counts is the bare JID of the bounce's sender.
        """
        archiveId, _ = await self.say("Harpier cries")
        self.assertEqual([], await self.send(
            bounce(archiveId, sender=HECATE_FULL)))
        await self.nextMarker(FIRST)

    async def test_bounceIgnored(self):
        """
        DLV-1: a message error that is no bounce of an archived message to
        a recipient is ignored, without output: an id that is no archive
        id of the channel, a sender that is no recipient, an error to a
        proxy JID (private messages are never archived), to a full channel
        JID, to another channel or to the service.
        """
        archiveId, _ = await self.say("Harpier cries")
        hecateProxy = (await self.h.join(HECATE)).join["jid"]
        self.h.take()
        self.assertResult(await self.h.create("other"))
        self.h.take()
        for stanza in (
                bounce("not-an-archive-id"),
                bounce(archiveId, sender=CAT),
                bounce(archiveId, sender="shakespeare.example"),
                bounce(archiveId, to=hecateProxy),
                bounce(archiveId, to=hecateProxy + "/res"),
                bounce(archiveId, to=COVEN + "/res"),
                bounce(archiveId, to="other@" + DOMAIN),
                bounce(archiveId, to=DOMAIN),
                "<message type='error' from='%s' to='%s'><error type='wait'>"
                "<remote-server-timeout xmlns='%s'/></error></message>"
                % (HECATE, COVEN, NS_STANZAS)):
            self.assertEqual([], await self.send(stanza), stanza)
        await self.h.advance(3600)
        self.assertEqual([], self.h.take())
        self.assertEqual([], self.deliveryCalls())

    async def test_notificationBounceIgnored(self):
        """
        DLV-1: only entries of the messages archive are retransmitted; a
        bounced PubSub notification (its id is no messages archive id) is
        ignored.
        """
        await self.h.join(CAT, nodes=(NODE_MESSAGES,))
        events = [s for s in self.h.take() if s["to"] == HECATE]
        self.assertTrue(events)
        for event in events:
            self.assertEqual([], await self.send(bounce(event["id"])))
        await self.h.advance(3600)
        self.assertEqual([], self.h.take())

    # Retransmission (DLV-3, DLV-4)

    async def test_resultRetransmits(self):
        """
        DLV-3, DLV-4: while hecate is held, later messages are not sent to
        her (others get theirs); a result to the marker brings the pending
        messages, as archived, with their original ids, in order, the
        message sent meanwhile after the bounced one; then she is
        released: a new message goes at once, no marker follows.
        """
        first, out = await self.say("Harpier cries", "m1")
        original = self.copiesTo(out, HECATE)[0]
        await self.send(bounce(first))
        second, out = await self.say("Fillet of a fenny snake", "m2")
        self.assertEqual([], self.copiesTo(out, HECATE))
        self.assertEqual(1, len(self.copiesTo(out, HAG66)))
        marker = await self.nextMarker(FIRST)
        out = await self.answer(marker)
        self.assertEqual([first, second], [s["id"] for s in out])
        self.assertEqual({HECATE}, {s["to"] for s in out})
        self.assertEqual({COVEN}, {s["from"] for s in out})
        self.assertEqual(original.toXml(), out[0].toXml())
        self.assertEqual("Fillet of a fenny snake", str(out[1].body))
        self.assertEqual(second, child(out[1], NS_SID, "stanza-id")["id"])
        third, out = await self.say("In the cauldron boil and bake", "m3")
        self.assertEqual(1, len(self.copiesTo(out, HECATE)))
        await self.h.advance(3600)
        self.assertEqual([], self.h.take())
        self.assertEqual([], self.deliveryCalls())
        self.assertEqual(0, self.deliveries().pendingMarkers())
        self.assertEqual([], await self.h.store.listPending("coven", HECATE))

    async def test_pendingPersisted(self):
        """
        DLV-1: pending messages are kept in the store, in archive order.
        """
        first = await self.held()
        second, _ = await self.say("Fillet of a fenny snake", "m2")
        self.assertEqual([first, second],
                         await self.h.store.listPending("coven", HECATE))

    async def test_serviceUnavailableIsUp(self):
        """
        DLV-4, AMB-36: a marker answered with an error other than
        C{remote-server-*} (C{service-unavailable} from a server that does
        not know C{<marker/>}) proves the path works.
        """
        first = await self.held()
        marker = await self.nextMarker(FIRST)
        out = await self.answer(marker, condition="service-unavailable")
        self.assertEqual([first], [s["id"] for s in out])

    async def test_backOff(self):
        """
        DLV-4: a marker answered C{remote-server-timeout} or
        C{remote-server-not-found} is sent again after twice the wait,
        5, 10, 20, ... seconds, at most 600; nothing is retransmitted
        meanwhile; every marker has its own id.
        """
        first = await self.held()
        delay, ids = FIRST, set()
        conditions = ["remote-server-timeout", "remote-server-not-found"]
        for step in range(10):
            marker = await self.nextMarker(delay)
            ids.add(marker["id"])
            self.assertEqual([], await self.answer(
                marker, condition=conditions[step % 2], errorType="wait"))
            delay = min(delay * 2, CAP)
        self.assertEqual(CAP, delay)
        self.assertEqual(10, len(ids))
        marker = await self.nextMarker(CAP)
        out = await self.answer(marker)
        self.assertEqual([first], [s["id"] for s in out])

    async def test_markerTimeout(self):
        """
        DLV-4: a marker without response within 60 seconds counts as
        failed (the next one after twice the wait); its late response
        changes nothing.
        """
        await self.held()
        late = await self.nextMarker(FIRST)
        await self.h.advance(TIMEOUT - 1)
        self.assertEqual(1, self.deliveries().pendingMarkers())
        await self.h.advance(1)
        self.assertEqual([], self.h.take())
        self.assertEqual(0, self.deliveries().pendingMarkers())
        await self.nextMarker(2 * FIRST)
        self.assertEqual([], await self.answer(late))
        self.assertEqual(1, self.deliveries().pendingMarkers())

    async def test_spoofedResponses(self):
        """
        DLV-4: only a response with the marker's id, from exactly the
        recipient's bare JID, to exactly the channel JID counts: a wrong
        sender (another user, the recipient's full JID, its server), a
        wrong recipient (a full channel JID, another channel) or a wrong
        id changes nothing and is not answered; the marker still works.
        """
        first = await self.held()
        marker = await self.nextMarker(FIRST)
        for kw in ({"sender": CAT}, {"sender": HECATE_FULL},
                   {"sender": "shakespeare.example"},
                   {"to": COVEN + "/x"}, {"to": "other@" + DOMAIN},
                   {"to": DOMAIN}, {"iqId": marker["id"] + "x"},
                   {"iqId": marker["id"].upper()}):
            self.assertEqual([], await self.answer(marker, **kw), kw)
        self.assertEqual(1, self.deliveries().pendingMarkers())
        out = await self.answer(marker)
        self.assertEqual([first], [s["id"] for s in out])
        self.assertEqual([], await self.answer(marker))

    async def test_retransmissionBouncesAgain(self):
        """
        DLV-1: a retransmitted message that bounces again is pending again
        (no loss): a new marker, and it comes once the path works.
        """
        first = await self.held()
        out = await self.answer(await self.nextMarker(FIRST))
        self.assertEqual([first], [s["id"] for s in out])
        self.assertEqual([], await self.send(bounce(first)))
        second, out = await self.say("Fillet of a fenny snake", "m2")
        self.assertEqual([], self.copiesTo(out, HECATE))
        out = await self.answer(await self.nextMarker(FIRST))
        self.assertEqual([first, second], [s["id"] for s in out])

    async def test_bounceWhileRetransmitting(self):
        """
        DLV-1, DLV-4: a bounce that comes while the pending messages are
        being retransmitted (here a late one, of a message sent before the
        first failure) means the path failed again: the batch under way
        goes out, then markers resume, and the newly pending message
        follows the next result.
        """
        early, _ = await self.say("Round about the cauldron go", "m0")
        first = await self.held()
        second, _ = await self.say("Fillet of a fenny snake", "m2")
        # Hold the retransmission at its removal of the batch from the
        # store (an untracked call, so that the harness does not wait).
        tracker = self.h.tracker
        real = tracker.removePending
        gate = defer.Deferred()

        def gated(*args, **kwargs):
            del tracker.removePending
            gate.addCallback(lambda _: real(*args, **kwargs))
            return gate
        tracker.removePending = gated
        marker = await self.nextMarker(FIRST)
        self.assertEqual([], await self.answer(marker))
        self.assertEqual([], await self.send(bounce(early)))
        gate.callback(None)
        await self.h.settle()
        out = self.h.take()
        self.assertEqual([first, second], [s["id"] for s in out])
        out = await self.answer(await self.nextMarker(FIRST))
        self.assertEqual([early], [s["id"] for s in out])
        self.assertEqual([], self.deliveryCalls())

    async def test_originatorBounce(self):
        """
        DLV-1, AMB-53: the originator's own copy is handled the same: its
        later copies are held too, and retransmitted as archived (without
        C{<submission-id/>}) once its path works; the others get theirs
        meanwhile.
        """
        first = await self.held(to=HAG66)
        second, out = await self.say("Fillet of a fenny snake", "m2")
        self.assertEqual([], self.copiesTo(out, HAG66))
        self.assertEqual(1, len(self.copiesTo(out, HECATE)))
        marker = await self.nextMarker(FIRST, to=HAG66)
        out = await self.answer(marker)
        self.assertEqual([first, second], [s["id"] for s in out])
        self.assertEqual({HAG66}, {s["to"] for s in out})
        self.assertIsNone(child(child(out[1], NS_MIX, "mix"), NS_MIX,
                                "submission-id"))

    async def test_retractionNoticeQueued(self):
        """
        DLV-4: a retraction notice is a message of the archive like any
        other: held recipients get it after their pending messages; the
        retracted message comes as its tombstone.
        """
        first = await self.held()
        await self.h.receive(
            "<message type='groupchat' id='r1' from='%s' to='%s'>"
            "<retract xmlns='%s' id='%s'/></message>"
            % (HAG66_FULL, COVEN, NS_MIX, first))
        out = self.h.take()
        self.assertEqual([], self.copiesTo(out, HECATE))
        notice = self.copiesTo(out, HAG66)[0]["id"]
        out = await self.answer(await self.nextMarker(FIRST))
        self.assertEqual([first, notice], [s["id"] for s in out])
        self.assertIsNone(out[0].body)
        self.assertIsNotNone(child(out[0], NS_MIX, "retracted"))

    # Limits

    async def test_maxPending(self):
        """
        DLV-4: past C{maxPendingPerRecipient} pending messages, all of the
        recipient's are dropped, the drop logged once with channel,
        recipient and count, and the recipient released: later messages
        go at once, no marker follows.
        """
        self.h.settings.limits.maxPendingPerRecipient = 3
        await self.held()
        for number in range(2, 5):
            _, out = await self.say("Line %d" % (number,), "m%d" % number)
        # The fourth pending one was too many.
        self.assertEqual([], self.copiesTo(out, HECATE))
        drops = [m for m in self.logged if "given up" in m]
        self.assertEqual(1, len(drops), self.logged)
        self.assertIn(HECATE, drops[0])
        self.assertIn("coven", drops[0])
        self.assertIn("4 pending", drops[0])
        self.assertEqual([], await self.h.store.listPending("coven", HECATE))
        self.assertEqual([], self.deliveryCalls())
        _, out = await self.say("Line 5", "m5")
        self.assertEqual(1, len(self.copiesTo(out, HECATE)))
        await self.h.advance(3600)
        self.assertEqual([], self.h.take())

    async def test_maxAge(self):
        """
        DLV-4: once the first failure is older than C{maxPendingAge}, no
        marker goes: the pending messages are dropped, logged once, and
        the recipient released.
        """
        self.h.settings.limits.maxPendingAge = 100
        await self.held()
        delay = FIRST
        # Markers at 5, 15, 35, 75 s; the one due at 155 s is not sent.
        for _ in range(4):
            marker = await self.nextMarker(delay)
            await self.answer(marker, condition="remote-server-timeout",
                              errorType="wait")
            delay *= 2
        await self.h.advance(delay)
        self.assertEqual([], self.h.take())
        drops = [m for m in self.logged if "given up" in m]
        self.assertEqual(1, len(drops), self.logged)
        self.assertIn("1 pending", drops[0])
        self.assertEqual([], self.deliveryCalls())
        self.assertEqual([], await self.h.store.listPending("coven", HECATE))

    async def test_tooOldNotRetried(self):
        """
        DLV-4: a bounce for an archive entry older than C{maxPendingAge}
        is not retried.
        """
        self.h.settings.limits.maxPendingAge = 100
        archiveId, _ = await self.say("Harpier cries")
        await self.h.advance(101)
        self.assertEqual([], await self.send(bounce(archiveId)))
        await self.h.advance(3600)
        self.assertEqual([], self.h.take())
        self.assertEqual([], self.deliveryCalls())

    # Forgetting

    async def test_leaveForgets(self):
        """
        DLV-4, JOIN-18: a held recipient that leaves is forgotten: its
        pending messages, its timers and its marker (a response to it
        brings nothing).
        """
        await self.held()
        marker = await self.nextMarker(FIRST)
        self.assertResult(await self.h.leave(HECATE))
        self.h.take()
        self.assertEqual([], self.deliveryCalls())
        self.assertEqual(0, self.deliveries().pendingMarkers())
        self.assertEqual([], await self.h.store.listPending("coven", HECATE))
        self.assertEqual([], await self.answer(marker))
        await self.h.advance(3600)
        self.assertEqual([], self.h.take())

    async def test_leaveBeforeMarker(self):
        """
        DLV-4: the timer of the first marker goes with the recipient.
        """
        await self.held()
        self.assertEqual(1, len(self.deliveryCalls()))
        self.assertResult(await self.h.leave(HECATE))
        self.h.take()
        self.assertEqual([], self.deliveryCalls())
        await self.h.advance(3600)
        self.assertEqual([], self.h.take())

    async def test_destroyForgets(self):
        """
        DLV-4, CRE-10: destroying the channel forgets its held recipients:
        no timer, no marker, nothing pending.
        """
        await self.held()
        await self.held("m2", to=HAG66)
        self.assertEqual(2, len(self.deliveryCalls()))
        response = await self.h.iq(
            "<iq type='set' id='d1' from='%s' to='%s'>"
            "<destroy xmlns='%s' channel='coven'/></iq>"
            % (HAG66_FULL, DOMAIN, NS_MIX))
        self.assertResult(response)
        self.h.take()
        self.assertEqual([], self.deliveryCalls())
        self.assertEqual({}, self.deliveries().held)
        self.assertEqual([], await self.h.store.pendingRecipients())
        await self.h.advance(3600)
        self.assertEqual([], self.h.take())

    async def test_unsubscribedMeanwhile(self):
        """
        DLV-3: retransmission goes only to a bare JID that still receives
        the channel's messages; one that left meanwhile through another
        way is forgotten when the path works.
        """
        await self.held()
        marker = await self.nextMarker(FIRST)
        # Out of the store behind the logic's back (no leave hook).
        await self.h.store.removeSubscriptions("coven", HECATE)
        await self.h.store.removeParticipant("coven", HECATE)
        self.assertEqual([], await self.answer(marker))
        self.assertEqual([], self.deliveryCalls())
        self.assertEqual([], await self.h.store.listPending("coven", HECATE))

    # Restart (DLV-1)

    async def test_restartResumes(self):
        """
        DLV-1: after a restart with pending deliveries, the marker goes
        again and the pending messages follow its result, in order.
        """
        first = await self.held()
        second, _ = await self.say("Fillet of a fenny snake", "m2")
        restarted = await startHarness(self.h.store, self.h.settings)
        self.assertEqual([], markers(restarted.take()))
        marker = await self.nextMarker(FIRST, harness=restarted)
        self.assertEqual(COVEN, marker["from"])
        out = await self.answer(marker, harness=restarted)
        self.assertEqual([first, second],
                         [s["id"] for s in groupchats(out)])
        self.assertEqual({HECATE}, {s["to"] for s in groupchats(out)})
        self.assertEqual([], self.deliveryCalls(restarted))
        self.assertEqual(
            [], await restarted.store.listPending("coven", HECATE))

    async def test_restartQueues(self):
        """
        DLV-1, DLV-4: after a restart a recipient with pending messages is
        held again: new messages for it are queued after them.
        """
        first = await self.held()
        self.h = await startHarness(self.h.store, self.h.settings)
        self.h.take()
        second, out = await self.say("Fillet of a fenny snake", "m2")
        self.assertEqual([], self.copiesTo(out, HECATE))
        out = await self.answer(await self.nextMarker(FIRST))
        self.assertEqual([first, second],
                         [s["id"] for s in groupchats(out)])

    # Presence (DLV-4)

    async def online(self, full=HAG66_FULL, show="chat"):
        await self.h.receive("<presence from='%s' to='%s'><show>%s</show>"
                             "</presence>" % (full, COVEN, show))
        return self.h.take()

    async def test_presenceBounce(self):
        """
        DLV-4: presence from the channel that bounces (a presence error
        from a subscriber's bare JID to a full proxy JID) holds the
        recipient: no presence goes to it meanwhile, a marker does, and
        once the path works it gets the channel's current presence, once.
        """
        out = await self.online()
        toHecate = [p for p in presences(out) if p["to"] == HECATE]
        self.assertEqual(1, len(toHecate))
        hagFull = toHecate[0]["from"]
        self.assertEqual([], await self.send(
            "<presence type='error' from='%s' to='%s'><error type='wait'>"
            "<remote-server-timeout xmlns='%s'/></error></presence>"
            % (HECATE, hagFull, NS_STANZAS)))
        out = await self.online(show="away")
        self.assertEqual([HAG66], [p["to"] for p in presences(out)])
        marker = await self.nextMarker(FIRST)
        out = await self.answer(marker)
        self.assertEqual(1, len(out), [s.toXml() for s in out])
        self.assertEqual((HECATE, hagFull), (out[0]["to"], out[0]["from"]))
        self.assertEqual("away", str(out[0].show))
        self.assertEqual([], self.deliveryCalls())
        out = await self.online(show="dnd")
        self.assertEqual([HAG66, HECATE],
                         sorted(p["to"] for p in presences(out)))

    async def test_presenceBounceToChannel(self):
        """
        DLV-4: a presence error from a subscriber's bare JID to the
        channel JID (a bounced probe) holds it too; held recipients get no
        messages meanwhile either.
        """
        self.assertEqual([], await self.send(
            "<presence type='error' from='%s' to='%s'><error type='cancel'>"
            "<remote-server-not-found xmlns='%s'/></error></presence>"
            % (HECATE, COVEN, NS_STANZAS)))
        first, out = await self.say("Harpier cries")
        self.assertEqual([], self.copiesTo(out, HECATE))
        out = await self.answer(await self.nextMarker(FIRST))
        self.assertEqual([first], [s["id"] for s in groupchats(out)])

    async def test_presenceBounceIgnored(self):
        """
        DLV-4: a presence error from a bare JID that does not subscribe to
        the presence node, a permanent one, or one to another domain holds
        nobody.
        """
        await self.h.join(CAT, nodes=(NODE_MESSAGES,))
        self.h.take()
        for stanza in (
                "<presence type='error' from='%s' to='%s'><error type='wait'>"
                "<remote-server-timeout xmlns='%s'/></error></presence>"
                % (CAT, COVEN, NS_STANZAS),
                "<presence type='error' from='%s' to='%s'>"
                "<error type='cancel'><item-not-found xmlns='%s'/></error>"
                "</presence>" % (HECATE, COVEN, NS_STANZAS),
                "<presence type='error' from='%s' to='nosuch@%s'>"
                "<error type='wait'><remote-server-timeout xmlns='%s'/>"
                "</error></presence>" % (HECATE, DOMAIN, NS_STANZAS)):
            self.assertEqual([], await self.send(stanza))
        await self.h.advance(3600)
        self.assertEqual([], self.h.take())
        self.assertEqual([], self.deliveryCalls())


class DeliveryMemoryTests(MemoryStoreMixin, DeliveryTestsMixin,
                          unittest.TestCase):
    pass


class DeliveryPgsqlTests(PgsqlStoreMixin, DeliveryTestsMixin,
                         unittest.TestCase):
    pass
