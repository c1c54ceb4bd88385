"""
One change at a time per channel.

A request that reads a channel's state, decides, and writes (a join that
consumes an invitation, a configuration change that evicts, a nick that must
be unique) is only correct if no other change of the same channel runs in
between.  With the memory store every step completes at once, so nothing
ever interleaves; with a database store each step waits for a round trip
and two requests could.  L{KeyedSerializer} queues the changes of one key
(a channel name) behind each other, in arrival order, and lets changes of
different keys run side by side.  When nothing is queued the change starts
at once, so the memory store runs as before.

This serializes within one service process, which is the supported set-up
(the PostgreSQL store's single-writer assumption, doc/decisions.md).
"""

import functools
import inspect

from collections import deque

from twisted.internet import defer
from twisted.python import failure


class KeyedSerializer:
    """
    Run callables one at a time per key.

    A key has a queue only while it is busy: an idle key costs nothing, so
    many channels do not grow this object.  Queued calls that finish at
    once (a store answering from its cache) are run in a loop, not one
    inside the other, so a burst of thousands of messages to one channel
    does not grow the stack.
    """

    def __init__(self):
        # key -> deque of (f, args, kwargs, Deferred) waiting or running
        self._queues = {}

    def run(self, key, f, *args, **kwargs):
        """
        Call C{f(*args, **kwargs)} once every earlier call with C{key} has
        finished (succeeded or failed).

        @return: a Deferred firing with the result of C{f}.
        """
        d = defer.Deferred()
        queue = self._queues.get(key)
        if queue is not None:
            queue.append((f, args, kwargs, d))
            return d
        queue = self._queues[key] = deque([(f, args, kwargs, d)])
        self._drain(key, queue)
        return d

    def _drain(self, key, queue):
        """
        Run the calls at the head of C{queue} until one has to wait, or
        none is left.
        """
        while queue:
            f, args, kwargs, d = queue[0]
            outcome = []
            result = defer.maybeDeferred(f, *args, **kwargs)
            result.addBoth(outcome.append)
            if not outcome:
                # It waits: carry on when it has finished.
                result.addCallback(self._finished, key, queue, outcome)
                return
            queue.popleft()
            _fire(d, outcome[0])
        if self._queues.get(key) is queue:
            del self._queues[key]

    def _finished(self, ignored, key, queue, outcome):
        f, args, kwargs, d = queue.popleft()
        _fire(d, outcome[0])
        self._drain(key, queue)

    def busy(self):
        """
        The keys with a call running or queued.
        """
        return set(self._queues)


def _fire(d, result):
    if isinstance(result, failure.Failure):
        d.errback(result)
    else:
        d.callback(result)


def exclusive(parameter):
    """
    Decorate a method that changes a channel so that it runs alone among
    the changes of that channel (see the module docstring).

    The instance must have a C{serial} attribute (a L{KeyedSerializer}),
    or a C{channels} attribute that has one.  Decorated methods must not
    call each other with the same key: the inner call would wait for the
    outer one forever.

    @param parameter: the name of the method's parameter holding the
        channel name (C{None} serializes on C{""}: service-wide).
    """
    def decorate(method):
        position = list(inspect.signature(method).parameters).index(parameter)

        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            if parameter in kwargs:
                key = kwargs[parameter]
            elif len(args) >= position:
                key = args[position - 1]
            else:
                key = None
            serial = getattr(self, "serial", None)
            if serial is None:
                serial = self.channels.serial
            return serial.run(key or "", method, self, *args, **kwargs)
        return wrapper
    return decorate
