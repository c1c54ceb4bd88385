"""
L{PgsqlStore}: the storage interfaces, their shared plumbing (pool, read
cache, archive group commit) and the store's start and stop.
"""

from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from mixtwisted.interfaces import IMIXStorage
from mixtwisted.store import schema
from mixtwisted.store.pgsql.archive import ArchiveStorage
from mixtwisted.store.pgsql.cache import MISSING, ReadCache
from mixtwisted.store.pgsql.channels import ChannelStorage
from mixtwisted.store.pgsql.database import Database
from mixtwisted.store.pgsql.deliveries import DeliveryStorage
from mixtwisted.store.pgsql.groupcommit import GroupCommit
from mixtwisted.store.pgsql.identities import ClientStorage, NickStorage
from mixtwisted.store.pgsql.nodes import ItemStorage, PresenceStorage
from mixtwisted.store.pgsql.participants import ParticipantStorage
from mixtwisted.store.pgsql.subscriptions import SubscriptionStorage

log = Logger()

#: The outcome of stop() before it completes.
_RUNNING = object()


@implementer(IMIXStorage)
class PgsqlStore(ChannelStorage, ParticipantStorage, SubscriptionStorage,
                 ArchiveStorage, NickStorage, ItemStorage, ClientStorage,
                 PresenceStorage, DeliveryStorage):
    """
    Keep channels, participants, subscriptions, archives and the rest in
    PostgreSQL, through txpostgres.

    See L{mixtwisted.store.pgsql} for the design and its assumptions (this
    process is the only writer of its database).

    @ivar cache: the L{ReadCache} of the hot reads.
    """

    name = "pgsql"

    def __init__(self, dsn, reactor=None, poolSize=4, cacheSize=4096,
                 connectTimeout=10.0, stopTimeout=10.0):
        """
        @param dsn: libpq connection string or URI.
        @param reactor: the reactor the connections run on (the global one
            by default).
        @param poolSize: how many connections to open.
        @param cacheSize: the most read answers kept (0: no cache).
        @param connectTimeout: seconds L{start} waits for the connections.
        @param stopTimeout: seconds L{stop} waits for the work under way
            before it closes the connections anyway (C{None}: no limit).
        """
        if reactor is None:
            from twisted.internet import reactor
        self._reactor = reactor
        self.stopTimeout = stopTimeout
        self._dsn = dsn
        self._db = Database(None, reactor, poolSize, connectTimeout)
        self.cache = ReadCache(cacheSize)
        # key -> (token, waiters) of the cache misses being loaded
        self._loading = {}
        self._archiveWriter = GroupCommit(self._writeMessages)
        self._starting = False
        self._startWaiters = []
        self._stopWaiters = []
        self._stopped = _RUNNING

    def start(self):
        """
        Open the connections and apply the schema migrations the database
        has not had yet.
        """
        self._starting = True
        return self._start().addBoth(self._afterStart)

    @defer.inlineCallbacks
    def _start(self):
        self._db.dsn = schema.withDefaults(
            self._dsn, application_name="mixtwisted")
        yield self._db.start()
        try:
            applied = yield schema.migrate(self._db)
        except BaseException:
            self._db.close()
            raise
        for migration in applied:
            log.info("Applied schema migration {label}",
                     label=migration.label)

    def _afterStart(self, result):
        self._starting = False
        waiters, self._startWaiters = self._startWaiters, []
        for waiter in waiters:
            waiter.callback(None)
        return result

    @property
    def busy(self):
        """
        How much work is under way: statements sent and not answered yet
        (an answer's work includes the callbacks its caller chained on it,
        which may send the caller's next statement), and archive entries
        waiting for their batch.
        """
        return self._db.busy + self._archiveWriter.pending

    @defer.inlineCallbacks
    def whenIdle(self):
        """
        @return: Deferred firing once no work is under way: no statement,
            no archive entry queued, none started by the callers'
            callbacks (see L{Database.whenIdle}).
        """
        while self._archiveWriter.writing or self._db.busy:
            yield self._archiveWriter.whenIdle()
            yield self._db.whenIdle()

    def stop(self):
        """
        Wait for the work under way (L{whenIdle}: requests of several
        statements are not cut between two of them, queued archive batches
        are written), at most L{stopTimeout} seconds, then close the
        connections; what is still under way then fails.  Safe to call
        more than once, and after a failed start.  Operations keep being
        accepted until the connections close: a request half done must be
        able to finish.
        """
        d = defer.Deferred()
        if self._stopped is not _RUNNING:
            d.callback(self._stopped)
            return d
        self._stopWaiters.append(d)
        if len(self._stopWaiters) == 1:
            self._stop().addBoth(self._afterStop)
        return d

    @defer.inlineCallbacks
    def _stop(self):
        if self._starting:
            waiter = defer.Deferred()
            self._startWaiters.append(waiter)
            yield waiter
        yield self._drain()
        self._db.close()

    def _drain(self):
        """
        L{whenIdle}, bounded by L{stopTimeout}: what is left then is logged.
        """
        idle = self.whenIdle()
        if self.stopTimeout is None:
            return idle
        done = defer.Deferred()

        def expired():
            log.warn("Stopping the PostgreSQL store with work still under "
                     "way after {timeout} s ({operations} statements, "
                     "{entries} archive entries queued); it is abandoned",
                     timeout=self.stopTimeout, operations=self._db.busy,
                     entries=self._archiveWriter.pending)
            done.callback(None)

        timer = self._reactor.callLater(self.stopTimeout, expired)

        def finished(result):
            if timer.active():
                timer.cancel()
                done.callback(None)
        idle.addBoth(finished)
        return done

    def _afterStop(self, result):
        # A failure is handed to every caller of stop().
        self._stopped = result
        waiters, self._stopWaiters = self._stopWaiters, []
        for waiter in waiters:
            waiter.callback(result)

    # Plumbing shared by the interface classes.

    def _cachedRead(self, key, scopes, load, *args, copy):
        """
        Answer a read from the cache, or call C{load(*args)} and keep its
        answer unless a write raced it.  Reads of a key that arrive while
        it is being loaded, with no write since the load began, wait for
        that load instead of sending the same query again (a burst of
        messages to one channel asks for the same records at once).

        @param copy: makes the copy handed out of a value kept.
        """
        value = self.cache.get(key)
        if value is not MISSING:
            return defer.succeed(copy(value))
        loading = self._loading.get(key)
        if loading is not None and \
                self.cache.unchanged(key, scopes, loading[0]):
            waiter = defer.Deferred()
            loading[1].append(waiter)
            return waiter.addCallback(copy)
        token = self.cache.begin(key, scopes)
        waiters = []
        self._loading[key] = (token, waiters)
        d = load(*args)

        def loaded(value):
            self._loaded(key, waiters)
            self.cache.finish(key, scopes, token, value)
            for waiter in waiters:
                waiter.callback(value)
            return copy(value)

        def failed(failure):
            self._loaded(key, waiters)
            self.cache.finish(key, scopes, token)
            for waiter in waiters:
                waiter.errback(failure)
            return failure
        return d.addCallbacks(loaded, failed)

    def _loaded(self, key, waiters):
        loading = self._loading.get(key)
        if loading is not None and loading[1] is waiters:
            del self._loading[key]

    def _write(self, names, run, *args):
        """
        Call C{run(*args)}, a write changing the cache keys and scopes in
        C{names}: their entries go when it starts and again once it is
        done, before its caller hears of it.
        """
        self.cache.invalidate(names)
        d = run(*args)

        def done(result):
            self.cache.invalidate(names)
            return result
        return d.addBoth(done)
