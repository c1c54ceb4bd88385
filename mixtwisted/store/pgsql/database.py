"""
Connections of the pgsql store: a txpostgres pool that reconnects, counts
the operations under way, and closes without leaving anything in the
reactor.
"""

import psycopg2
import psycopg2.extensions
from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from txpostgres import reconnection, retrying, txpostgres

log = Logger()


class StoreNotRunning(Exception):
    """
    The store was asked to do something before C{start()} or after
    C{stop()}.
    """


def oneLine(error):
    """
    Return the message of an exception (psycopg2's span several lines) on
    one line.
    """
    return " ".join(str(error).split()) or type(error).__name__


def describe(dsn):
    """
    Name the server and database of C{dsn} for messages: its host, port,
    database and user, never its password.
    """
    try:
        given = psycopg2.extensions.parse_dsn(dsn)
    except psycopg2.Error:
        return "(unreadable connection string)"
    return ", ".join("%s %s" % (label, given[key]) for key, label in (
        ("host", "host"), ("hostaddr", "address"), ("port", "port"),
        ("dbname", "database"), ("user", "user")) if key in given) or \
        "(libpq defaults)"


class _Connection(txpostgres.Connection):
    """
    A txpostgres connection that reports a connection the server closed
    as a disconnection rather than as an unhandled error.

    txpostgres keeps every connection readable (for C{NOTIFY}); when the
    server goes away, C{poll()} raises in C{doRead}, which the reactor
    would log as an unhandled error.  Returning the exception instead
    makes the reactor call C{connectionLost} with it quietly, and the
    connection's detector starts reconnecting.
    """

    def doRead(self):
        try:
            return txpostgres.Connection.doRead(self)
        except psycopg2.Error as e:
            return e

    def doWrite(self):
        try:
            return txpostgres.Connection.doWrite(self)
        except psycopg2.Error as e:
            return e


class _Detector(reconnection.DeadConnectionDetector):
    """
    Reconnect one connection after the server or the network dropped it:
    at once, then with a growing delay (at most 10 seconds).  Operations
    given to that connection meanwhile fail with
    L{reconnection.ConnectionDead}.  L{cancel} stops a reconnection under
    way when the store stops.
    """

    def __init__(self, database):
        reconnection.DeadConnectionDetector.__init__(
            self, reactor=database.reactor)
        self._database = database
        self._retrying = None

    def _delays(self):
        return retrying.simpleBackoffIterator(
            initialDelay=0.5, maxDelay=10.0, factor=1.7, maxRetries=0,
            now=True)

    def _giveUpWhenStopping(self, failure):
        return failure if self._database.closing else None

    def startReconnecting(self, failure):
        if self._database.closing:
            return
        log.warn("PostgreSQL connection lost ({error}); reconnecting",
                 error=oneLine(failure.value))
        call = retrying.RetryingCall(self.reconnect)
        call.reactor = self.reactor
        self._retrying = d = call.start(self._delays(),
                                        self._giveUpWhenStopping)
        d.addCallback(self._recovered)
        d.addErrback(self._stopped)

    def _recovered(self, _):
        self._retrying = None
        log.info("PostgreSQL connection restored")
        return self.connectionRecovered()

    def _stopped(self, failure):
        self._retrying = None
        if not self._database.closing:
            log.failure("PostgreSQL reconnection stopped", failure)

    def cancel(self):
        """
        Stop reconnecting (the store is stopping).
        """
        d, self._retrying = self._retrying, None
        if d is not None:
            try:
                d.cancel()
            except Exception:
                # A connection attempt under way cannot be cancelled; it
                # fails when the pool closes its connection.
                pass


class _Pool(txpostgres.ConnectionPool):
    """
    txpostgres' pool on our reactor, with reconnecting connections.
    """

    def __init__(self, database, dsn, size):
        self.reactor = database.reactor
        self._database = database
        txpostgres.ConnectionPool.__init__(self, None, dsn, min=size)

    def connectionFactory(self, reactor, cooperator):
        return _Connection(reactor, cooperator,
                           detector=_Detector(self._database))


def _close(connection):
    """
    Close a txpostgres connection that may never have connected.
    """
    if connection.pollable() is not None:
        connection.close()
    if connection.detector is not None:
        connection.detector.cancel()


class ConnectTimeout(Exception):
    """
    PostgreSQL did not accept the connections in time.
    """


class Database:
    """
    A pool of C{size} connections to the database named by C{dsn}.

    L{runQuery}, L{runOperation} and L{runInteraction} are those of
    txpostgres (a query is its own transaction; an interaction runs
    between C{BEGIN} and C{COMMIT}, rolled back when it fails), counted
    so that L{whenIdle} can tell when none is under way.

    An operation counts as under way until the callbacks its caller chained
    on its Deferred have run: a request of several steps starts its next
    statement from those callbacks, so the count never drops to zero
    between two steps and L{whenIdle} does not fire in the middle of the
    request.  Work its callbacks put off to a later reactor turn is covered
    too: L{whenIdle} fires one turn after the count reached zero, and only
    if it is still zero then.

    @ivar reactor: the reactor the connections run on.
    @ivar closing: C{True} once L{close} was called.
    """

    def __init__(self, dsn, reactor, size=4, connectTimeout=10.0):
        self.dsn = dsn
        self.reactor = reactor
        self.size = size
        self.connectTimeout = connectTimeout
        self.closing = False
        self._pool = None
        # Every connection of the pool: txpostgres' pool lists only those
        # not lent out.
        self._connections = []
        self._busy = 0
        self._idleWaiters = []
        self._idleCheck = None

    def start(self):
        """
        Open the connections.

        libpq does not apply C{connect_timeout} to the asynchronous
        connections txpostgres makes, so the whole start is bounded by
        C{connectTimeout} here.

        @return: Deferred firing with C{None}; on failure every connection
            is closed and the Deferred fails with the first error, or with
            L{ConnectTimeout}.
        """
        pool = _Pool(self, self.dsn, self.size)
        connections = list(pool.connections)
        timedOut = []

        def timeOut():
            timedOut.append(True)
            for connection in connections:
                _close(connection)

        timer = self.reactor.callLater(self.connectTimeout, timeOut)
        d = defer.DeferredList(
            [connection.connect(self.dsn) for connection in connections],
            consumeErrors=True)

        def connected(results):
            if timer.active():
                timer.cancel()
            failures = [result for ok, result in results if not ok]
            if timedOut or failures:
                for connection in connections:
                    _close(connection)
                if timedOut:
                    raise ConnectTimeout(
                        "PostgreSQL at %s did not answer within %g seconds"
                        % (describe(self.dsn), self.connectTimeout))
                error = failures[0].value
                if isinstance(error, psycopg2.OperationalError):
                    # libpq's asynchronous connections do not say which
                    # server refused them.
                    raise type(error)("cannot connect to PostgreSQL at %s: %s"
                                      % (describe(self.dsn), oneLine(error)))
                return failures[0]
            self._pool = pool
            self._connections = connections
        return d.addCallback(connected)

    def _run(self, method, *args, **kwargs):
        if self._pool is None:
            return defer.fail(StoreNotRunning(
                "The PostgreSQL store is not running"))
        self._busy += 1
        d = defer.maybeDeferred(getattr(self._pool, method), *args, **kwargs)
        # txpostgres' Deferred is "called" as soon as the pool hands out a
        # connection; give callers one that fires with the outcome only.
        outcome = defer.Deferred()
        d.addBoth(self._deliver, outcome)
        return outcome

    def _deliver(self, result, outcome):
        """
        Hand the outcome of an operation to its caller, and only then count
        the operation as finished: the caller's callbacks may start its
        next step.
        """
        try:
            if isinstance(result, Failure):
                outcome.errback(result)
            else:
                outcome.callback(result)
        finally:
            self._finished()

    def _finished(self):
        self._busy -= 1
        if self._busy or not self._idleWaiters:
            return
        if self.closing:
            # Nothing starts any more: no need to look again.
            self._checkIdle()
        elif self._idleCheck is None:
            self._idleCheck = self.reactor.callLater(0, self._checkIdle)

    def _checkIdle(self):
        self._idleCheck = None
        if self._busy:
            return
        waiters, self._idleWaiters = self._idleWaiters, []
        for waiter in waiters:
            waiter.callback(None)

    def runQuery(self, sql, params=None):
        """
        @return: Deferred firing with the rows of one statement.
        """
        return self._run("runQuery", sql, params)

    def runOperation(self, sql, params=None):
        """
        @return: Deferred firing with C{None} once the statement ran.
        """
        return self._run("runOperation", sql, params)

    def runInteraction(self, interaction, *args, **kwargs):
        """
        Call C{interaction(cursor, *args, **kwargs)} inside a transaction.
        """
        return self._run("runInteraction", interaction, *args, **kwargs)

    @property
    def busy(self):
        """
        The number of operations under way (their callers' callbacks
        included).
        """
        return self._busy

    def whenIdle(self):
        """
        @return: Deferred firing once no operation is under way: at once
            when none is, otherwise on the reactor turn after the last one
            finished, if no other has started by then.
        """
        if not self._busy:
            return defer.succeed(None)
        d = defer.Deferred()
        self._idleWaiters.append(d)
        return d

    def close(self):
        """
        Close every connection and stop reconnecting.  Call it when idle:
        operations still under way fail.
        """
        self.closing = True
        if self._idleCheck is not None:
            if self._idleCheck.active():
                self._idleCheck.cancel()
            self._idleCheck = None
        self._pool = None
        connections, self._connections = self._connections, []
        for connection in connections:
            _close(connection)
        if not self._busy:
            self._checkIdle()


def raiseInstead(failure, errorClass, exception):
    """
    An errback: raise C{exception} for a failure of C{errorClass} (a
    psycopg2 error class), let any other failure through.
    """
    failure.trap(errorClass)
    raise exception
