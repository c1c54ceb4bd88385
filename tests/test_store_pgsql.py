"""
The storage contract tests (L{tests.storetests}) on the PostgreSQL store,
and what only the PostgreSQL store has to show.
"""

import io
import random
import subprocess
import sys
from dataclasses import replace

import psycopg2
import psycopg2.errors
from twisted.internet import defer, protocol, reactor, task
from twisted.trial import unittest
from txpostgres import reconnection

from mixtwisted import migrate
from mixtwisted.errors import Conflict, NotFound
from mixtwisted.records import (
    ArchivedMessage, ArchiveQuery, ChannelRecord, ParticipantRecord,
    PresenceRecord)
from mixtwisted.store import paging, schema
from mixtwisted.store.memory import MemoryStore
from mixtwisted.store.pgsql import PgsqlStore
from mixtwisted.store.pgsql.cache import MISSING, ReadCache
from mixtwisted.store.pgsql.database import (
    ConnectTimeout, Database, StoreNotRunning)
from mixtwisted.store.pgsql.groupcommit import GroupCommit
from tests import storetests
from tests.pgsql import (
    PgsqlStoreMixin, processDatabase, scratchDatabase, startStore,
    unreachable)


class PgsqlChannelStorageTests(PgsqlStoreMixin,
                               storetests.ChannelStorageTests,
                               unittest.TestCase):
    pass


class PgsqlParticipantStorageTests(PgsqlStoreMixin,
                                   storetests.ParticipantStorageTests,
                                   unittest.TestCase):
    pass


class PgsqlSubscriptionStorageTests(PgsqlStoreMixin,
                                    storetests.SubscriptionStorageTests,
                                    unittest.TestCase):
    pass


class PgsqlArchiveStorageTests(PgsqlStoreMixin,
                               storetests.ArchiveStorageTests,
                               unittest.TestCase):
    pass


class PgsqlNickStorageTests(PgsqlStoreMixin, storetests.NickStorageTests,
                            unittest.TestCase):
    pass


class PgsqlItemStorageTests(PgsqlStoreMixin, storetests.ItemStorageTests,
                            unittest.TestCase):
    pass


class PgsqlClientStorageTests(PgsqlStoreMixin,
                              storetests.ClientStorageTests,
                              unittest.TestCase):
    pass


class PgsqlPresenceStorageTests(PgsqlStoreMixin,
                                storetests.PresenceStorageTests,
                                unittest.TestCase):
    pass


class PgsqlDeliveryStorageTests(PgsqlStoreMixin,
                                storetests.DeliveryStorageTests,
                                unittest.TestCase):
    pass


# What only the PostgreSQL store has to show.

M = storetests.M
J = storetests.J


def message(n, channel="coven", node=M, sender="p1#coven@mix.example.org",
            xml=None, itemId=None):
    return ArchivedMessage("%016X-AB" % (n,), float(n), node, sender,
                           xml if xml is not None else
                           "<message id='%d'/>" % (n,), itemId)


class GroupCommitUnitTests(unittest.SynchronousTestCase):
    """
    L{GroupCommit} with a write function the test answers.
    """

    def setUp(self):
        self.calls = []
        self.queue = GroupCommit(self.write, maxBatch=3)
        self.fired = []

    def write(self, entries):
        d = defer.Deferred()
        self.calls.append((entries, d))
        return d

    def add(self, entry):
        d = self.queue.add(entry)
        d.addCallbacks(lambda _: self.fired.append(entry),
                       lambda f: self.fired.append((entry, f.value)))
        return d

    def test_firstAtOnce(self):
        """
        With nothing in flight, an entry is written at once, alone.
        """
        self.add("a")
        self.assertEqual([["a"]], [entries for entries, _ in self.calls])

    def test_queuedTogetherInOrder(self):
        """
        Entries added while a batch is written go together in the next
        one; Deferreds fire in the order of the calls, each after its own
        batch.
        """
        for entry in "abcd":
            self.add(entry)
        self.assertEqual(1, len(self.calls))
        self.calls[0][1].callback([None])
        self.assertEqual(["a"], self.fired)
        self.assertEqual(["b", "c", "d"], self.calls[1][0])
        self.calls[1][1].callback([None, None, None])
        self.assertEqual(list("abcd"), self.fired)
        self.assertFalse(self.queue.writing)

    def test_maxBatch(self):
        for entry in "abcdefg":
            self.add(entry)
        for _ in range(3):
            entries, d = self.calls[-1]
            d.callback([None] * len(entries))
        self.assertEqual([["a"], ["b", "c", "d"], ["e", "f", "g"]],
                         [entries for entries, _ in self.calls])

    def test_addedByCallbacks(self):
        """
        Entries added by the callbacks of a batch join the next batch.
        """
        self.add("a").addCallback(lambda _: self.add("c"))
        self.add("b")
        self.calls[0][1].callback([None])
        self.assertEqual(["b", "c"], self.calls[1][0])

    def test_outcomes(self):
        """
        An entry's own failure fails its Deferred only.
        """
        self.add("a")
        self.add("b")
        self.add("c")
        self.calls[0][1].callback([None])
        error = ValueError("bad")
        self.calls[1][1].callback([error, None])
        self.assertEqual(["a", ("b", error), "c"], self.fired)

    def test_batchFails(self):
        """
        A failed batch fails every Deferred of it, and the next batch is
        written.
        """
        self.add("a")
        self.add("b")
        self.add("c")
        self.calls[0][1].callback([None])
        self.add("d")
        self.calls[1][1].errback(ValueError("down"))
        self.assertEqual(["a", "b", "c"],
                         [f if isinstance(f, str) else f[0]
                          for f in self.fired])
        self.assertIsInstance(self.fired[1][1], ValueError)
        self.assertEqual(["d"], self.calls[2][0])
        self.calls[2][1].callback([None])
        self.assertEqual("d", self.fired[-1])

    def test_whenIdle(self):
        self.assertTrue(self.queue.whenIdle().called)
        self.add("a")
        self.add("b")
        idle = self.queue.whenIdle()
        self.calls[0][1].callback([None])
        self.assertFalse(idle.called)
        self.calls[1][1].callback([None])
        self.assertTrue(idle.called)


class _FakePool:
    """
    Stands for txpostgres' pool: every operation waits for the test.
    """

    connections = ()

    def __init__(self):
        self.calls = []

    def runQuery(self, sql, params=None):
        d = defer.Deferred()
        self.calls.append((sql, d))
        return d

    runOperation = runQuery


class DatabaseUnitTests(unittest.SynchronousTestCase):
    """
    L{Database} counts an operation as under way until its caller's
    callbacks have run, and says it is idle a reactor turn later.
    """

    def setUp(self):
        self.clock = task.Clock()
        self.db = Database(None, self.clock)
        self.pool = self.db._pool = _FakePool()
        self.idle = []

    def whenIdle(self):
        self.db.whenIdle().addCallback(lambda _: self.idle.append(True))

    def test_idleAtOnce(self):
        self.whenIdle()
        self.assertEqual([True], self.idle)

    def test_nextStepFromCallbacks(self):
        """
        A request whose second statement starts in the callbacks of its
        first is under way all along: never idle in between.
        """
        steps = []
        first = self.db.runQuery("first")

        def second(result):
            steps.append((result, self.db.busy))
            return self.db.runQuery("second")
        first.addCallback(second)
        self.whenIdle()
        self.pool.calls[0][1].callback("one")
        # The first still counts while its caller's callback runs; then
        # the second is under way.
        self.assertEqual([("one", 1)], steps)
        self.assertEqual(1, self.db.busy)
        self.clock.advance(0)
        self.assertEqual([], self.idle)
        self.pool.calls[1][1].callback("two")
        self.assertEqual((0, []), (self.db.busy, self.idle))
        self.clock.advance(0)
        self.assertEqual([True], self.idle)
        self.assertEqual("two", first.result)

    def test_nextStepOnALaterTurn(self):
        """
        Work the callbacks put off to the next reactor turn (scheduled
        before the idle check) keeps the database busy.
        """
        first = self.db.runQuery("first")
        later = []
        first.addCallback(lambda _: self.clock.callLater(
            0, lambda: later.append(self.db.runQuery("later"))))
        self.whenIdle()
        self.pool.calls[0][1].callback(None)
        self.clock.advance(0)
        self.assertEqual((1, 1, []), (len(later), self.db.busy, self.idle))
        self.pool.calls[1][1].callback(None)
        self.clock.advance(0)
        self.assertEqual([True], self.idle)

    def test_failure(self):
        """
        A failure reaches the caller, and the operation ends.
        """
        d = self.db.runQuery("bad")
        self.pool.calls[0][1].errback(ZeroDivisionError())
        self.failureResultOf(d, ZeroDivisionError)
        self.assertEqual(0, self.db.busy)

    def test_synchronousFailure(self):
        """
        An operation the pool refuses at once is not left counted.
        """
        def refuse(sql, params=None):
            raise ZeroDivisionError()
        self.pool.runQuery = refuse
        self.failureResultOf(self.db.runQuery("x"), ZeroDivisionError)
        self.assertEqual(0, self.db.busy)

    def test_closeWakesWaiters(self):
        """
        Closing fires the idle waiters once nothing is under way, without
        a later turn: nothing can start any more.
        """
        d = self.db.runQuery("x")
        self.whenIdle()
        self.db.close()
        self.assertEqual([], self.idle)
        self.pool.calls[0][1].errback(ZeroDivisionError())
        self.failureResultOf(d, ZeroDivisionError)
        self.assertEqual([True], self.idle)
        self.assertEqual([], self.clock.getDelayedCalls())
        self.failureResultOf(self.db.runQuery("y"), StoreNotRunning)


class ReadCacheUnitTests(unittest.SynchronousTestCase):
    """
    L{ReadCache}: generations, scopes, bounds.
    """

    def setUp(self):
        self.cache = ReadCache(size=3)

    def read(self, key, value, scopes=("s",)):
        token = self.cache.begin(key, scopes)
        return self.cache.finish(key, scopes, token, value)

    def test_fillAndGet(self):
        self.assertIs(MISSING, self.cache.get("k"))
        self.assertTrue(self.read("k", 1))
        self.assertEqual(1, self.cache.get("k"))

    def test_writeDuringRead(self):
        """
        A read that began before a write of its key, or of one of its
        scopes, does not fill the cache.
        """
        token = self.cache.begin("k", ("s",))
        self.cache.invalidate(["k"])
        self.assertFalse(self.cache.finish("k", ("s",), token, "old"))
        token = self.cache.begin("k", ("s",))
        self.cache.invalidate(["s"])
        self.assertFalse(self.cache.finish("k", ("s",), token, "old"))
        self.assertIs(MISSING, self.cache.get("k"))
        self.assertTrue(self.read("k", "new"))

    def test_overlappingReads(self):
        """
        A read begun after the write may fill, one begun before may not,
        whatever order they finish in.
        """
        before = self.cache.begin("k", ())
        self.cache.invalidate(["k"])
        after = self.cache.begin("k", ())
        self.assertTrue(self.cache.finish("k", (), after, "new"))
        self.assertFalse(self.cache.finish("k", (), before, "old"))
        self.assertEqual("new", self.cache.get("k"))

    def test_otherKeysUnaffected(self):
        token = self.cache.begin("k", ("s",))
        self.cache.invalidate(["other", "t"])
        self.assertTrue(self.cache.finish("k", ("s",), token, 1))

    def test_failedRead(self):
        token = self.cache.begin("k", ("s",))
        self.assertFalse(self.cache.finish("k", ("s",), token))
        self.assertEqual({}, self.cache._reading)

    def test_generationsOnlyWhileReading(self):
        """
        Nothing is kept about keys nobody is reading.
        """
        self.read("k", 1)
        self.cache.invalidate(["x%d" % n for n in range(100)])
        self.assertEqual({}, self.cache._reading)

    def test_scopeInvalidation(self):
        self.read("a", 1, ("s", "t"))
        self.read("b", 2, ("s",))
        self.read("c", 3, ("u",))
        self.cache.invalidate(["t"])
        self.assertEqual((MISSING, 2, 3), tuple(
            self.cache.get(k) for k in "abc"))
        self.cache.invalidate(["s"])
        self.assertEqual((MISSING, MISSING, 3), tuple(
            self.cache.get(k) for k in "abc"))
        self.assertEqual({"u": {"c"}}, self.cache._members)

    def test_bounded(self):
        """
        The least recently used entries go beyond the size.
        """
        for key in "abc":
            self.read(key, key)
        self.cache.get("a")
        self.read("d", "d")
        self.assertEqual(3, len(self.cache))
        self.assertIs(MISSING, self.cache.get("b"))
        self.assertEqual("a", self.cache.get("a"))
        self.assertNotIn("b", self.cache._members["s"])

    def test_sizeZero(self):
        cache = ReadCache(size=0)
        token = cache.begin("k", ())
        self.assertFalse(cache.finish("k", (), token, 1))
        self.assertEqual(0, len(cache))


class FixtureTests(unittest.TestCase):
    """
    The fixture's reachability check.
    """

    def test_unreachable(self):
        dsn = "host=127.0.0.1 port=1 user=postgres dbname=postgres"
        reason = unreachable(dsn)
        self.assertTrue(reason.startswith(
            "PostgreSQL not reachable at %s: " % (dsn,)), reason)
        self.assertTrue(reason.endswith("; set MIXTWISTED_TEST_PGSQL"))
        self.assertNotIn("\n", reason)


class SilentServer(protocol.Protocol):
    """
    Accepts a connection and never answers.
    """

    def connectionMade(self):
        self.factory.connections.append(self)
        self.lost = defer.Deferred()

    def connectionLost(self, reason):
        self.lost.callback(None)


class LifecycleTests(unittest.TestCase):
    """
    Starting and stopping, also when the server is not there.
    """

    def test_unreachable(self):
        """
        start() fails with psycopg2's error when nothing listens, and
        leaves nothing in the reactor.
        """
        store = PgsqlStore("host=127.0.0.1 port=1 user=postgres "
                           "password=secret")
        d = self.assertFailure(store.start(), psycopg2.OperationalError)

        def check(error):
            message = str(error)
            self.assertTrue(message.startswith(
                "cannot connect to PostgreSQL at host 127.0.0.1, port 1, "
                "user postgres: "), message)
            self.assertNotIn("secret", message)
            return store.stop()
        return d.addCallback(check)

    def test_badDSN(self):
        store = PgsqlStore("not a dsn")
        return self.assertFailure(store.start(), psycopg2.ProgrammingError)

    @defer.inlineCallbacks
    def test_timeout(self):
        """
        A server that never answers makes start() fail after
        C{connectTimeout}, with every connection closed.
        """
        factory = protocol.Factory.forProtocol(SilentServer)
        factory.connections = []
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        store = PgsqlStore("host=127.0.0.1 port=%d user=x dbname=x" % (
            port.getHost().port,), poolSize=2, connectTimeout=0.3)
        yield self.assertFailure(store.start(), ConnectTimeout)
        yield store.stop()
        yield defer.gatherResults([c.lost for c in factory.connections])

    def test_stopWithoutStart(self):
        store = PgsqlStore("host=127.0.0.1 port=1")
        return store.stop()

    @defer.inlineCallbacks
    def test_stopTwiceAndAfterwards(self):
        """
        stop() may be called again; the store then refuses work.
        """
        store = yield startStore(self)
        yield defer.gatherResults([store.stop(), store.stop()])
        yield store.stop()
        yield self.assertFailure(store.getChannel("coven"), StoreNotRunning)
        yield self.assertFailure(store.appendMessage("coven", message(1)),
                                 StoreNotRunning)

    @defer.inlineCallbacks
    def test_stopWhileStarting(self):
        store = PgsqlStore(processDatabase().dsn)
        started = store.start()
        yield store.stop()
        self.assertTrue(started.called)
        yield self.assertFailure(store.listChannels(), StoreNotRunning)

    @defer.inlineCallbacks
    def test_stopLetsRequestsFinish(self):
        """
        stop() called while a request of several statements is between two
        of them waits for the whole request: its next statement, started
        from the callbacks of the previous one, is still served (a join is
        never stored half done).
        """
        processDatabase().empty()
        store = yield startStore(self)
        yield store.createChannel(ChannelRecord(name="coven"))
        steps = []

        async def join():
            await store.saveParticipant(ParticipantRecord(
                "coven", "a@example.org", "p1"))
            steps.append("participant")
            await store.setSubscriptions("coven", "a@example.org", [M])
            steps.append("subscriptions")
        joined = defer.Deferred.fromCoroutine(join())
        yield store.stop()
        self.assertEqual(["participant", "subscriptions"], steps)
        yield joined
        store = yield startStore(self)
        self.assertEqual({M}, (yield store.getSubscriptions(
            "coven", "a@example.org")))

    @defer.inlineCallbacks
    def test_stopTimeout(self):
        """
        stop() waits at most C{stopTimeout} seconds, logs what it abandons
        and closes the connections; what was under way fails.
        """
        from twisted.logger import globalLogPublisher
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        store = yield startStore(self, stopTimeout=0.2)
        slow = store._db.runQuery("SELECT pg_sleep(2)")
        started = reactor.seconds()
        yield store.stop()
        self.assertLess(reactor.seconds() - started, 1.5)
        yield self.assertFailure(slow, Exception)
        self.assertEqual(1, len([e for e in events if "abandoned" in
                                 e.get("log_format", "")]))

    @defer.inlineCallbacks
    def test_reconnects(self):
        """
        Connections the server closes are opened again; operations fail
        meanwhile, and work afterwards.
        """
        processDatabase().empty()
        store = yield startStore(self)
        yield store.createChannel(ChannelRecord(name="coven"))
        connection = schema.connect(processDatabase().dsn)
        self.addCleanup(connection.close)
        connection.autocommit = True
        connection.cursor().execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() "
            "AND application_name = 'mixtwisted'")
        for attempt in range(100):
            try:
                names = [c.name for c in (yield store.listChannels())]
                break
            except (psycopg2.Error, reconnection.ConnectionDead):
                yield task.deferLater(reactor, 0.05, lambda: None)
        self.assertEqual(["coven"], names)
        # Every connection is back.
        yield defer.gatherResults(
            [store.getParticipant("coven", "x%d" % n) for n in range(8)])


class MigrationTests(unittest.TestCase):
    """
    L{mixtwisted.store.schema} and the C{mixtwisted-migrate} command.
    """

    def setUp(self):
        self.dsn = scratchDatabase(self)

    def tables(self):
        connection = schema.connect(self.dsn)
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT tablename FROM pg_tables "
                           "WHERE schemaname = current_schema()")
            tables = set(row[0] for row in cursor.fetchall())
            versions = []
            if "schema_version" in tables:
                cursor.execute("SELECT version FROM schema_version "
                               "ORDER BY version")
                versions = [row[0] for row in cursor.fetchall()]
            return tables, versions
        finally:
            connection.close()

    def runWith(self, function):
        connection = schema.connect(self.dsn)
        try:
            return schema.resultOf(function(schema.SyncRunner(connection)))
        finally:
            connection.close()

    def test_fresh(self):
        """
        A fresh database gets every migration, once.
        """
        known = schema.migrations()
        self.assertEqual(1, known[0].version)
        self.assertEqual((0, known), self.runWith(schema.status))
        self.assertEqual(known, self.runWith(schema.migrate))
        self.assertEqual((schema.latestVersion(), []),
                         self.runWith(schema.status))
        self.assertEqual([], self.runWith(schema.migrate))
        tables, versions = self.tables()
        self.assertEqual([m.version for m in known], versions)
        self.assertTrue({"channels", "archive", "archive_counts", "proxy_ids",
                         "pending_deliveries"} <= tables)

    def test_archiveFiltersFromVersion1(self):
        """
        Migration 2 fills the new counters of an archive written under
        version 1: whether a node's ids are all timed, and their skews.
        """
        connection = schema.connect(self.dsn)
        self.addCleanup(connection.close)
        runner = schema.SyncRunner(connection)
        schema.resultOf(runner.runInteraction(
            schema._apply, schema.migrations()[0]))
        cursor = connection.cursor()
        cursor.execute(
            "INSERT INTO channels VALUES ('coven', 1, '{}', '{}', 'c', 'i', "
            "false, 0, '{}', '{}', '{}', '{}')")
        for archiveId, stamp, node in (
                ("%016X-AB" % (1000000007,), 1000.0, M),
                ("%016X-AB" % (2000000000,), 1990.0, M),
                ("x", 1.0, J)):
            cursor.execute(
                "INSERT INTO archive (channel, node, archive_id, stamp, xml) "
                "VALUES ('coven', %s, %s, %s, '<message/>')",
                (node, archiveId, stamp))
        cursor.execute("INSERT INTO archive_counts VALUES ('coven', %s, 2), "
                       "('coven', %s, 1)", (M, J))
        connection.commit()
        self.assertEqual(["0002_archive_filters", "0003_participant_revision"],
                         [m.label for m in self.runWith(schema.migrate)])
        cursor.execute("SELECT node, entries, timed, skew_min, skew_max "
                       "FROM archive_counts ORDER BY node")
        self.assertEqual([(J, 1, False, None, None),
                          (M, 2, True, 7, 10000000)], cursor.fetchall())

    def test_participantRevisionFromVersion2(self):
        """
        Migration 3: participants stored under version 2 read as
        urn:xmpp:mix:1 joiners (REV-2), and only the two revisions are
        accepted.
        """
        connection = schema.connect(self.dsn)
        self.addCleanup(connection.close)
        runner = schema.SyncRunner(connection)
        for migration in schema.migrations()[:2]:
            schema.resultOf(runner.runInteraction(schema._apply, migration))
        cursor = connection.cursor()
        cursor.execute(
            "INSERT INTO channels VALUES ('coven', 1, '{}', '{}', 'c', 'i', "
            "false, 0, '{}', '{}', '{}', '{}')")
        cursor.execute(
            "INSERT INTO participants (channel, jid, proxy_id, prefs, joined) "
            "VALUES ('coven', 'a@example.org', 'abc', '{}', 0)")
        connection.commit()
        self.assertEqual(["0003_participant_revision"], [
            m.label for m in self.runWith(schema.migrate)])
        cursor.execute("SELECT revision FROM participants")
        self.assertEqual([("urn:xmpp:mix:1",)], cursor.fetchall())
        self.assertRaises(
            psycopg2.errors.CheckViolation, cursor.execute,
            "UPDATE participants SET revision = 'urn:xmpp:mix:0'")
        connection.rollback()

    def test_statusChangesNothing(self):
        self.runWith(schema.status)
        self.assertEqual((set(), []), self.tables())

    def test_eachInItsTransaction(self):
        """
        A failing migration leaves the ones before it applied and nothing
        of itself.
        """
        known = schema.migrations()
        broken = schema.Migration(
            known[-1].version + 1, "broken",
            "CREATE TABLE half_done (x int); SELECT no_such_function()")
        self.patch(schema, "migrations", lambda: known + [broken])
        self.assertRaises(psycopg2.Error, self.runWith, schema.migrate)
        tables, versions = self.tables()
        self.assertEqual([m.version for m in known], versions)
        self.assertNotIn("half_done", tables)

    @defer.inlineCallbacks
    def test_storeStartMigrates(self):
        store = yield startStore(self, self.dsn)
        yield store.createChannel(ChannelRecord(name="coven"))
        self.assertEqual([schema.latestVersion()], self.tables()[1][-1:])

    @defer.inlineCallbacks
    def test_concurrentStarts(self):
        """
        Stores starting together on a fresh database apply each migration
        once (the advisory lock), and all start.
        """
        stores = [PgsqlStore(self.dsn, poolSize=1) for _ in range(4)]
        for store in stores:
            self.addCleanup(store.stop)
        yield defer.gatherResults([store.start() for store in stores])
        self.assertEqual([m.version for m in schema.migrations()],
                         self.tables()[1])

    @defer.inlineCallbacks
    def test_tooNew(self):
        """
        A store refuses a database a newer mixtwisted migrated, and closes
        its connections.
        """
        self.runWith(schema.migrate)
        connection = schema.connect(self.dsn)
        with connection:
            connection.cursor().execute(
                "INSERT INTO schema_version (version, name) "
                "VALUES (9999, 'future')")
        connection.close()
        store = PgsqlStore(self.dsn)
        yield self.assertFailure(store.start(), schema.SchemaTooNew)
        yield store.stop()

    def command(self, *argv):
        out, err = io.StringIO(), io.StringIO()
        status = migrate.main(list(argv), out, err)
        return status, out.getvalue(), err.getvalue()

    def test_command(self):
        latest = schema.latestVersion()
        self.assertEqual(
            (0, "schema version 0 (this mixtwisted: %d)\npending: %s\n" % (
                latest, ", ".join(m.label for m in schema.migrations())),
             ""), self.command("--dsn", self.dsn, "--status"))
        self.assertEqual(
            (0, "".join("applied %s\n" % (m.label,)
                        for m in schema.migrations()) +
             "schema version %d\n" % (latest,), ""),
            self.command("--dsn", self.dsn))
        self.assertEqual(
            (0, "schema version %d, nothing to apply\n" % (latest,), ""),
            self.command("--dsn", self.dsn))
        self.assertEqual(
            (0, "schema version %d (this mixtwisted: %d)\npending: none\n"
             % (latest, latest), ""),
            self.command("--dsn", self.dsn, "--status"))

    def test_commandErrors(self):
        """
        A bad DSN or an unreachable server is one line on stderr and exit
        status 1.
        """
        for dsn, start in (
                ("nonsense", "mixtwisted-migrate: error: bad --dsn: "),
                ("host=127.0.0.1 port=1 user=postgres",
                 "mixtwisted-migrate: error: cannot connect to PostgreSQL: "
                 )):
            status, out, err = self.command("--dsn", dsn)
            self.assertEqual((1, ""), (status, out))
            self.assertTrue(err.startswith(start), err)
            self.assertEqual(1, err.count("\n"), err)

    def test_commandProcess(self):
        """
        C{python -m mixtwisted.migrate} runs the command; a failure prints
        no traceback.
        """
        result = subprocess.run(
            [sys.executable, "-m", "mixtwisted.migrate", "--dsn", self.dsn],
            capture_output=True, text=True, timeout=60)
        self.assertEqual((0, ""), (result.returncode, result.stderr))
        self.assertIn("applied 0001_initial\n", result.stdout)
        result = subprocess.run(
            [sys.executable, "-m", "mixtwisted.migrate", "--dsn",
             "host=127.0.0.1 port=1"], capture_output=True, text=True,
            timeout=60)
        self.assertEqual(1, result.returncode)
        self.assertNotIn("Traceback", result.stderr)
        self.assertEqual(1, result.stderr.count("\n"))


class DurabilityTests(PgsqlStoreMixin, unittest.TestCase):
    """
    What one store instance wrote, a new one on the same database reads.
    """

    async def setUp(self):
        self.store = await defer.maybeDeferred(self.makeStore)

    async def reopen(self):
        await self.store.stop()
        self.store = await startStore(self)

    async def test_everything(self):
        store = self.store
        channel = ChannelRecord(
            name="coven",
            config={"Owner": ("hecate@example.org",), "Open Presence": True,
                    "End of Life": None,
                    "Nodes Present": ("participants", "presence")},
            info={"Name": "Coven", "Contact": ()},
            configId="2020-01-01T00:00:00.000001Z",
            infoId="2020-01-02T00:00:00Z", adhoc=True,
            created=1600000000.123456789,
            allowed=("a@example.org", "example.net"),
            banned=("lear@example.org",),
            usedInvitations=(("d1", 1700000000.25), ("d2", 0.1 + 0.2)))
        await store.createChannel(channel)
        await store.createChannel(ChannelRecord(name="cave"))
        hag = ParticipantRecord("coven", "hag@example.org", "p1", nick="Witch",
                                nickKey="witch", prefs={"vCard": "allow"},
                                joined=1.5)
        cat = ParticipantRecord("coven", "cat@example.org", "p2", joined=2.0)
        for record in (hag, cat):
            await store.reserveProxyId("coven", record.jid, record.proxyId)
            await store.saveParticipant(record)
        await store.reserveProxyId("coven", "gone@example.org", "p3")
        await store.saveParticipant(ParticipantRecord(
            "coven", "gone@example.org", "p3"))
        await store.removeParticipant("coven", "gone@example.org")
        await store.setSubscriptions("coven", "cat@example.org", [M])
        await store.setSubscriptions("coven", "hag@example.org", [M, J])
        for n in range(1, 6):
            await store.appendMessage("coven", message(n))
        await store.appendMessage("coven", message(
            6, node=J, sender=None, itemId="p1#coven@mix.example.org"))
        await store.replaceArchived("coven", message(2).archiveId,
                                    "<message id='2'><retracted/></message>")
        await store.appendMessage("cave", message(7))
        await store.registerNick("hag@example.org", "Witch", "witch")
        await store.setItem("coven", "urn:x", "i1", "<a/>")
        await store.setItem("coven", "urn:x", "i2", "<b/>")
        await store.reserveClientResource("coven", "hag@example.org/r", "p1",
                                          "res1")
        await store.setPresence(PresenceRecord(
            "coven", "p1", "res1", "hag@example.org/r", "<presence/>", 3.25))
        await store.markPresenceUnconfirmed()
        await store.addPending("coven", "cat@example.org",
                               message(3).archiveId, 9.5)
        await store.addPending("coven", "cat@example.org",
                               message(1).archiveId, 10.5)

        await self.reopen()
        store = self.store
        self.assertEqual(channel, await store.getChannel("coven"))
        self.assertEqual(["coven", "cave"],
                         [c.name for c in await store.listChannels()])
        self.assertEqual([hag, cat], await store.listParticipants("coven"))
        self.assertEqual(hag, await store.getParticipantByProxy("coven", "p1"))
        self.assertEqual(hag, await store.getParticipantByNick("coven",
                                                               "witch"))
        self.assertEqual("p3", await store.proxyIdFor("coven",
                                                      "gone@example.org"))
        self.assertFalse(await store.reserveProxyId("coven", "x@example.org",
                                                    "p3"))
        self.assertEqual(["cat@example.org", "hag@example.org"],
                         await store.getSubscribers("coven", M))
        self.assertEqual({M, J}, await store.getSubscriptions(
            "coven", "hag@example.org"))
        page = await store.queryArchive("coven", ArchiveQuery(node=M))
        self.assertEqual(
            ([message(n).archiveId for n in range(1, 6)], True, 5),
            ([m.archiveId for m in page.messages], page.complete, page.count))
        self.assertEqual(replace(message(2), xml="<message id='2'><retracted/>"
                                 "</message>"), page.messages[1])
        self.assertEqual(message(1), page.messages[0])
        self.assertEqual(message(6, node=J, sender=None,
                                 itemId="p1#coven@mix.example.org"),
                         await store.getArchived("coven",
                                                 message(6).archiveId))
        self.assertEqual(message(7).archiveId, await store.lastArchiveId())
        self.assertEqual(("Witch", "witch"),
                         await store.getRegisteredNick("hag@example.org"))
        self.assertEqual([("i1", "<a/>"), ("i2", "<b/>")],
                         await store.getItems("coven", "urn:x"))
        self.assertEqual("res1", await store.clientResource(
            "coven", "hag@example.org/r"))
        self.assertEqual("hag@example.org/r",
                         await store.clientFor("coven", "p1", "res1"))
        self.assertEqual([PresenceRecord(
            "coven", "p1", "res1", "hag@example.org/r", "<presence/>", 3.25,
            confirmed=False)], await store.listPresence("coven"))
        self.assertEqual([message(1).archiveId, message(3).archiveId],
                         await store.listPending("coven", "cat@example.org"))
        self.assertEqual([("coven", "cat@example.org", 9.5)],
                         await store.pendingRecipients())

    async def test_lastArchiveIdSurvivesDeletion(self):
        """
        Like the memory store, the greatest id stays after its channel is
        deleted: ids never go back.
        """
        await self.store.createChannel(ChannelRecord(name="coven"))
        await self.store.appendMessage("coven", message(5))
        await self.store.deleteChannel("coven")
        await self.reopen()
        self.assertEqual(message(5).archiveId,
                         await self.store.lastArchiveId())

    async def test_proxyIdsSurviveDeletionAndRestart(self):
        await self.store.createChannel(ChannelRecord(name="coven"))
        await self.store.reserveProxyId("coven", "a@example.org", "abc")
        await self.store.reserveClientResource("coven", "a@example.org/r",
                                               "abc", "r1")
        await self.store.deleteChannel("coven")
        await self.reopen()
        self.assertEqual("abc", await self.store.proxyIdFor(
            "coven", "a@example.org"))
        self.assertFalse(await self.store.reserveProxyId(
            "coven", "b@example.org", "abc"))
        self.assertFalse(await self.store.reserveClientResource(
            "coven", "b@example.org/r", "abc", "r1"))


#: Strings that would break SQL put together by formatting.
AWKWARD = ("o'brien", 'say "hi"', "back\\slash\\", "50%s", "%(name)s %%",
           "semi;colon -- comment", "tab\tnew\nline", "\u00fcn\u00efc\u00f8d"
           "\u00e9 \u2603 \U0001d11e", "'; DROP TABLE channels; --",
           "$$ $1 ? :name", "{a,b}", "[1, 2]", '{"json": true}')


class InjectionTests(PgsqlStoreMixin, unittest.TestCase):
    """
    Values are parameters: whatever they hold, they come back unchanged.
    """

    async def setUp(self):
        self.store = await defer.maybeDeferred(self.makeStore)

    async def test_awkwardValues(self):
        store = self.store
        for index, text in enumerate(AWKWARD):
            name = "c" + text
            jid = "%d%s@example.org" % (index, text)
            channel = ChannelRecord(
                name=name, config={text: (text, text + "2"), "k": text},
                info={"Name": text}, configId=text, infoId=text,
                allowed=(text,), banned=(text,),
                usedInvitations=((text, 1.0),))
            await store.createChannel(channel)
            self.assertEqual(channel, await store.getChannel(name))
            participant = ParticipantRecord(name, jid, text, nick=text,
                                            nickKey=text, prefs={text: text})
            self.assertTrue(await store.reserveProxyId(name, jid, text))
            await store.saveParticipant(participant)
            self.assertEqual(participant, await store.getParticipantByProxy(
                name, text))
            self.assertEqual(participant, await store.getParticipantByNick(
                name, text))
            await store.setSubscriptions(name, jid, [text, M])
            self.assertEqual([jid], await store.getSubscribers(name, text))
            entry = ArchivedMessage(text + "-id", 1.0, text, text, text, text)
            await store.appendMessage(name, entry)
            for query in (ArchiveQuery(node=text), ArchiveQuery(
                    node=text, with_=text, ids=(text,), before="")):
                page = await store.queryArchive(name, query)
                self.assertEqual(([entry], 1),
                                 (page.messages, page.count))
            self.assertTrue(await store.replaceArchived(name, entry.archiveId,
                                                        text + text))
            await store.registerNick(jid, text, text + jid)
            self.assertEqual(jid, await store.nickHolder(text + jid))
            await store.setItem(name, text, text, text)
            self.assertEqual([(text, text)], await store.getItems(name, text))
            self.assertTrue(await store.reserveClientResource(
                name, jid + "/" + text, text, text))
            self.assertEqual(jid + "/" + text, await store.clientFor(
                name, text, text))
            presence = PresenceRecord(name, text, text, jid, text, 1.0)
            await store.setPresence(presence)
            self.assertEqual([presence], await store.listPresence(name))
            await store.addPending(name, jid, text, 1.0)
            self.assertEqual([text], await store.listPending(name, jid))
        self.assertEqual(len(AWKWARD) + 0, len(await store.listChannels()))
        for text in AWKWARD:
            self.assertTrue(await store.deleteChannel("c" + text))

    async def test_nulRefused(self):
        """
        PostgreSQL text cannot hold NUL: psycopg2's error is the failure,
        and the store goes on working.
        """
        await self.assertFailure(self.store.createChannel(
            ChannelRecord(name="a\0b")), ValueError)
        await self.store.createChannel(ChannelRecord(name="ab"))


class ConcurrencyTests(PgsqlStoreMixin, unittest.TestCase):
    """
    Check-then-write races are decided by the database: two stores (two
    pools) on one database race each other.
    """

    async def setUp(self):
        self.store = await defer.maybeDeferred(self.makeStore)
        self.other = await startStore(self, cacheSize=0)
        await self.store.createChannel(ChannelRecord(name="coven"))

    def race(self, call):
        """
        Call C{call(store, n)} four times at once over both stores.
        """
        return defer.DeferredList(
            [call(store, n) for n, store in
             enumerate((self.store, self.other, self.store, self.other))],
            consumeErrors=True)

    async def test_reserveProxyId(self):
        for round in range(10):
            results = await self.race(
                lambda store, n: store.reserveProxyId(
                    "coven", "j%d@example.org" % (n,), "id%d" % (round,)))
            self.assertEqual([True], [r for ok, r in results if r])
            self.assertTrue(all(ok for ok, _ in results))

    async def test_reserveClientResource(self):
        for round in range(10):
            results = await self.race(
                lambda store, n: store.reserveClientResource(
                    "coven", "a@example.org/%d" % (n,), "p", "r%d" % (round,)))
            self.assertEqual(1, sum(1 for _, r in results if r is True))

    async def test_saveParticipantNick(self):
        for round in range(5):
            results = await self.race(
                lambda store, n: store.saveParticipant(ParticipantRecord(
                    "coven", "r%dj%d@example.org" % (round, n), "p",
                    nick="Witch", nickKey="witch%d" % (round,))))
            outcomes = sorted(type(r.value).__name__ if not ok else "saved"
                              for ok, r in results)
            self.assertEqual(["Conflict"] * 3 + ["saved"], outcomes)
        self.assertEqual(5, len(await self.store.listParticipants("coven")))

    async def test_registerNick(self):
        results = await self.race(
            lambda store, n: store.registerNick("j%d@example.org" % (n,),
                                                "Witch", "witch"))
        failures = [r.value for ok, r in results if not ok]
        self.assertEqual(3, len(failures))
        self.assertTrue(all(isinstance(f, Conflict) for f in failures))

    async def test_concurrentAppendsAndDelete(self):
        """
        Deleting a channel while its entries are written: each entry is
        either written and then deleted with the channel, or refused.
        """
        appends = [self.store.appendMessage("coven", message(n))
                   for n in range(1, 200)]
        await self.other.deleteChannel("coven")
        results = await defer.DeferredList(appends, consumeErrors=True)
        for ok, result in results:
            if not ok:
                result.trap(NotFound)
        await self.store.createChannel(ChannelRecord(name="coven"))
        page = await self.store.queryArchive("coven", ArchiveQuery(node=M))
        self.assertEqual((0, []), (page.count, page.messages))


class ArchiveWriteTests(PgsqlStoreMixin, unittest.TestCase):
    """
    Group commit of archive entries, and the entry counters.
    """

    async def setUp(self):
        self.store = await defer.maybeDeferred(self.makeStore)
        await self.store.createChannel(ChannelRecord(name="coven"))
        await self.store.createChannel(ChannelRecord(name="cave"))

    def appendAll(self, entries, fired):
        ds = []
        for channel, entry in entries:
            d = self.store.appendMessage(channel, entry)
            d.addBoth(lambda result, entry=entry: fired.append(
                (entry.archiveId, result)) or result)
            ds.append(d)
        return ds

    async def test_manyAtOnce(self):
        """
        Entries appended at once all land, in id order, in few
        transactions; their Deferreds fire in call order.
        """
        fired = []
        entries = [("coven", message(n)) for n in range(1, 501)]
        ds = self.appendAll(entries, fired)
        self.assertTrue(self.store._archiveWriter.writing)
        await defer.gatherResults(ds)
        self.assertEqual([(e.archiveId, None) for _, e in entries], fired)
        self.assertLessEqual(self.store._archiveWriter.batches, 3)
        page = await self.store.queryArchive(
            "coven", ArchiveQuery(node=M, maximum=1000))
        self.assertEqual(([e for _, e in entries], 500, True),
                         (page.messages, page.count, page.complete))
        self.assertEqual(message(500).archiveId,
                         await self.store.lastArchiveId())

    async def test_outOfOrderIds(self):
        """
        Entries come back in id order whatever order they were appended
        in.
        """
        ds = [self.store.appendMessage("coven", message(n))
              for n in (3, 1, 2)]
        await defer.gatherResults(ds)
        page = await self.store.queryArchive("coven", ArchiveQuery(node=M))
        self.assertEqual([message(n) for n in (1, 2, 3)], page.messages)
        self.assertEqual(message(3).archiveId,
                         await self.store.lastArchiveId())

    async def test_maxBatch(self):
        self.store._archiveWriter.maxBatch = 10
        await defer.gatherResults([self.store.appendMessage(
            "coven", message(n)) for n in range(1, 36)])
        self.assertEqual(5, self.store._archiveWriter.batches)

    async def test_stopWaits(self):
        """
        stop() returns once every entry appended before it is committed;
        a new store reads them.
        """
        fired = []
        ds = self.appendAll([("coven", message(n)) for n in range(1, 201)],
                            fired)
        await self.store.stop()
        self.assertEqual(200, len(fired))
        await defer.gatherResults(ds)
        store = await startStore(self)
        page = await store.queryArchive("coven", ArchiveQuery(node=M))
        self.assertEqual(200, page.count)

    async def test_entryOutcomes(self):
        """
        In one batch, an unknown channel and an id already archived fail
        their own entries only.
        """
        await self.store.appendMessage("coven", message(1))
        first = self.store.appendMessage("coven", message(2))
        batch = (("coven", message(3)), ("nope", message(4)),
                 ("coven", message(1)), ("cave", message(3)),
                 ("coven", message(3)), ("coven", message(5)))
        ds = [self.store.appendMessage(channel, entry)
              for channel, entry in batch]
        # Message 2 was added from the callback of message 1's batch, so
        # it waits for the next batch too: all seven go together.
        self.assertEqual(7, self.store._archiveWriter.pending)
        await first
        results = await defer.DeferredList(ds, consumeErrors=True)
        self.assertEqual(
            [None, NotFound, Conflict, None, Conflict, None],
            [r if ok else r.type for ok, r in results])
        page = await self.store.queryArchive("coven", ArchiveQuery(node=M))
        self.assertEqual(([message(n) for n in (1, 2, 3, 5)], 4),
                         (page.messages, page.count))

    async def test_failedBatch(self):
        """
        A batch that fails fails all its Deferreds, writes none of its
        entries, and the next batch is written.
        """
        first = self.store.appendMessage("coven", message(1))
        batch = [self.store.appendMessage("coven", message(n))
                 for n in (2, 3)]
        bad = self.store.appendMessage("coven", message(4, xml="a\0b"))
        await first
        for d in batch + [bad]:
            await self.assertFailure(d, ValueError)
        await self.store.appendMessage("coven", message(5))
        page = await self.store.queryArchive("coven", ArchiveQuery(node=M))
        self.assertEqual(([message(1), message(5)], 2),
                         (page.messages, page.count))

    async def test_foreignKeyRaceRetried(self):
        """
        A batch stopped by the foreign key (its channel deleted meanwhile)
        is written again.
        """
        runQuery = self.store._db.runQuery
        calls = []

        def failOnce(sql, params=None):
            calls.append(sql)
            if len(calls) == 1:
                return defer.fail(psycopg2.errors.ForeignKeyViolation())
            return runQuery(sql, params)
        self.patch(self.store._db, "runQuery", failOnce)
        await self.store.appendMessage("coven", message(1))
        self.assertEqual(2, len(calls))
        self.patch(self.store._db, "runQuery", runQuery)
        self.assertTrue(await self.store.hasArchived(
            "coven", message(1).archiveId))

    async def test_counters(self):
        """
        Unfiltered counts come from the counters, kept with the entries
        and dropped with the channel; filtered counts are counted.
        """
        for n in range(1, 5):
            await self.store.appendMessage("coven", message(n))
        await self.store.appendMessage("coven", message(
            5, node=J, itemId="x"))
        connection = schema.connect(processDatabase().dsn)
        self.addCleanup(connection.close)
        cursor = connection.cursor()
        cursor.execute("SELECT channel, node, entries FROM archive_counts "
                       "ORDER BY node")
        self.assertEqual([("coven", J, 1), ("coven", M, 4)],
                         cursor.fetchall())
        # Proof that the counter is what is read: change it behind the
        # store's back.
        cursor.execute("UPDATE archive_counts SET entries = 1000000 "
                       "WHERE node = %s", (M,))
        connection.commit()
        page = await self.store.queryArchive("coven", ArchiveQuery(node=M))
        self.assertEqual(1000000, page.count)
        page = await self.store.queryArchive(
            "coven", ArchiveQuery(node=M, start=2.0))
        self.assertEqual(3, page.count)
        await self.store.deleteChannel("coven")
        cursor.execute("SELECT count(*) FROM archive_counts")
        self.assertEqual([(0,)], cursor.fetchall())

    async def test_timeBounds(self):
        """
        The counters keep, per node, whether every id starts with the
        microseconds it was issued at, and the least and greatest skew of
        an id past its entry's stamp; MAM start and end stay exact when
        the clock stepped back (an id bumped far past its stamp).
        """
        def timed(us, stamp):
            return ArchivedMessage("%016X-AB" % (us,), stamp, M, None,
                                   "<message us='%d'/>" % (us,))
        first = timed(1000000000, 1000.0)
        second = timed(1001000005, 1001.0)
        # The clock went back 11 s: the id is bumped past the last one.
        stepped = timed(1001000006, 990.0)
        for entry in (first, second, stepped):
            await self.store.appendMessage("coven", entry)
        await self.store.appendMessage("coven", ArchivedMessage(
            "not-timed", 5.0, J, None, "<message/>", "x"))
        connection = schema.connect(processDatabase().dsn)
        self.addCleanup(connection.close)
        cursor = connection.cursor()
        cursor.execute("SELECT node, entries, timed, skew_min, skew_max "
                       "FROM archive_counts ORDER BY node")
        self.assertEqual([(J, 1, False, None, None),
                          (M, 3, True, 0, 11000006)], cursor.fetchall())
        for query, expected in (
                (ArchiveQuery(node=M, start=995.0), [first, second]),
                (ArchiveQuery(node=M, end=995.0), [stepped]),
                (ArchiveQuery(node=M, end=990.0), [stepped]),
                (ArchiveQuery(node=M, start=990.0, end=1000.0),
                 [first, stepped]),
                (ArchiveQuery(node=M, start=1001.0, end=1001.0), [second]),
                (ArchiveQuery(node=M, start=1001.5), []),
                (ArchiveQuery(node=M, end=989.0), []),
                (ArchiveQuery(node=M, start=990.0, before=""),
                 [first, second, stepped]),
                (ArchiveQuery(node=J, start=5.0, end=5.0), ["not-timed"])):
            page = await self.store.queryArchive("coven", query)
            got = [m.archiveId if query.node == J else m
                   for m in page.messages]
            self.assertEqual((expected, len(expected)), (got, page.count),
                             query)


class PagingEquivalenceTests(PgsqlStoreMixin, unittest.TestCase):
    """
    Random MAM queries get the page the memory store (the paging rules of
    L{mixtwisted.store.paging}) gives.
    """

    async def setUp(self):
        self.store = await defer.maybeDeferred(self.makeStore)
        self.memory = MemoryStore()
        self.random = random.Random(369)
        for store in (self.store, self.memory):
            await store.createChannel(ChannelRecord(name="coven"))
        self.entries = self.makeEntries()
        shuffled = list(self.entries)
        self.random.shuffle(shuffled)
        await defer.gatherResults([self.store.appendMessage("coven", entry)
                                   for entry in shuffled])
        for entry in shuffled:
            await self.memory.appendMessage("coven", entry)

    def makeEntries(self):
        """
        @return: the archive entries, in archive order: random stamps, so
            that the ids say nothing of them.
        """
        entries = []
        for n in range(1, 81):
            node = self.random.choice((M, M, M, J))
            entries.append(ArchivedMessage(
                "%016X-%02X" % (n * 10, self.random.randrange(256)),
                float(self.random.randrange(40)) / 2, node,
                self.random.choice(("a#coven", "b#coven", None)),
                "<message n='%d'/>" % (n,),
                self.random.choice(("i1", "i2", "i3")) if node == J else None))
        return entries

    def anyStamp(self):
        return self.random.randrange(40) / 2

    def anyId(self):
        if self.random.random() < 0.7:
            return self.random.choice(self.entries).archiveId
        # An id that is not archived, or lies beyond every one.
        return self.random.choice(
            ("%016X" % (self.random.randrange(900),), "", "0", "Z"))

    def randomQuery(self):
        r = self.random
        query = ArchiveQuery(node=r.choice((M, J, "urn:other")),
                             maximum=r.choice((0, 1, 3, 7, 50)))
        if r.random() < 0.3:
            query.start = self.anyStamp()
        if r.random() < 0.3:
            query.end = self.anyStamp()
        if r.random() < 0.3:
            query.with_ = r.choice(("a#coven", "b#coven", "c#coven"))
        if r.random() < 0.2:
            query.ids = tuple(r.sample(("i1", "i2", "i3", "i4"), 2))
        direction = r.random()
        if direction < 0.35:
            query.after = self.anyId()
        elif direction < 0.7:
            query.before = self.anyId()
            if r.random() < 0.2:
                query.after = self.anyId()
        return query

    async def test_sameAsMemory(self):
        for _ in range(300):
            query = self.randomQuery()
            expected = await self.memory.queryArchive("coven", query)
            got = await self.store.queryArchive("coven", query)
            self.assertEqual(expected, got, query)

    async def test_sameAsMemoryCountLimit(self):
        """
        Also when the count of queries with filters is bounded: both stores
        leave it out beyond the same limit.
        """
        self.patch(paging, "COUNT_LIMIT", 8)
        uncounted = 0
        for _ in range(300):
            query = self.randomQuery()
            expected = await self.memory.queryArchive("coven", query)
            got = await self.store.queryArchive("coven", query)
            self.assertEqual(expected, got, query)
            uncounted += got.count is None
        self.assertTrue(uncounted)


class TimedPagingEquivalenceTests(PagingEquivalenceTests):
    """
    The same with archives as the service writes them: ids issued by
    L{ArchiveIdGenerator} with their stamps, on a clock that now and then
    steps back (ids bumped past their stamps), so that MAM start and end
    bound the id ranges scanned.
    """

    def makeEntries(self):
        from mixtwisted.ids import ArchiveIdGenerator
        clock = task.Clock()
        clock.advance(1500000000)
        generator = ArchiveIdGenerator(clock)
        entries = []
        for n in range(1, 81):
            clock.advance(self.random.choice((0, 0.000001, 0.5, 1, 3)))
            if self.random.random() < 0.05:
                # The clock steps back a few seconds.
                clock.rightNow -= self.random.choice((2, 5, 7.25))
            archiveId, stamp = generator.next()
            node = self.random.choice((M, M, M, J))
            entries.append(ArchivedMessage(
                archiveId, stamp, node,
                self.random.choice(("a#coven", "b#coven", None)),
                "<message n='%d'/>" % (n,),
                self.random.choice(("i1", "i2", "i3")) if node == J else None))
        self.stamps = [entry.stamp for entry in entries]
        return entries

    def anyStamp(self):
        r = self.random.random()
        if r < 0.6:
            return self.random.choice(self.stamps)
        if r < 0.8:
            return self.random.choice(self.stamps) + \
                self.random.choice((-0.000001, 0.000001, -1, 1))
        return self.random.uniform(min(self.stamps) - 10,
                                   max(self.stamps) + 10)


class CacheTests(PgsqlStoreMixin, unittest.TestCase):
    """
    The hot reads come from the cache, which the store's writes keep
    right.
    """

    async def setUp(self):
        self.store = await defer.maybeDeferred(self.makeStore)
        await self.store.createChannel(ChannelRecord(
            name="coven", info={"Name": "Coven"}))
        await self.store.saveParticipant(ParticipantRecord(
            "coven", "a@example.org", "p1", prefs={"x": "y"}))
        await self.store.setSubscriptions("coven", "a@example.org", [M])

    def hot(self):
        return [self.store.getChannel("coven"),
                self.store.getParticipant("coven", "a@example.org"),
                self.store.getSubscribers("coven", M)]

    async def test_served(self):
        """
        A second read is answered at once, without the database, with a
        copy.
        """
        first = await defer.gatherResults(self.hot())
        # (This code runs in the callbacks of the last read, which counts
        # as under way until they are done: compare with what it was.)
        base = self.store._db.busy
        again = self.hot()
        self.assertEqual(base, self.store._db.busy)
        self.assertTrue(all(d.called for d in again))
        values = [d.result for d in again]
        self.assertEqual(first, values)
        values[0].info["Name"] = "Changed"
        values[1].prefs["x"] = "z"
        values[2].append("b@example.org")
        self.assertEqual(first, await defer.gatherResults(self.hot()))

    async def test_burstOfMissesSharesOneQuery(self):
        """
        Reads of one key arriving while it is being loaded wait for that
        load (one query), and each gets its own copy.
        """
        base = self.store._db.busy
        reads = [self.store.getParticipant("coven", "a@example.org")
                 for _ in range(5)]
        self.assertEqual(base + 1, self.store._db.busy)
        values = await defer.gatherResults(reads)
        self.assertEqual(1, len({(v.jid, v.proxyId) for v in values}))
        self.assertEqual(5, len({id(v) for v in values}))
        values[0].prefs["x"] = "z"
        self.assertEqual("y", values[1].prefs["x"])

    async def test_readAfterWriteDoesNotShareOlderLoad(self):
        """
        A read arriving after a write of its key began does not wait for a
        load that began before the write: it sends its own query.
        """
        base = self.store._db.busy
        first = self.store.getParticipant("coven", "a@example.org")
        participant = ParticipantRecord("coven", "a@example.org", "p1",
                                        nick="Witch", nickKey="witch")
        write = self.store.saveParticipant(participant)
        second = self.store.getParticipant("coven", "a@example.org")
        self.assertEqual(base + 3, self.store._db.busy)
        await write
        await defer.gatherResults([first, second])
        self.assertEqual("Witch", (await self.store.getParticipant(
            "coven", "a@example.org")).nick)

    async def test_ownWrites(self):
        await defer.gatherResults(self.hot())
        channel = await self.store.getChannel("coven")
        channel.info["Name"] = "Changed"
        await self.store.updateChannel(channel)
        participant = await self.store.getParticipant("coven",
                                                      "a@example.org")
        participant.nick = "Witch"
        await self.store.saveParticipant(participant)
        await self.store.addSubscriptions("coven", "b@example.org", [M])
        channel, participant, subscribers = await defer.gatherResults(
            self.hot())
        self.assertEqual(("Changed", "Witch", ["a@example.org",
                                               "b@example.org"]),
                         (channel.info["Name"], participant.nick, subscribers))
        await self.store.removeSubscriptions("coven", "a@example.org")
        self.assertEqual(["b@example.org"],
                         await self.store.getSubscribers("coven", M))
        await self.store.setSubscriptions("coven", "a@example.org", [M])
        self.assertEqual(["b@example.org", "a@example.org"],
                         await self.store.getSubscribers("coven", M))
        await self.store.removeParticipant("coven", "a@example.org")
        self.assertIdentical(None, await self.store.getParticipant(
            "coven", "a@example.org"))

    async def test_deleteAndCreate(self):
        """
        Deleting a channel forgets everything cached about it.
        """
        await defer.gatherResults(self.hot())
        await self.store.deleteChannel("coven")
        self.assertEqual([None, None, []],
                         await defer.gatherResults(self.hot()))
        await self.store.createChannel(ChannelRecord(name="coven"))
        channel, participant, subscribers = await defer.gatherResults(
            self.hot())
        self.assertEqual(({}, None, []),
                         (channel.info, participant, subscribers))

    async def test_readRacingWrite(self):
        """
        A read under way when a write starts does not fill the cache with
        what it read, whichever finishes first.
        """
        channel = ChannelRecord(name="coven", info={"Name": "New"})
        read = self.store.getChannel("coven")
        write = self.store.updateChannel(channel)
        await defer.gatherResults([read, write])
        self.assertEqual("New", (await self.store.getChannel(
            "coven")).info["Name"])
        # And a read that starts after the write started.
        write = self.store.updateChannel(ChannelRecord(
            name="coven", info={"Name": "Newer"}))
        read = self.store.getChannel("coven")
        await defer.gatherResults([read, write])
        self.assertEqual("Newer", (await self.store.getChannel(
            "coven")).info["Name"])

    async def test_slowReadAfterWrite(self):
        """
        A read that began before a write and answers after the write is
        done (with what it saw before) is handed out but not kept.
        """
        held = []
        load = self.store._loadChannel

        def slowLoad(name):
            d = defer.Deferred()
            load(name).addCallback(lambda value: held.append((d, value)))
            return d
        self.patch(self.store, "_loadChannel", slowLoad)
        read = self.store.getChannel("coven")
        while not held:
            await task.deferLater(reactor, 0.001, lambda: None)
        await self.store.updateChannel(ChannelRecord(
            name="coven", info={"Name": "New"}))
        d, value = held[0]
        d.callback(value)
        self.assertEqual("Coven", (await read).info["Name"])
        self.patch(self.store, "_loadChannel", load)
        self.assertEqual("New", (await self.store.getChannel(
            "coven")).info["Name"])

    async def test_singleWriter(self):
        """
        A change made behind the store's back is not seen while the entry
        is cached: the store must be its database's only writer.
        """
        await self.store.getChannel("coven")
        connection = schema.connect(processDatabase().dsn)
        self.addCleanup(connection.close)
        with connection:
            connection.cursor().execute(
                "UPDATE channels SET info = '{\"Name\": \"Sneaky\"}'")
        self.assertEqual("Coven", (await self.store.getChannel(
            "coven")).info["Name"])

    async def test_bounded(self):
        store = await startStore(self, cacheSize=5)
        for n in range(20):
            await store.getChannel("c%d" % (n,))
            await store.getParticipant("coven", "x%d" % (n,))
        self.assertEqual(5, len(store.cache))

    async def test_failedWriteInvalidates(self):
        await self.store.getChannel("coven")
        await self.assertFailure(self.store.createChannel(
            ChannelRecord(name="coven")), Conflict)
        self.assertEqual("Coven", (await self.store.getChannel(
            "coven")).info["Name"])


class ErrorTests(PgsqlStoreMixin, unittest.TestCase):
    """
    Errors that are not mapped propagate, and no connection is left in a
    failed transaction.
    """

    async def setUp(self):
        self.store = await defer.maybeDeferred(self.makeStore)
        await self.store.createChannel(ChannelRecord(name="coven"))

    async def test_failuresPropagate(self):
        await self.assertFailure(self.store.setSubscriptions(
            "coven", "a@example.org", [M, "bad\0node"]), ValueError)
        await self.assertFailure(self.store.saveParticipant(ParticipantRecord(
            "coven", "a@example.org", "p", prefs={"x": object()})), TypeError)
        await self.assertFailure(self.store._db.runInteraction(
            lambda cursor: cursor.execute(
                "SELECT no_such_column FROM channels")),
            psycopg2.errors.UndefinedColumn)
        # Every connection still works, and none is left in a transaction.
        await defer.gatherResults([self.store.listParticipants("coven")
                                   for _ in range(8)])
        rows = await self.store._db.runQuery(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = "
            "current_database() AND state LIKE 'idle in transaction%%'")
        self.assertEqual([(0,)], rows)
        # setSubscriptions rolled back its first statement.
        await self.store.setSubscriptions("coven", "a@example.org", [M])
        await self.assertFailure(self.store.setSubscriptions(
            "coven", "a@example.org", [J, "bad\0node"]), ValueError)
        self.assertEqual({M}, await self.store.getSubscriptions(
            "coven", "a@example.org"))
