"""
The per-sender rate limit (L{mixtwisted.throttle}).
"""

from twisted.internet.task import Clock
from twisted.trial import unittest

from mixtwisted.throttle import Throttle


class ThrottleTests(unittest.TestCase):

    def test_burstThenRate(self):
        """
        A key gets C{burst} events at once, then C{rate} per second.
        """
        clock = Clock()
        throttle = Throttle(clock, rate=2, burst=3)
        self.assertEqual([True, True, True, False],
                         [throttle.allow("a") for _ in range(4)])
        clock.advance(0.5)
        self.assertEqual([True, False],
                         [throttle.allow("a") for _ in range(2)])

    def test_keysIndependent(self):
        """
        One flooding key does not slow another.
        """
        throttle = Throttle(Clock(), rate=1, burst=1)
        self.assertTrue(throttle.allow("a"))
        self.assertFalse(throttle.allow("a"))
        self.assertTrue(throttle.allow("b"))

    def test_idleKeysForgotten(self):
        """
        Buckets that are full again are dropped when many keys are kept.
        """
        clock = Clock()
        throttle = Throttle(clock, rate=1, burst=1)
        for n in range(10001):
            throttle.allow(n)
        clock.advance(5)
        throttle.allow("x")
        self.assertEqual(1, len(throttle._buckets))

    def test_manyKeysCheap(self):
        """
        Issue 4 limits, RELAY-8: with many more keys than C{maxKeys}
        sending at once, each event looks at O(1) buckets (amortized), not
        at all of them: 30,000 keys in one instant cost fewer than two
        bucket checks each, and the buckets kept stay within C{maxKeys}.
        """
        checks = []
        throttle = Throttle(Clock(), rate=5, burst=20)
        throttle.maxKeys = 10000
        original = throttle._isFull

        def counting(entry, now):
            checks.append(1)
            return original(entry, now)

        throttle._isFull = counting
        for n in range(30000):
            self.assertTrue(throttle.allow("u@x/%d" % (n,)))
        self.assertLess(len(checks), 2 * 30000)
        self.assertLessEqual(len(throttle._buckets), throttle.maxKeys)

    def test_leastRecentlyUsedEvicted(self):
        """
        Issue 4 limits: past C{maxKeys} the least recently used bucket is
        dropped, not one in use: a key kept busy stays throttled.
        """
        throttle = Throttle(Clock(), rate=1, burst=1)
        throttle.maxKeys = 3
        self.assertTrue(throttle.allow("busy"))
        for n in range(10):
            self.assertFalse(throttle.allow("busy"))
            throttle.allow(n)
        self.assertFalse(throttle.allow("busy"))
        self.assertEqual(3, len(throttle._buckets))
        self.assertNotIn(0, throttle._buckets)

    def test_idleKeysForgottenInOrder(self):
        """
        Issue 4 limits: buckets full again are forgotten as later events
        come, oldest first, whatever the number of keys.
        """
        clock = Clock()
        throttle = Throttle(clock, rate=1, burst=2)
        throttle.allow("a")
        clock.advance(0.5)
        throttle.allow("b")
        clock.advance(0.6)
        throttle.allow("c")
        self.assertEqual(["b", "c"], list(throttle._buckets))
