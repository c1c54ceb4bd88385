"""
Ensuring message delivery (requirements.md 1.19 DLV-1..4, AMB-36; XEP-0369
§6.3): bounced reflections kept pending, C{<marker/>} IQs with exponential
back-off on the service's C{Clock}, ordered retransmission, the limits,
forgetting, restart, presence bounces.
"""

from twisted.internet import defer
from twisted.python import log
from twisted.trial import unittest
from wokkel.test.helpers import XmlStreamStub

from mixtwisted.handlers.delivery import DeliveryHandler
from mixtwisted.settings import Limits
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

    def gate(self, method):
        """
        Hold the next call of the store's C{method} (an untracked call, so
        that the harness does not wait for it) until the returned Deferred
        is fired; later calls go through.  Never fired, it stands for a
        crash at that point.
        """
        tracker = self.h.tracker
        real = getattr(tracker, method)
        gate = defer.Deferred()

        def gated(*args, **kwargs):
            delattr(tracker, method)
            gate.addCallback(lambda _: real(*args, **kwargs))
            return gate
        setattr(tracker, method, gated)
        return gate

    def streamDown(self):
        """
        The component's stream to the XMPP server is lost: wokkel's stream
        manager queues what is sent from now on.
        """
        self.h.manager._disconnected(None)
        self.assertFalse(self.deliveries().online)

    def queued(self):
        """
        What the stream manager queued while the stream was down.
        """
        return self.h.manager._packetQueue

    async def streamUp(self):
        """
        The component is back online, on a new stream: the queue is
        flushed into it (what it held is returned with what the service
        sent at once).
        """
        self.h.stub = XmlStreamStub()
        self.h.manager._connected(self.h.stub.xmlstream)
        self.h.manager._authd(self.h.stub.xmlstream)
        await self.h.settle()
        self.assertTrue(self.deliveries().online)
        return self.h.take()

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
        DLV-1, DLV-4: a retransmitted message that bounces again (after
        the release) is pending again (no loss): a new hold, whose marker
        comes after twice the wait of the last one (the path is still
        failing, AMB-36), and it comes once the path works.
        """
        first = await self.held()
        out = await self.answer(await self.nextMarker(FIRST))
        self.assertEqual([first], [s["id"] for s in out])
        self.assertEqual({}, self.deliveries().held)
        self.assertEqual([], await self.send(bounce(first)))
        second, out = await self.say("Fillet of a fenny snake", "m2")
        self.assertEqual([], self.copiesTo(out, HECATE))
        out = await self.answer(await self.nextMarker(2 * FIRST))
        self.assertEqual([first, second], [s["id"] for s in out])

    async def test_bounceWhileRetransmitting(self):
        """
        DLV-1, DLV-4: a bounce that comes while the pending messages are
        being retransmitted (here a late one, of a message sent before the
        first failure, arriving after the batch went out and before it is
        removed from the store) means the path failed again: the batch
        sent is removed, the bounced message stays pending, markers resume
        with twice the wait, and it follows the next result.
        """
        early, _ = await self.say("Round about the cauldron go", "m0")
        first = await self.held()
        second, _ = await self.say("Fillet of a fenny snake", "m2")
        gate = self.gate("removePending")
        marker = await self.nextMarker(FIRST)
        out = await self.answer(marker)
        self.assertEqual([first, second], [s["id"] for s in out])
        self.assertEqual([], await self.send(bounce(early)))
        gate.callback(None)
        await self.h.settle()
        self.assertEqual([], self.h.take())
        self.assertEqual([early],
                         await self.h.store.listPending("coven", HECATE))
        out = await self.answer(await self.nextMarker(2 * FIRST))
        self.assertEqual([early], [s["id"] for s in out])
        self.assertEqual([], self.deliveryCalls())

    async def test_bounceBeforeBatchStops(self):
        """
        DLV-4, AMB-36: a bounce that comes after the marker's result but
        before the batch is sent stops the retransmission before it
        starts: nothing goes, nothing is removed, and after the next
        marker (twice the wait) everything comes in archive order.
        """
        early, _ = await self.say("Round about the cauldron go", "m0")
        first = await self.held()
        second, _ = await self.say("Fillet of a fenny snake", "m2")
        gate = self.gate("getArchived")
        out = await self.answer(await self.nextMarker(FIRST))
        self.assertEqual([], out)
        self.assertEqual([], await self.send(bounce(early)))
        gate.callback(None)
        await self.h.settle()
        self.assertEqual([], self.h.take())
        self.assertEqual([early, first, second],
                         await self.h.store.listPending("coven", HECATE))
        out = await self.answer(await self.nextMarker(2 * FIRST))
        self.assertEqual([early, first, second], [s["id"] for s in out])
        self.assertEqual([], await self.h.store.listPending("coven", HECATE))

    # Back-off while messages keep bouncing (DLV-4, AMB-36)

    async def untilNextCall(self, end):
        """
        Move the clock to the delivery logic's next timer (or to C{end},
        if it is later or there is none); return what was sent.
        """
        calls = [c.getTime() for c in self.deliveryCalls()]
        now = self.h.clock.seconds()
        target = min(calls + [end]) if calls else end
        await self.h.advance(max(0, target - now))
        return self.h.take()

    async def assertBoundedStorm(self, bouncer, pending=20):
        """
        C{pending} messages to hecate bounce; her server then answers
        every marker but bounces every retransmitted copy with
        C{resource-constraint} (a wait error: transient), as a server
        that rate-limits does, the bounces coming from C{bouncer}.  Over
        four hours of the clock: the markers come after 5, 10, 20, ...
        seconds, doubling up to the cap, and every message is retransmitted
        at most C{Limits.maxRetransmissions} times; after that its bounces are
        not retried (logged), nothing is held and nothing more is sent.
        """
        ids = []
        for n in range(pending):
            archiveId, _ = await self.say("Line %d" % (n,), "m%d" % (n,))
            ids.append(archiveId)
        start = self.h.clock.seconds()
        for archiveId in ids:
            self.assertEqual([], await self.send(bounce(
                archiveId, "resource-constraint", "wait", sender=bouncer)))
        end = start + 4 * 3600
        times, retransmitted = [], 0
        while self.h.clock.seconds() < end:
            out = await self.untilNextCall(end)
            for marker in markers(out):
                times.append(self.h.clock.seconds() - start)
                copies = await self.answer(marker)
                self.assertEqual(ids, [c["id"] for c in copies])
                retransmitted += len(copies)
                for copy in copies:
                    self.assertEqual([], await self.send(bounce(
                        copy["id"], "resource-constraint", "wait",
                        sender=bouncer)))
        gaps = [b - a for a, b in zip([0.0] + times, times)]
        self.assertEqual(
            [5, 10, 20, 40, 80, 160, 320, 600, 600, 600], gaps)
        self.assertEqual(Limits().maxRetransmissions, len(times))
        self.assertEqual(Limits().maxRetransmissions * pending, retransmitted)
        self.assertEqual({}, self.deliveries().held)
        self.assertEqual([], self.deliveryCalls())
        self.assertEqual([], await self.h.store.listPending("coven", HECATE))
        self.assertTrue([m for m in self.logged
                         if "after %d retransmissions: not retried"
                         % (Limits().maxRetransmissions,) in m], self.logged)
        # The recipient was not forgotten: a new message goes at once.
        _, out = await self.say("Fillet of a fenny snake", "m99")
        self.assertEqual(1, len(self.copiesTo(out, HECATE)))

    async def test_bouncingServerBacksOff(self):
        """
        DLV-4, AMB-36: a server that answers markers but keeps bouncing
        the messages gets markers with growing waits and a bounded number
        of retransmissions (the storm of one marker and the whole queue
        every 5 s for a day is gone).
        """
        await self.assertBoundedStorm(HECATE)

    async def test_bouncingClientBacksOff(self):
        """
        DLV-1, DLV-4: bounces from the recipient's full JID (a client
        answering with an error) count for its bare JID and are bounded
        the same way: one user cannot make the channel send more.
        """
        await self.assertBoundedStorm(HECATE_FULL)

    async def test_releaseThatLastsResets(self):
        """
        DLV-4: the back-off starts again from the first step only after a
        release that lasted C{markerMaxDelay}: a bounce within it is
        answered after twice the last wait, one after it after 5 s.
        """
        first = await self.held()
        out = await self.answer(await self.nextMarker(FIRST))
        self.assertEqual([first], [s["id"] for s in out])
        await self.h.advance(CAP - 1)
        second = await self.held("m2")
        out = await self.answer(await self.nextMarker(2 * FIRST))
        self.assertEqual([second], [s["id"] for s in out])
        await self.h.advance(CAP + 1)
        third = await self.held("m3")
        out = await self.answer(await self.nextMarker(FIRST))
        self.assertEqual([third], [s["id"] for s in out])

    async def test_backOffKeptWhenUp(self):
        """
        DLV-4: a result after markers that failed does not reset the wait:
        a bounce of the retransmitted copy starts a hold whose marker comes
        after twice the last wait.
        """
        first = await self.held()
        delay = FIRST
        for _ in range(3):
            marker = await self.nextMarker(delay)
            await self.answer(marker, condition="remote-server-timeout",
                              errorType="wait")
            delay *= 2
        out = await self.answer(await self.nextMarker(delay))
        self.assertEqual([first], [s["id"] for s in out])
        self.assertEqual([], await self.send(bounce(first)))
        await self.nextMarker(2 * delay)

    # Retransmission safety (DLV-1, DLV-3)

    async def test_streamDownDuringRetransmission(self):
        """
        DLV-1, DLV-3: the component's stream goes down after the marker's
        result, before the batch is sent: nothing is sent (nor queued by
        the stream manager, whose bounded queue could drop it), nothing is
        removed from the store; once the stream is back, a marker goes
        and its result brings everything, in order.
        """
        first = await self.held()
        second, _ = await self.say("Fillet of a fenny snake", "m2")
        gate = self.gate("getArchived")
        self.assertEqual([], await self.answer(await self.nextMarker(FIRST)))
        self.streamDown()
        gate.callback(None)
        await self.h.settle()
        self.assertEqual([], self.queued())
        self.assertEqual([first, second],
                         await self.h.store.listPending("coven", HECATE))
        await self.h.advance(3600)
        self.assertEqual([], self.queued())
        self.assertEqual([first, second],
                         await self.h.store.listPending("coven", HECATE))
        out = await self.streamUp()
        self.assertEqual([], groupchats(out) + markers(out))
        out = await self.answer(await self.nextMarker(FIRST))
        self.assertEqual([first, second], [s["id"] for s in out])
        self.assertEqual([], await self.h.store.listPending("coven", HECATE))

    async def test_markersWaitForStream(self):
        """
        DLV-2: no marker goes while the stream is down (none is queued for
        later either); an outstanding one is abandoned without counting as
        a failure (the back-off does not grow); markers resume 5 s after
        the stream is back.
        """
        first = await self.held()
        # Down before the first marker is due.
        self.streamDown()
        await self.h.advance(3600)
        self.assertEqual([], self.queued())
        self.assertEqual(0, self.deliveries().pendingMarkers())
        out = await self.streamUp()
        self.assertEqual([], markers(out))
        await self.nextMarker(FIRST)
        # Down while a marker waits for its response.
        self.assertEqual(1, self.deliveries().pendingMarkers())
        self.streamDown()
        self.assertEqual(0, self.deliveries().pendingMarkers())
        await self.h.advance(3600)
        self.assertEqual([], self.queued())
        out = await self.streamUp()
        self.assertEqual([], markers(out))
        marker = await self.nextMarker(FIRST)
        await self.answer(marker, condition="remote-server-timeout",
                          errorType="wait")
        out = await self.answer(await self.nextMarker(2 * FIRST))
        self.assertEqual([first], [s["id"] for s in out])
        self.assertEqual([], await self.h.store.listPending("coven", HECATE))

    async def test_reBounceBetweenSendAndRemove(self):
        """
        DLV-1: a retransmitted copy that bounces again after it was sent
        and before the batch is removed from the store stays pending (the
        removal takes only entries not made pending again since the batch
        was read); the next result brings it.
        """
        first = await self.held()
        second, _ = await self.say("Fillet of a fenny snake", "m2")
        gate = self.gate("removePending")
        out = await self.answer(await self.nextMarker(FIRST))
        self.assertEqual([first, second], [s["id"] for s in out])
        self.assertEqual([], await self.send(bounce(second)))
        gate.callback(None)
        await self.h.settle()
        self.assertEqual([second],
                         await self.h.store.listPending("coven", HECATE))
        out = await self.answer(await self.nextMarker(2 * FIRST))
        self.assertEqual([second], [s["id"] for s in out])
        self.assertEqual([], await self.h.store.listPending("coven", HECATE))
        self.assertEqual({}, self.deliveries().held)

    async def test_crashBetweenSendAndRemove(self):
        """
        DLV-1, DLV-3: the service dies after a batch was sent and before
        it was removed from the store: after the restart the messages are
        retransmitted again, in order (a duplicate, no loss).
        """
        first = await self.held()
        second, _ = await self.say("Fillet of a fenny snake", "m2")
        self.gate("removePending")
        out = await self.answer(await self.nextMarker(FIRST))
        self.assertEqual([first, second], [s["id"] for s in out])
        # The removal never happens: the process is gone.
        restarted = await startHarness(self.h.store, self.h.settings)
        restarted.take()
        marker = await self.nextMarker(FIRST, harness=restarted)
        out = await self.answer(marker, harness=restarted)
        self.assertEqual([first, second],
                         [s["id"] for s in groupchats(out)])
        self.assertEqual(
            [], await restarted.store.listPending("coven", HECATE))

    async def test_tooOldNotRetransmitted(self):
        """
        DLV-4: a pending message archived more than C{maxPendingAge} ago
        when the path comes back is not retransmitted but dropped (logged
        with the count); the younger ones go.
        """
        self.h.settings.limits.maxPendingAge = 100
        early, _ = await self.say("Round about the cauldron go", "m0")
        await self.h.advance(50)
        self.assertEqual([], await self.send(bounce(early)))
        first, _ = await self.say("Harpier cries", "m1")
        delay = FIRST
        # Markers 55, 65, 85 s after the first message fail; the one at
        # 125 s is answered: the hold is 75 s old, the first message 125.
        for _ in range(3):
            marker = await self.nextMarker(delay)
            await self.answer(marker, condition="remote-server-timeout",
                              errorType="wait")
            delay *= 2
        out = await self.answer(await self.nextMarker(delay))
        self.assertEqual([first], [s["id"] for s in out])
        self.assertTrue([m for m in self.logged
                         if "1 older than 100 s dropped" in m], self.logged)
        self.assertEqual([], await self.h.store.listPending("coven", HECATE))

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
