"""
Presence over time (requirements.md PRES-8, PRES-9, PREF-5, X403-8,
AMB-47): start-up probes and the grace period for items kept from before a
restart; ghost checks by disco#info, and that no spoofed answer counts.
All on the service's C{Clock}.
"""

from twisted.trial import unittest
from wokkel.test.helpers import XmlStreamStub

from tests.helpers import (
    CAT, COVEN, DOMAIN, HAG66, HAG66_FULL, HECATE, HECATE_FULL, startHarness,
    MIXTestMixin, MemoryStoreMixin, NODE_MESSAGES, NODE_PARTICIPANTS,
    NODE_PRESENCE, NS_DISCO_INFO, NS_PUBSUB, submitForm)
from tests.pgsql import PgsqlStoreMixin
from tests.test_presence import presences

WITH_PRESENCE = (NODE_MESSAGES, NODE_PARTICIPANTS, NODE_PRESENCE)
SECOND = HAG66 + "/UUID-c8y/1573"


class PresenceTimeMixin(MIXTestMixin):

    async def setUp(self):
        await MIXTestMixin.setUp(self)
        self.assertResult(await self.h.create())
        self.assertResult(await self.h.join(HAG66, nodes=WITH_PRESENCE))
        await self.h.setnick(HAG66_FULL, "thirdwitch")
        self.assertResult(await self.h.join(
            HECATE, nodes=WITH_PRESENCE, extra=(
                submitForm(("Presence", "not share")))))
        self.assertResult(await self.h.join(CAT, nodes=(NODE_MESSAGES,)))
        # The subscription dumps follow the join results (JOIN-10).
        await self.h.advance(0)
        self.h.take()

    async def online(self, harness, full=HAG66_FULL):
        await harness.receive("<presence from='%s' to='%s'><show>chat</show>"
                              "</presence>" % (full, COVEN))
        out = presences(harness.take())
        return out[0]["from"] if out else None

    async def itemIds(self, harness):
        response = await harness.iq(
            "<iq type='get' id='pi' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<items node='%s'/></pubsub></iq>"
            % (HAG66_FULL, COVEN, NS_PUBSUB, NODE_PRESENCE))
        self.assertResult(response)
        return sorted(i["id"] for i in
                      response.pubsub.items.elements(NS_PUBSUB, "item"))


class StartupTestsMixin(PresenceTimeMixin):

    async def restart(self):
        """
        Start a new service on the same store, as after a restart.
        """
        return await startHarness(self.h.store, self.h.settings)

    async def test_probes(self):
        """
        PRES-8, PREF-5, X403-8: at start-up the channel probes every
        participant sharing presence, from the channel JID to the bare
        JID, and none who does not share.
        """
        restarted = await self.restart()
        probes = presences(restarted.take(), "probe")
        self.assertEqual([CAT, HAG66], sorted(p["to"] for p in probes))
        self.assertEqual({COVEN}, {p["from"] for p in probes})
        self.assertNotIn(HECATE, [p["to"] for p in probes])

    async def test_graceRemovesUnconfirmed(self):
        """
        PRES-8, AMB-47: items from before the restart are kept until the
        grace period ends; those refreshed stay, the others are removed
        with unavailable to the subscribers.
        """
        first = await self.online(self.h)
        second = await self.online(self.h, SECOND)
        restarted = await self.restart()
        restarted.take()
        self.assertEqual(sorted([first, second]),
                         await self.itemIds(restarted))
        self.assertEqual(first, await self.online(restarted))
        await restarted.advance(119)
        self.assertEqual([], restarted.take())
        await restarted.advance(2)
        gone = presences(restarted.take(), "unavailable")
        self.assertEqual([(HAG66, second), (HECATE, second)],
                         sorted((p["to"], p["from"]) for p in gone))
        self.assertEqual([first], await self.itemIds(restarted))

    async def test_reconnectReprobes(self):
        """
        PRES-8, D-45: after the connection to the XMPP server comes back,
        the sharing participants are probed again and items not refreshed
        within the grace period are removed (their unavailable may have
        been lost while the component was offline).
        """
        first = await self.online(self.h)
        second = await self.online(self.h, SECOND)
        # The stream manager loses the connection and gets a new stream.
        self.h.manager._disconnected(None)
        self.h.stub = XmlStreamStub()
        self.h.manager._connected(self.h.stub.xmlstream)
        self.h.manager._authd(self.h.stub.xmlstream)
        await self.h.settle()
        probes = presences(self.h.take(), "probe")
        self.assertEqual([CAT, HAG66], sorted(p["to"] for p in probes))
        await self.online(self.h)
        await self.h.advance(121)
        gone = presences(self.h.take(), "unavailable")
        self.assertEqual({second}, {p["from"] for p in gone})
        self.assertEqual([first], await self.itemIds(self.h))

    async def test_noItemsNoTimer(self):
        """
        AMB-47: with nothing kept from before, nothing is removed later.
        """
        restarted = await self.restart()
        restarted.take()
        await restarted.advance(200)
        self.assertEqual([], restarted.take())


class StartupMemoryTests(MemoryStoreMixin, StartupTestsMixin,
                         unittest.TestCase):
    pass


class StartupPgsqlTests(PgsqlStoreMixin, StartupTestsMixin,
                        unittest.TestCase):
    pass


class GhostTestsMixin(PresenceTimeMixin):
    """
    PRES-9: clients unchanged for an hour are asked with disco#info.
    """

    async def setUp(self):
        await PresenceTimeMixin.setUp(self)
        self.sender = await self.online(self.h)

    async def check(self, wait=3600):
        """
        Let C{wait} seconds pass (an hour); return the disco#info query
        sent then, and not a second earlier.
        """
        await self.h.advance(wait - 1)
        self.assertEqual([], self.h.take())
        await self.h.advance(1)
        out = self.h.take()
        self.assertEqual(1, len(out), [o.toXml() for o in out])
        iq = out[0]
        self.assertEqual(("iq", "get", COVEN, HAG66_FULL),
                         (iq.name, iq["type"], iq["from"], iq["to"]))
        self.assertEqual(NS_DISCO_INFO, iq.query.uri)
        self.assertGreaterEqual(len(iq["id"]), 32)
        return iq["id"]

    async def answer(self, iqId, sender=HAG66_FULL, to=COVEN, kind="result"):
        await self.h.receive("<iq type='%s' id='%s' from='%s' to='%s'>"
                             "<query xmlns='%s'/></iq>"
                             % (kind, iqId, sender, to, NS_DISCO_INFO))

    async def test_answeredStays(self):
        """
        PRES-9: a client that answers keeps its item and is asked again an
        hour later, with another id.
        """
        iqId = await self.check()
        await self.answer(iqId)
        self.assertEqual([], self.h.take())
        await self.h.advance(60)
        self.assertEqual([], self.h.take())
        self.assertEqual([self.sender], await self.itemIds(self.h))
        self.assertNotEqual(iqId, await self.check(3600 - 60))

    async def test_timeoutRemoves(self):
        """
        PRES-9: no answer within 30 seconds removes the item with
        unavailable to the subscribers.
        """
        await self.check()
        await self.h.advance(29)
        self.assertEqual([], self.h.take())
        await self.h.advance(1)
        gone = presences(self.h.take(), "unavailable")
        self.assertEqual([(HAG66, self.sender), (HECATE, self.sender)],
                         sorted((p["to"], p["from"]) for p in gone))
        self.assertEqual([], await self.itemIds(self.h))

    async def test_errorRemoves(self):
        """
        PRES-9: an error answer removes the item at once.
        """
        await self.answer(await self.check(), kind="error")
        self.assertEqual(2, len(presences(self.h.take(), "unavailable")))
        self.assertEqual([], await self.itemIds(self.h))

    async def test_spoofedAnswersIgnored(self):
        """
        PRES-9: only the answer with our id, from the real full JID asked,
        to the channel JID counts: from another JID, to another address,
        or with another id, it is not taken (nor answered, nor relayed),
        and the item goes at the timeout.
        """
        iqId = await self.check()
        await self.answer(iqId, sender=HECATE_FULL)
        await self.answer(iqId, sender=HAG66)
        await self.answer(iqId, to=DOMAIN)
        await self.answer(iqId, to="other@" + DOMAIN)
        await self.answer("0" * 32)
        await self.answer(iqId[:-1])
        self.assertEqual([], self.h.take())
        await self.h.advance(30)
        self.assertEqual(2, len(presences(self.h.take(), "unavailable")))

    async def test_spoofedErrorIgnored(self):
        """
        PRES-9: a forged error cannot remove someone else's item.
        """
        iqId = await self.check()
        await self.answer(iqId, sender=HECATE_FULL, kind="error")
        await self.answer("f" * 32, kind="error")
        self.assertEqual([], self.h.take())
        await self.answer(iqId)
        await self.h.advance(60)
        self.assertEqual([], self.h.take())
        self.assertEqual([self.sender], await self.itemIds(self.h))

    async def test_presenceMeanwhile(self):
        """
        PRES-9: a presence change while the check is under way proves the
        client alive: no removal at the timeout; the late answer is not
        taken.
        """
        iqId = await self.check()
        self.assertEqual(self.sender, await self.online(self.h))
        await self.h.advance(30)
        self.assertEqual([], self.h.take())
        await self.answer(iqId)
        self.assertEqual([self.sender], await self.itemIds(self.h))

    async def test_updatesPostponeCheck(self):
        """
        PRES-9: only clients unchanged for the whole hour are asked.
        """
        await self.h.advance(3000)
        await self.online(self.h)
        await self.h.advance(3000)
        self.assertEqual([], self.h.take())
        await self.h.advance(600)
        self.assertEqual(1, len(self.h.take()))

    async def test_leaveCancelsCheck(self):
        """
        PRES-9, JOIN-20: once the item is gone, no check is made.
        """
        await self.h.leave(HAG66)
        self.h.take()
        await self.h.advance(4000)
        self.assertEqual([], self.h.take())


class GhostMemoryTests(MemoryStoreMixin, GhostTestsMixin, unittest.TestCase):
    pass


class GhostPgsqlTests(PgsqlStoreMixin, GhostTestsMixin, unittest.TestCase):
    pass
