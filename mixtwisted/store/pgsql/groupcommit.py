"""
Group commit: many writers, one transaction per batch.
"""

from twisted.internet import defer
from twisted.python.failure import Failure


class GroupCommit:
    """
    Write entries in batches, one batch at a time.

    The first entry added while nothing is being written is written at
    once, alone (no timer).  Entries added while a batch is being written
    wait; when it is done, its Deferreds fire in the order the entries were
    added, and everything that queued meanwhile (also entries added by
    those callbacks), up to L{maxBatch} entries, is written as the next
    batch.

    @ivar batches: how many batches were written (for tests and
        statistics).
    """

    def __init__(self, write, maxBatch=1000):
        """
        @param write: called with a list of entries; returns a Deferred
            firing with a list of the same length holding, for each entry,
            C{None} when it was written or the exception it failed with.
            Its failure fails every entry of the batch.
        @param maxBatch: the most entries written at once.
        """
        self._write = write
        self.maxBatch = maxBatch
        self._queue = []
        self._writing = False
        self._idleWaiters = []
        self.batches = 0

    def add(self, entry):
        """
        @return: Deferred firing with C{None} once C{entry} is written
            (committed), or failing with its error.
        """
        d = defer.Deferred()
        self._queue.append((entry, d))
        if not self._writing:
            self._next()
        return d

    @property
    def writing(self):
        """
        Whether a batch is being written (or entries wait for one).
        """
        return self._writing

    @property
    def pending(self):
        """
        The number of entries added and not written yet.
        """
        return len(self._queue)

    def whenIdle(self):
        """
        @return: Deferred firing once nothing is queued or being written.
        """
        if not self._writing:
            return defer.succeed(None)
        d = defer.Deferred()
        self._idleWaiters.append(d)
        return d

    def _next(self):
        batch = self._queue[:self.maxBatch]
        del self._queue[:self.maxBatch]
        self._writing = True
        self.batches += 1
        d = defer.maybeDeferred(self._write, [entry for entry, _ in batch])
        d.addCallbacks(self._written, self._failed,
                       callbackArgs=(batch,), errbackArgs=(batch,))

    def _written(self, outcomes, batch):
        for (_, d), outcome in zip(batch, outcomes):
            if outcome is None:
                d.callback(None)
            else:
                d.errback(Failure(outcome))
        self._done()

    def _failed(self, failure, batch):
        for _, d in batch:
            d.errback(failure)
        self._done()

    def _done(self):
        if self._queue:
            self._next()
            return
        self._writing = False
        waiters, self._idleWaiters = self._idleWaiters, []
        for waiter in waiters:
            waiter.callback(None)
