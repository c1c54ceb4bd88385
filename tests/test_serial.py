"""
Tests for L{mixtwisted.serial}: one change at a time per channel (D-46).
"""

from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.trial import unittest

from mixtwisted.channels import NICK_SCOPE, ChannelService
from mixtwisted.serial import KeyedSerializer, exclusive
from mixtwisted.store.memory import MemoryStore
from tests.helpers import serviceSettings


class KeyedSerializerTests(unittest.TestCase):

    def setUp(self):
        self.serial = KeyedSerializer()
        self.log = []

    def step(self, name):
        """
        A call that logs its start and finishes when its Deferred fires.
        """
        d = defer.Deferred()

        def f():
            self.log.append(name)
            return d
        return f, d

    def test_sameKeyWaits(self):
        """
        A second call with a key waits until the first has finished, then
        runs; the callers get their own results.
        """
        first, firstDone = self.step("first")
        second, secondDone = self.step("second")
        r1 = self.serial.run("coven", first)
        r2 = self.serial.run("coven", second)
        self.assertEqual(["first"], self.log)
        firstDone.callback(1)
        self.assertEqual(["first", "second"], self.log)
        secondDone.callback(2)
        self.assertEqual(1, self.successResultOf(r1))
        self.assertEqual(2, self.successResultOf(r2))

    def test_otherKeysRunAtOnce(self):
        first, _ = self.step("coven")
        second, _ = self.step("cave")
        self.serial.run("coven", first)
        self.serial.run("cave", second)
        self.assertEqual(["coven", "cave"], self.log)

    def test_arrivalOrder(self):
        steps = [self.step(n) for n in range(4)]
        for f, _ in steps:
            self.serial.run("coven", f)
        for n, (_, d) in enumerate(steps):
            self.assertEqual(list(range(n + 1)), self.log)
            d.callback(None)

    def test_failureReleases(self):
        """
        A failing call fails its caller and lets the next one run.
        """
        first, firstDone = self.step("first")
        second, secondDone = self.step("second")
        r1 = self.serial.run("coven", first)
        r2 = self.serial.run("coven", second)
        firstDone.errback(ValueError("no"))
        self.failureResultOf(r1, ValueError)
        self.assertEqual(["first", "second"], self.log)
        secondDone.callback(None)
        self.successResultOf(r2)

    def test_synchronousCallsRunAtOnce(self):
        """
        With nothing queued, a call that finishes at once (the memory
        store) runs and completes within C{run}.
        """
        self.assertEqual(3, self.successResultOf(
            self.serial.run("coven", lambda: 3)))
        self.assertEqual(set(), self.serial.busy())

    def test_longQueueDoesNotNest(self):
        """
        Thousands of calls queued behind one that waits, each finishing at
        once, all run when it finishes, in order, without growing the
        stack (a burst of messages answered from a cache).
        """
        first, firstDone = self.step("first")
        self.serial.run("coven", first)
        done = []
        results = [self.serial.run("coven", done.append, n)
                   for n in range(5000)]
        firstDone.callback(None)
        self.assertEqual(list(range(5000)), done)
        for d in results:
            self.successResultOf(d)
        self.assertEqual(set(), self.serial.busy())

    def test_callbackQueuesMore(self):
        """
        A caller that queues another call from its callback (the next
        message arriving while the last one is sent) gets it run after
        the queue it joined.
        """
        order = []
        first, firstDone = self.step("first")
        self.serial.run("coven", first)

        def then(_):
            order.append("callback")
            self.serial.run("coven", order.append, "later")
        self.serial.run("coven", order.append, "second").addCallback(then)
        self.serial.run("coven", order.append, "third")
        firstDone.callback(None)
        self.assertEqual(["second", "callback", "third", "later"], order)
        self.assertEqual(set(), self.serial.busy())

    def test_idleKeysForgotten(self):
        first, firstDone = self.step("first")
        self.serial.run("coven", first)
        self.assertEqual({"coven"}, self.serial.busy())
        firstDone.callback(None)
        self.assertEqual(set(), self.serial.busy())

    def test_raisingCallReleases(self):
        self.failureResultOf(self.serial.run("coven", lambda: 1 / 0),
                             ZeroDivisionError)
        self.assertEqual(set(), self.serial.busy())


class Changer:
    """
    An object with decorated methods, as the channel logic has.
    """

    def __init__(self):
        self.serial = KeyedSerializer()
        self.pending = []

    @exclusive("name")
    def change(self, requester, name, value=None):
        d = defer.Deferred()
        self.pending.append((name, value, d))
        return d


class ExclusiveTests(unittest.TestCase):

    def test_keyFromPositionalOrKeyword(self):
        changer = Changer()
        changer.change("r", "coven", 1)
        changer.change("r", name="coven", value=2)
        self.assertEqual([("coven", 1)],
                         [(n, v) for n, v, _ in changer.pending])
        changer.pending[0][2].callback(None)
        self.assertEqual([("coven", 1), ("coven", 2)],
                         [(n, v) for n, v, _ in changer.pending])

    def test_nickKeysKeptApart(self):
        """
        A registered nick equal to a channel name does not wait for that
        channel's changes (ChannelService.nickExclusive's keys).
        """
        channels = ChannelService(MemoryStore(), serviceSettings(), Clock())
        pending = []

        def change(name):
            d = defer.Deferred()
            pending.append((name, d))
            return d
        channels.serial.run("coven", change, "coven")
        channels.nickExclusive("coven", change, "coven")
        self.assertEqual(2, len(pending))
        self.assertEqual({"coven", NICK_SCOPE + "coven"},
                         channels.serial.busy())

    def test_usesChannelsSerial(self):
        """
        An object without C{serial} uses its C{channels}' one.
        """
        class Area:
            change = Changer.change

            def __init__(self, channels):
                self.channels = channels
                self.pending = channels.pending

        channels = Changer()
        Area(channels).change("r", "coven")
        self.assertEqual({"coven"}, channels.serial.busy())
