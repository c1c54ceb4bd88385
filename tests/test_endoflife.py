"""
End of Life (CRE-11) and the empty-channel policy (CRE-12, CRE-13).
"""

from datetime import datetime, timezone

from twisted.trial import unittest

from tests.helpers import (
    COVEN, HAG66, HAG66_FULL, startHarness, MIXTestMixin, MemoryStoreMixin,
    NODE_CONFIG, NODE_INFO, NS_MIX, NS_PUBSUB, serviceSettings, submitForm)
from tests.pgsql import PgsqlStoreMixin

START = 1500000000


def stamp(seconds):
    return datetime.fromtimestamp(seconds, timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


class EndOfLifeTestsMixin(MIXTestMixin):

    async def setUp(self):
        await MIXTestMixin.setUp(self)
        self.assertResult(await self.h.create())

    async def setEndOfLife(self, value, h=None):
        h = h or self.h
        response = await h.iq(
            "<iq type='set' id='e' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<publish node='%s'>%s</publish></pubsub></iq>"
            % (HAG66_FULL, COVEN, NS_PUBSUB, NODE_CONFIG,
               submitForm(("End of Life", value))))
        self.assertResult(response)

    async def exists(self, h=None):
        h = h or self.h
        return (await h.store.getChannel("coven")) is not None

    def expiryCalls(self, h=None):
        h = h or self.h
        return [c for c in h.clock.getDelayedCalls()
                if c.active() and getattr(c.func, "__name__", "") ==
                "_expireScheduled"]

    async def test_removedAtEndOfLife(self):
        """
        CRE-11, CRE-10: a channel whose End of Life passes is removed: the
        channel JID then answers item-not-found.
        """
        await self.setEndOfLife(stamp(START + 100))
        await self.h.advance(99)
        self.assertTrue(await self.exists())
        await self.h.advance(2)
        self.assertFalse(await self.exists())
        response = await self.h.iq(
            "<iq type='get' id='i' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<items node='%s'/></pubsub></iq>"
            % (HAG66_FULL, COVEN, NS_PUBSUB, NODE_INFO))
        self.assertError(response, "cancel", "item-not-found")
        self.assertEqual([], self.expiryCalls())

    async def test_endOfLifeAtCreation(self):
        """
        CRE-11: a channel created with an End of Life in its creation form
        is removed when it passes, without any later change.
        """
        self.assertResult(await self.h.create("cave", form=submitForm(
            ("End of Life", stamp(START + 50)))))
        await self.h.advance(49)
        self.assertIsNotNone(
            await self.h.store.getChannel("cave"))
        await self.h.advance(2)
        self.assertIdentical(
            None, await self.h.store.getChannel("cave"))

    async def test_rescheduled(self):
        """
        CRE-11, ADM-5: a new End of Life replaces the old one; clearing it
        makes the channel permanent again.
        """
        await self.setEndOfLife(stamp(START + 100))
        await self.setEndOfLife(stamp(START + 500))
        await self.h.advance(200)
        self.assertTrue(await self.exists())
        self.assertEqual(1, len(self.expiryCalls()))
        await self.setEndOfLife("")
        self.assertEqual([], self.expiryCalls())
        await self.h.advance(1000)
        self.assertTrue(await self.exists())

    async def test_pastAtConfigChange(self):
        """
        CRE-11, D-29: an End of Life already passed is C{not-acceptable}:
        nothing changes and nothing is scheduled.
        """
        response = await self.h.iq(
            "<iq type='set' id='e' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<publish node='%s'>%s</publish></pubsub></iq>"
            % (HAG66_FULL, COVEN, NS_PUBSUB, NODE_CONFIG,
               submitForm(("End of Life", stamp(START - 10)))))
        self.assertError(response, "modify", "not-acceptable")
        await self.h.advance(0)
        self.assertTrue(await self.exists())
        self.assertEqual([], self.expiryCalls())

    async def test_pastAtCreation(self):
        """
        CRE-11, D-29: creating a channel whose End of Life has passed is
        C{not-acceptable}; no channel is made.
        """
        response = await self.h.create("cave", form=submitForm(
            ("End of Life", stamp(START - 10))))
        self.assertError(response, "modify", "not-acceptable")
        self.assertIdentical(
            None, await self.h.store.getChannel("cave"))

    async def test_invalidEndOfLife(self):
        """
        AMB-45: an End of Life that is not an XEP-0082 date-time →
        bad-request; nothing is scheduled.
        """
        response = await self.h.iq(
            "<iq type='set' id='e' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<publish node='%s'>%s</publish></pubsub></iq>"
            % (HAG66_FULL, COVEN, NS_PUBSUB, NODE_CONFIG,
               submitForm(("End of Life", "tomorrow"))))
        self.assertError(response, "modify", "bad-request")
        self.assertEqual([], self.expiryCalls())

    async def restartWith(self, endOfLife):
        """
        Store an End of Life directly and start a second service on the
        same store, as after a restart.
        """
        record = await self.h.store.getChannel("coven")
        record.config["End of Life"] = endOfLife
        await self.h.store.updateChannel(record)
        return await startHarness(self.h.store, serviceSettings())

    async def test_pastAtStart(self):
        """
        CRE-11: at start, a channel whose End of Life has passed is removed
        at once.
        """
        h = await self.restartWith(stamp(START - 1))
        self.assertFalse(await self.exists(h))

    async def test_scheduledAtStart(self):
        """
        CRE-11: at start, every channel with a future End of Life is
        scheduled.
        """
        h = await self.restartWith(stamp(START + 60))
        self.assertTrue(await self.exists(h))
        self.assertEqual(1, len(self.expiryCalls(h)))
        await h.advance(61)
        self.assertFalse(await self.exists(h))

    async def test_destroyCancelsTimer(self):
        """
        CRE-9, CRE-11: destroying a channel cancels its End of Life timer,
        so that a new channel of the same name is not removed by it.
        """
        await self.setEndOfLife(stamp(START + 100))
        self.assertResult(await self.h.iq(
            "<iq type='set' id='d' from='%s' to='mix.shakespeare.example'>"
            "<destroy xmlns='%s' channel='coven'/></iq>"
            % (HAG66_FULL, NS_MIX)))
        self.assertEqual([], self.expiryCalls())
        self.assertResult(await self.h.create())
        await self.h.advance(200)
        self.assertTrue(await self.exists())

    async def test_emptyChannelsKept(self):
        """
        CRE-12 (disabled by default), CRE-13: a channel without
        participants is not destroyed, however long it stays empty.
        """
        self.assertResult(await self.h.join(HAG66))
        self.assertResult(await self.h.leave(HAG66))
        await self.h.advance(3600 * 24 * 365)
        self.assertTrue(await self.exists())


class EndOfLifeMemoryTests(MemoryStoreMixin, EndOfLifeTestsMixin,
                           unittest.TestCase):
    pass


class EndOfLifePgsqlTests(PgsqlStoreMixin, EndOfLifeTestsMixin,
                          unittest.TestCase):
    pass
