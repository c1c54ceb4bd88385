"""
The PostgreSQL test fixture: L{PgsqlStoreMixin} gives a test a started
L{PgsqlStore} on an empty database of this test process.

The server comes from C{MIXTWISTED_TEST_PGSQL} (a libpq connection
string; default L{DEFAULT_DSN}).  On first use the process creates a
database of its own (C{mixtwisted_test_<pid>_<hex>}), migrates it, and
drops it when it exits; before each test one round trip empties every
table but C{schema_version}.

Emptying uses C{DELETE} rather than C{TRUNCATE}: a test leaves a handful
of rows, which C{DELETE} removes in about 0.3 ms, while C{TRUNCATE} of the
schema's tables takes about 30 ms (new files for every table and index).
Identity columns are not restarted: their values only order rows.

When the server cannot be reached, every test using the fixture is
skipped with the reason (decided once per process).
"""

import atexit
import os
import secrets
import sys

import psycopg2
from psycopg2 import sql
from twisted.trial.unittest import SkipTest

from mixtwisted.store import schema
from mixtwisted.store.pgsql import PgsqlStore

#: The server used when C{MIXTWISTED_TEST_PGSQL} is not set.
DEFAULT_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"

ENVIRONMENT = "MIXTWISTED_TEST_PGSQL"


def serverDSN():
    """
    @return: the connection string of the test server.
    """
    return os.environ.get(ENVIRONMENT, DEFAULT_DSN)


def unreachable(dsn, timeout=3):
    """
    Try to connect to C{dsn}.

    @return: C{None} when it works, else the reason to skip the tests.
    """
    try:
        schema.connect(dsn, timeout).close()
    except psycopg2.Error as e:
        return "PostgreSQL not reachable at %s: %s; set %s" % (
            dsn, " ".join(str(e).split()), ENVIRONMENT)
    return None


def databaseDSN(name):
    """
    @return: the connection string of database C{name} on the test server.
    """
    return psycopg2.extensions.make_dsn(serverDSN(), dbname=name)


def createDatabase(prefix="mixtwisted_test"):
    """
    Create an empty database named C{<prefix>_<pid>_<random hex>}.

    @return: its name.
    """
    name = "%s_%d_%s" % (prefix, os.getpid(), secrets.token_hex(4))
    connection = schema.connect(serverDSN())
    try:
        connection.autocommit = True
        connection.cursor().execute(
            sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        connection.close()
    return name


def dropDatabase(name):
    """
    Drop database C{name}, closing its connections.
    """
    connection = schema.connect(serverDSN())
    try:
        connection.autocommit = True
        connection.cursor().execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
    finally:
        connection.close()


def requireServer():
    """
    @raise SkipTest: when the test server is not reachable (decided once
        per process).
    """
    processDatabase()


def scratchDatabase(testCase):
    """
    Create an empty database (no schema) for C{testCase}, dropped when the
    test ends.

    @return: its connection string.
    @raise SkipTest: when the server is not reachable.
    """
    requireServer()
    name = createDatabase("mixtwisted_scratch")
    testCase.addCleanup(dropDatabase, name)
    return databaseDSN(name)


def startStore(testCase, dsn=None, **kwargs):
    """
    Start another L{PgsqlStore} (on the process database by default),
    stopped when the test ends.

    @return: Deferred firing with the store.
    """
    store = PgsqlStore(dsn or processDatabase().dsn, **kwargs)
    testCase.addCleanup(store.stop)
    return store.start().addCallback(lambda _: store)


class _ProcessDatabase:
    """
    The database of this test process, made on first use.

    @ivar reason: why the tests are skipped, or C{None}.
    @ivar dsn: its connection string.
    """

    def __init__(self):
        self.checked = False
        self.reason = None
        self.name = None
        self.dsn = None
        self._connection = None
        self._empty = None

    def get(self):
        """
        @return: this object once the database exists.
        @raise SkipTest: when the server is not reachable.
        """
        if not self.checked:
            self.checked = True
            self.reason = unreachable(serverDSN())
            if self.reason is None:
                self._create()
        if self.reason is not None:
            raise SkipTest(self.reason)
        return self

    def _create(self):
        self.name = createDatabase()
        atexit.register(self._drop)
        self.dsn = databaseDSN(self.name)
        connection = schema.connect(self.dsn)
        try:
            schema.resultOf(schema.migrate(schema.SyncRunner(connection)))
        finally:
            connection.close()
        cursor = self._cursor()
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = "
            "current_schema() AND tablename <> 'schema_version' "
            "ORDER BY tablename")
        tables = [sql.Identifier(row[0]) for row in cursor.fetchall()]
        # One string, so one implicit transaction and one round trip.
        self._empty = sql.SQL("; ").join(
            sql.SQL("DELETE FROM {}").format(table) for table in tables)

    def _cursor(self):
        # (Re)connect if a test closed the connection.
        if self._connection is None or self._connection.closed:
            self._connection = schema.connect(self.dsn)
            self._connection.autocommit = True
            cursor = self._connection.cursor()
            # A leaked connection holding a lock makes emptying fail
            # rather than hang.
            cursor.execute("SET lock_timeout = '10s'")
            return cursor
        return self._connection.cursor()

    def empty(self):
        """
        Empty every table but C{schema_version}.
        """
        self._cursor().execute(self._empty)

    def _drop(self):
        try:
            if self._connection is not None:
                self._connection.close()
            dropDatabase(self.name)
        except psycopg2.Error as e:
            sys.stderr.write("Could not drop test database %s: %s\n" % (
                self.name, e))


_database = _ProcessDatabase()


def processDatabase():
    """
    @return: the L{_ProcessDatabase} of this process, created on first
        use.
    @raise SkipTest: when the server is not reachable.
    """
    return _database.get()


class PgsqlStoreMixin:
    """
    Run a test case on a L{PgsqlStore} over an emptied database; the store
    is stopped when the test ends.

    @cvar poolSize: connections per store.
    """

    poolSize = 4

    def makeStore(self):
        """
        @return: Deferred firing with the started store.
        @raise SkipTest: when the server is not reachable.
        """
        database = processDatabase()
        database.empty()
        return startStore(self, database.dsn, poolSize=self.poolSize)
