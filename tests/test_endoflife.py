"""
End of Life (CRE-11) and the empty-channel policy (CRE-12, CRE-13).
"""

from datetime import datetime, timezone

from twisted.trial import unittest

from tests.helpers import (
    COVEN, HAG66, HAG66_FULL, Harness, MIXTestMixin, MemoryStoreMixin,
    NODE_CONFIG, NODE_INFO, NS_MIX, NS_PUBSUB, serviceSettings, submitForm)

START = 1500000000


def stamp(seconds):
    return datetime.fromtimestamp(seconds, timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


class EndOfLifeTestsMixin(MIXTestMixin):

    def setUp(self):
        MIXTestMixin.setUp(self)
        self.assertResult(self.h.create())

    def setEndOfLife(self, value, h=None):
        h = h or self.h
        response = h.iq(
            "<iq type='set' id='e' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<publish node='%s'>%s</publish></pubsub></iq>"
            % (HAG66_FULL, COVEN, NS_PUBSUB, NODE_CONFIG,
               submitForm(("End of Life", value))))
        self.assertResult(response)

    def exists(self, h=None):
        h = h or self.h
        return self.successResultOf(h.store.getChannel("coven")) is not None

    def expiryCalls(self, h=None):
        h = h or self.h
        return [c for c in h.clock.getDelayedCalls()
                if c.active() and getattr(c.func, "__name__", "") ==
                "_expire"]

    def test_removedAtEndOfLife(self):
        """
        CRE-11, CRE-10: a channel whose End of Life passes is removed: the
        channel JID then answers item-not-found.
        """
        self.setEndOfLife(stamp(START + 100))
        self.h.clock.advance(99)
        self.assertTrue(self.exists())
        self.h.clock.advance(2)
        self.assertFalse(self.exists())
        response = self.h.iq(
            "<iq type='get' id='i' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<items node='%s'/></pubsub></iq>"
            % (HAG66_FULL, COVEN, NS_PUBSUB, NODE_INFO))
        self.assertError(response, "cancel", "item-not-found")
        self.assertEqual([], self.expiryCalls())

    def test_endOfLifeAtCreation(self):
        """
        CRE-11: a channel created with an End of Life in its creation form
        is removed when it passes, without any later change.
        """
        self.assertResult(self.h.create("cave", form=submitForm(
            ("End of Life", stamp(START + 50)))))
        self.h.clock.advance(49)
        self.assertIsNotNone(
            self.successResultOf(self.h.store.getChannel("cave")))
        self.h.clock.advance(2)
        self.assertIdentical(
            None, self.successResultOf(self.h.store.getChannel("cave")))

    def test_rescheduled(self):
        """
        CRE-11, ADM-5: a new End of Life replaces the old one; clearing it
        makes the channel permanent again.
        """
        self.setEndOfLife(stamp(START + 100))
        self.setEndOfLife(stamp(START + 500))
        self.h.clock.advance(200)
        self.assertTrue(self.exists())
        self.assertEqual(1, len(self.expiryCalls()))
        self.setEndOfLife("")
        self.assertEqual([], self.expiryCalls())
        self.h.clock.advance(1000)
        self.assertTrue(self.exists())

    def test_pastAtConfigChange(self):
        """
        CRE-11, D-29: an End of Life already passed is C{not-acceptable}:
        nothing changes and nothing is scheduled.
        """
        response = self.h.iq(
            "<iq type='set' id='e' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<publish node='%s'>%s</publish></pubsub></iq>"
            % (HAG66_FULL, COVEN, NS_PUBSUB, NODE_CONFIG,
               submitForm(("End of Life", stamp(START - 10)))))
        self.assertError(response, "modify", "not-acceptable")
        self.h.clock.advance(0)
        self.assertTrue(self.exists())
        self.assertEqual([], self.expiryCalls())

    def test_pastAtCreation(self):
        """
        CRE-11, D-29: creating a channel whose End of Life has passed is
        C{not-acceptable}; no channel is made.
        """
        response = self.h.create("cave", form=submitForm(
            ("End of Life", stamp(START - 10))))
        self.assertError(response, "modify", "not-acceptable")
        self.assertIdentical(
            None, self.successResultOf(self.h.store.getChannel("cave")))

    def test_invalidEndOfLife(self):
        """
        AMB-45: an End of Life that is not an XEP-0082 date-time →
        bad-request; nothing is scheduled.
        """
        response = self.h.iq(
            "<iq type='set' id='e' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<publish node='%s'>%s</publish></pubsub></iq>"
            % (HAG66_FULL, COVEN, NS_PUBSUB, NODE_CONFIG,
               submitForm(("End of Life", "tomorrow"))))
        self.assertError(response, "modify", "bad-request")
        self.assertEqual([], self.expiryCalls())

    def restartWith(self, endOfLife):
        """
        Store an End of Life directly and start a second service on the
        same store, as after a restart.
        """
        record = self.successResultOf(self.h.store.getChannel("coven"))
        record.config["End of Life"] = endOfLife
        self.successResultOf(self.h.store.updateChannel(record))
        return Harness(self.h.store, serviceSettings())

    def test_pastAtStart(self):
        """
        CRE-11: at start, a channel whose End of Life has passed is removed
        at once.
        """
        h = self.restartWith(stamp(START - 1))
        self.assertFalse(self.exists(h))

    def test_scheduledAtStart(self):
        """
        CRE-11: at start, every channel with a future End of Life is
        scheduled.
        """
        h = self.restartWith(stamp(START + 60))
        self.assertTrue(self.exists(h))
        self.assertEqual(1, len(self.expiryCalls(h)))
        h.clock.advance(61)
        self.assertFalse(self.exists(h))

    def test_destroyCancelsTimer(self):
        """
        CRE-9, CRE-11: destroying a channel cancels its End of Life timer,
        so that a new channel of the same name is not removed by it.
        """
        self.setEndOfLife(stamp(START + 100))
        self.assertResult(self.h.iq(
            "<iq type='set' id='d' from='%s' to='mix.shakespeare.example'>"
            "<destroy xmlns='%s' channel='coven'/></iq>"
            % (HAG66_FULL, NS_MIX)))
        self.assertEqual([], self.expiryCalls())
        self.assertResult(self.h.create())
        self.h.clock.advance(200)
        self.assertTrue(self.exists())

    def test_emptyChannelsKept(self):
        """
        CRE-12 (disabled by default), CRE-13: a channel without
        participants is not destroyed, however long it stays empty.
        """
        self.assertResult(self.h.join(HAG66))
        self.assertResult(self.h.leave(HAG66))
        self.h.clock.advance(3600 * 24 * 365)
        self.assertTrue(self.exists())


class EndOfLifeMemoryTests(MemoryStoreMixin, EndOfLifeTestsMixin,
                           unittest.TestCase):
    pass
