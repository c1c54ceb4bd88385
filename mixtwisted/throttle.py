"""
Per-sender rate limits: a client flooding the service with presence or
IQs is slowed down without affecting others (issue 4).

A token bucket per key (a real full JID), refilled on the injected clock.
Buckets that are full again are forgotten, so idle senders cost nothing.
"""


class Throttle:
    """
    Allow each key C{rate} events per second on average, in bursts of up
    to C{burst}.

    @param clock: provides C{seconds()} (the reactor, or a C{Clock}).
    """

    def __init__(self, clock, rate, burst):
        self.clock = clock
        self.rate = float(rate)
        self.burst = float(burst)
        self._buckets = {}

    def allow(self, key):
        """
        Take one token for C{key}.

        @return: C{False} when C{key} is over its rate: the caller drops or
            refuses the event.
        """
        now = self.clock.seconds()
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1.0, now)
        if len(self._buckets) > 10000:
            self._forgetFull(now)
        return True

    def _forgetFull(self, now):
        for key, (tokens, last) in list(self._buckets.items()):
            if tokens + (now - last) * self.rate >= self.burst:
                del self._buckets[key]
