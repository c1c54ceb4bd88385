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
