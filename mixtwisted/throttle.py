"""
Per-sender rate limits: a client flooding the service with presence or
IQs is slowed down without affecting others (issue 4).

A token bucket per key (a real full JID, bare JID or domain), refilled on
the injected clock.  Buckets are kept in least-recently-used order: every
event moves its key to the end, and the oldest buckets are looked at from
the front only.  Those that are full again are forgotten (an idle sender
costs nothing), so each call does O(1) work amortized however many keys
there are; past C{maxKeys} buckets the oldest is forgotten even when not
full, which bounds the memory a sender rotating keys can take.
"""

from collections import OrderedDict


class Throttle:
    """
    Allow each key C{rate} events per second on average, in bursts of up
    to C{burst}.

    @param clock: provides C{seconds()} (the reactor, or a C{Clock}).
    @ivar maxKeys: buckets kept at most; past it the least recently used
        is dropped (its key starts again with a full bucket).
    """

    maxKeys = 100000

    def __init__(self, clock, rate, burst):
        self.clock = clock
        self.rate = float(rate)
        self.burst = float(burst)
        self._buckets = OrderedDict()

    def allow(self, key):
        """
        Take one token for C{key}.

        @return: C{False} when C{key} is over its rate: the caller drops or
            refuses the event.
        """
        now = self.clock.seconds()
        buckets = self._buckets
        entry = buckets.get(key)
        if entry is None:
            tokens = self.burst
        else:
            tokens = min(self.burst, entry[0] + (now - entry[1]) * self.rate)
            buckets.move_to_end(key)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        buckets[key] = (tokens, now)
        self._prune(now)
        return allowed

    def _prune(self, now):
        """
        Forget the least recently used buckets that are full again, and
        the oldest beyond C{maxKeys}; stop at the first one kept.
        """
        buckets = self._buckets
        while len(buckets) > self.maxKeys:
            buckets.popitem(last=False)
        while buckets:
            key = next(iter(buckets))
            if not self._isFull(buckets[key], now):
                return
            del buckets[key]

    def _isFull(self, entry, now):
        """
        Tell whether a bucket C{(tokens, last)} is full again at C{now}.
        """
        tokens, last = entry
        return tokens + (now - last) * self.rate >= self.burst
