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

from twisted.internet.defer import DeferredLock


class KeyedSerializer:
    """
    Run callables one at a time per key.

    Locks exist only while a key is busy: an idle key costs nothing, so
    many channels do not grow this object.
    """

    def __init__(self):
        self._locks = {}

    def run(self, key, f, *args, **kwargs):
        """
        Call C{f(*args, **kwargs)} once every earlier call with C{key} has
        finished (succeeded or failed).

        @return: a Deferred firing with the result of C{f}.
        """
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = DeferredLock()
        d = lock.run(f, *args, **kwargs)
        d.addBoth(self._release, key, lock)
        return d

    def _release(self, result, key, lock):
        if not lock.locked and not lock.waiting and \
                self._locks.get(key) is lock:
            del self._locks[key]
        return result

    def busy(self):
        """
        The keys with a call running or queued.
        """
        return set(self._locks)


def exclusive(parameter, scope=""):
    """
    Decorate a method that changes a channel so that it runs alone among
    the changes of that channel (see the module docstring).

    The instance must have a C{serial} attribute (a L{KeyedSerializer}),
    or a C{channels} attribute that has one.  Decorated methods must not
    call each other with the same key: the inner call would wait for the
    outer one forever.

    @param parameter: the name of the method's parameter holding the
        channel name (C{None} serializes on C{""}: service-wide).
    @param scope: a prefix keeping keys of other kinds (registered nicks)
        apart from channel names.
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
            return serial.run(scope + (key or ""), method, self, *args,
                              **kwargs)
        return wrapper
    return decorate
