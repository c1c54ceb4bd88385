"""
Presence over time (requirements.md PRES-8, PRES-9, PREF-5, X403-8,
AMB-47): start-up probes and the grace period for items kept from before a
restart; ghost checks by disco#info, and that no spoofed answer counts.
All on the service's C{Clock}.
"""

from twisted.trial import unittest
from wokkel.test.helpers import XmlStreamStub

from tests.helpers import (
    CAT, COVEN, DOMAIN, HAG66, HAG66_FULL, HECATE, HECATE_FULL, Harness,
    MIXTestMixin, MemoryStoreMixin, NODE_MESSAGES, NODE_PARTICIPANTS,
    NODE_PRESENCE, NS_DISCO_INFO, NS_PUBSUB, submitForm)
from tests.test_presence import presences

WITH_PRESENCE = (NODE_MESSAGES, NODE_PARTICIPANTS, NODE_PRESENCE)
SECOND = HAG66 + "/UUID-c8y/1573"


class PresenceTimeMixin(MIXTestMixin):

    def setUp(self):
        MIXTestMixin.setUp(self)
        self.assertResult(self.h.create())
        self.assertResult(self.h.join(HAG66, nodes=WITH_PRESENCE))
        self.h.setnick(HAG66_FULL, "thirdwitch")
        self.assertResult(self.h.join(HECATE, nodes=WITH_PRESENCE, extra=(
            submitForm(("Presence", "not share")))))
        self.assertResult(self.h.join(CAT, nodes=(NODE_MESSAGES,)))
        # The subscription dumps follow the join results (JOIN-10).
        self.h.clock.advance(0)
        self.h.take()

    def online(self, harness, full=HAG66_FULL):
        harness.receive("<presence from='%s' to='%s'><show>chat</show>"
                        "</presence>" % (full, COVEN))
        out = presences(harness.take())
        return out[0]["from"] if out else None

    def itemIds(self, harness):
        response = harness.iq(
            "<iq type='get' id='pi' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<items node='%s'/></pubsub></iq>"
            % (HAG66_FULL, COVEN, NS_PUBSUB, NODE_PRESENCE))
        self.assertResult(response)
        return sorted(i["id"] for i in
                      response.pubsub.items.elements(NS_PUBSUB, "item"))


class StartupTestsMixin(PresenceTimeMixin):

    def restart(self):
        """
        Start a new service on the same store, as after a restart.
        """
        return Harness(self.h.store, self.h.settings)

    def test_probes(self):
        """
        PRES-8, PREF-5, X403-8: at start-up the channel probes every
        participant sharing presence, from the channel JID to the bare
        JID, and none who does not share.
        """
        restarted = self.restart()
        probes = presences(restarted.take(), "probe")
        self.assertEqual([CAT, HAG66], sorted(p["to"] for p in probes))
        self.assertEqual({COVEN}, {p["from"] for p in probes})
        self.assertNotIn(HECATE, [p["to"] for p in probes])

    def test_graceRemovesUnconfirmed(self):
        """
        PRES-8, AMB-47: items from before the restart are kept until the
        grace period ends; those refreshed stay, the others are removed
        with unavailable to the subscribers.
        """
        first = self.online(self.h)
        second = self.online(self.h, SECOND)
        restarted = self.restart()
        restarted.take()
        self.assertEqual(sorted([first, second]), self.itemIds(restarted))
        self.assertEqual(first, self.online(restarted))
        restarted.clock.advance(119)
        self.assertEqual([], restarted.take())
        restarted.clock.advance(2)
        gone = presences(restarted.take(), "unavailable")
        self.assertEqual([(HAG66, second), (HECATE, second)],
                         sorted((p["to"], p["from"]) for p in gone))
        self.assertEqual([first], self.itemIds(restarted))

    def test_reconnectReprobes(self):
        """
        PRES-8, D-45: after the connection to the XMPP server comes back,
        the sharing participants are probed again and items not refreshed
        within the grace period are removed (their unavailable may have
        been lost while the component was offline).
        """
        first = self.online(self.h)
        second = self.online(self.h, SECOND)
        # The stream manager loses the connection and gets a new stream.
        self.h.manager._disconnected(None)
        self.h.stub = XmlStreamStub()
        self.h.manager._connected(self.h.stub.xmlstream)
        self.h.manager._authd(self.h.stub.xmlstream)
        probes = presences(self.h.take(), "probe")
        self.assertEqual([CAT, HAG66], sorted(p["to"] for p in probes))
        self.online(self.h)
        self.h.clock.advance(121)
        gone = presences(self.h.take(), "unavailable")
        self.assertEqual({second}, {p["from"] for p in gone})
        self.assertEqual([first], self.itemIds(self.h))

    def test_noItemsNoTimer(self):
        """
        AMB-47: with nothing kept from before, nothing is removed later.
        """
        restarted = self.restart()
        restarted.take()
        restarted.clock.advance(200)
        self.assertEqual([], restarted.take())


class StartupMemoryTests(MemoryStoreMixin, StartupTestsMixin,
                         unittest.TestCase):
    pass


class GhostTestsMixin(PresenceTimeMixin):
    """
    PRES-9: clients unchanged for an hour are asked with disco#info.
    """

    def setUp(self):
        PresenceTimeMixin.setUp(self)
        self.sender = self.online(self.h)

    def check(self, wait=3600):
        """
        Let C{wait} seconds pass (an hour); return the disco#info query
        sent then, and not a second earlier.
        """
        self.h.clock.advance(wait - 1)
        self.assertEqual([], self.h.take())
        self.h.clock.advance(1)
        out = self.h.take()
        self.assertEqual(1, len(out), [o.toXml() for o in out])
        iq = out[0]
        self.assertEqual(("iq", "get", COVEN, HAG66_FULL),
                         (iq.name, iq["type"], iq["from"], iq["to"]))
        self.assertEqual(NS_DISCO_INFO, iq.query.uri)
        self.assertGreaterEqual(len(iq["id"]), 32)
        return iq["id"]

    def answer(self, iqId, sender=HAG66_FULL, to=COVEN, kind="result"):
        self.h.receive("<iq type='%s' id='%s' from='%s' to='%s'>"
                       "<query xmlns='%s'/></iq>"
                       % (kind, iqId, sender, to, NS_DISCO_INFO))

    def test_answeredStays(self):
        """
        PRES-9: a client that answers keeps its item and is asked again an
        hour later, with another id.
        """
        iqId = self.check()
        self.answer(iqId)
        self.assertEqual([], self.h.take())
        self.h.clock.advance(60)
        self.assertEqual([], self.h.take())
        self.assertEqual([self.sender], self.itemIds(self.h))
        self.assertNotEqual(iqId, self.check(3600 - 60))

    def test_timeoutRemoves(self):
        """
        PRES-9: no answer within 30 seconds removes the item with
        unavailable to the subscribers.
        """
        self.check()
        self.h.clock.advance(29)
        self.assertEqual([], self.h.take())
        self.h.clock.advance(1)
        gone = presences(self.h.take(), "unavailable")
        self.assertEqual([(HAG66, self.sender), (HECATE, self.sender)],
                         sorted((p["to"], p["from"]) for p in gone))
        self.assertEqual([], self.itemIds(self.h))

    def test_errorRemoves(self):
        """
        PRES-9: an error answer removes the item at once.
        """
        self.answer(self.check(), kind="error")
        self.assertEqual(2, len(presences(self.h.take(), "unavailable")))
        self.assertEqual([], self.itemIds(self.h))

    def test_spoofedAnswersIgnored(self):
        """
        PRES-9: only the answer with our id, from the real full JID asked,
        to the channel JID counts: from another JID, to another address,
        or with another id, it is not taken (nor answered, nor relayed),
        and the item goes at the timeout.
        """
        iqId = self.check()
        self.answer(iqId, sender=HECATE_FULL)
        self.answer(iqId, sender=HAG66)
        self.answer(iqId, to=DOMAIN)
        self.answer(iqId, to="other@" + DOMAIN)
        self.answer("0" * 32)
        self.answer(iqId[:-1])
        self.assertEqual([], self.h.take())
        self.h.clock.advance(30)
        self.assertEqual(2, len(presences(self.h.take(), "unavailable")))

    def test_spoofedErrorIgnored(self):
        """
        PRES-9: a forged error cannot remove someone else's item.
        """
        iqId = self.check()
        self.answer(iqId, sender=HECATE_FULL, kind="error")
        self.answer("f" * 32, kind="error")
        self.assertEqual([], self.h.take())
        self.answer(iqId)
        self.h.clock.advance(60)
        self.assertEqual([], self.h.take())
        self.assertEqual([self.sender], self.itemIds(self.h))

    def test_presenceMeanwhile(self):
        """
        PRES-9: a presence change while the check is under way proves the
        client alive: no removal at the timeout; the late answer is not
        taken.
        """
        iqId = self.check()
        self.assertEqual(self.sender, self.online(self.h))
        self.h.clock.advance(30)
        self.assertEqual([], self.h.take())
        self.answer(iqId)
        self.assertEqual([self.sender], self.itemIds(self.h))

    def test_updatesPostponeCheck(self):
        """
        PRES-9: only clients unchanged for the whole hour are asked.
        """
        self.h.clock.advance(3000)
        self.online(self.h)
        self.h.clock.advance(3000)
        self.assertEqual([], self.h.take())
        self.h.clock.advance(600)
        self.assertEqual(1, len(self.h.take()))

    def test_leaveCancelsCheck(self):
        """
        PRES-9, JOIN-20: once the item is gone, no check is made.
        """
        self.h.leave(HAG66)
        self.h.take()
        self.h.clock.advance(4000)
        self.assertEqual([], self.h.take())


class GhostMemoryTests(MemoryStoreMixin, GhostTestsMixin, unittest.TestCase):
    pass
