"""
Versioned schema migrations of the pgsql store.

A migration is a file C{migrations/NNNN_name.sql} beside this module:
version C{NNNN}, applied once, in version order, each in a transaction of
its own together with its row in C{schema_version}.  Every transaction
first takes a transaction-level advisory lock (L{LOCK_KEY}), so that two
processes starting at once apply each migration once: the second waits,
then finds the version recorded and skips it.  Running the migrations
again changes nothing.

The functions take a I{runner}: an object with a txpostgres-style
C{runInteraction(interaction, *args)} calling C{interaction(cursor,
*args)} in a transaction, where C{cursor.execute} returns a Deferred.  The
store passes its connection pool; L{SyncRunner} adapts a blocking psycopg2
connection (for C{mixtwisted-migrate} and the test fixture), with which the
Deferreds have fired by the time the call returns (see L{resultOf}).
"""

import re
from dataclasses import dataclass
from importlib import resources

import psycopg2
import psycopg2.extensions
from twisted.internet import defer
from twisted.python.failure import Failure

#: Key of the advisory lock the migrations take ("mixtwist" in ASCII).
LOCK_KEY = 0x6D69787477697374

_FILE = re.compile(r"^(\d{4})_(\w+)\.sql$")

_VERSION_TABLE = """
CREATE TABLE schema_version (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class SchemaTooNew(Exception):
    """
    The database was migrated by a newer mixtwisted than this one.
    """


@dataclass(frozen=True)
class Migration:
    """
    One migration file.
    """

    version: int
    name: str
    sql: str

    @property
    def label(self):
        return "%04d_%s" % (self.version, self.name)


def migrations():
    """
    @return: the known L{Migration}s, in version order.
    """
    found = {}
    directory = resources.files("mixtwisted.store") / "migrations"
    for entry in directory.iterdir():
        match = _FILE.match(entry.name)
        if match is None:
            continue
        version = int(match.group(1))
        if version in found:
            raise ValueError("Two migrations with version %d" % (version,))
        found[version] = Migration(version, match.group(2),
                                   entry.read_text(encoding="utf-8"))
    return [found[version] for version in sorted(found)]


def latestVersion():
    """
    @return: the version the known migrations bring a database to.
    """
    known = migrations()
    return known[-1].version if known else 0


@defer.inlineCallbacks
def _appliedVersions(cursor, lock):
    if lock:
        yield cursor.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
    yield cursor.execute("SELECT to_regclass('schema_version') IS NOT NULL")
    if not cursor.fetchall()[0][0]:
        if not lock:
            return []
        yield cursor.execute(_VERSION_TABLE)
    yield cursor.execute("SELECT version FROM schema_version")
    return sorted(row[0] for row in cursor.fetchall())


@defer.inlineCallbacks
def _apply(cursor, migration):
    applied = yield _appliedVersions(cursor, True)
    if migration.version in applied:
        return False
    yield cursor.execute(migration.sql)
    yield cursor.execute(
        "INSERT INTO schema_version (version, name) VALUES (%s, %s)",
        (migration.version, migration.name))
    return True


def _checkNotNewer(applied, known):
    latest = known[-1].version if known else 0
    if applied and applied[-1] > latest:
        raise SchemaTooNew(
            "The database schema is at version %d, newer than this "
            "mixtwisted knows (%d)" % (applied[-1], latest))


@defer.inlineCallbacks
def migrate(runner):
    """
    Apply the migrations the database has not had yet.

    @return: Deferred firing with the list of L{Migration}s applied by
        this call (empty when the schema was up to date); fails with
        L{SchemaTooNew} for a database migrated by a newer version.
    """
    known = migrations()
    applied = yield runner.runInteraction(_appliedVersions, True)
    _checkNotNewer(applied, known)
    done = []
    for migration in known:
        if migration.version not in applied and \
                (yield runner.runInteraction(_apply, migration)):
            done.append(migration)
    return done


@defer.inlineCallbacks
def status(runner):
    """
    Read the schema version without changing anything.

    @return: Deferred firing with C{(version, pending)}: the greatest
        version applied (0 for none) and the L{Migration}s not applied.
    """
    applied = yield runner.runInteraction(_appliedVersions, False)
    pending = [m for m in migrations() if m.version not in applied]
    return (applied[-1] if applied else 0), pending


def resultOf(d):
    """
    Return the result of a Deferred that has fired, or raise its failure.
    """
    results = []
    d.addBoth(results.append)
    if not results:
        raise RuntimeError("The operation did not complete synchronously")
    if isinstance(results[0], Failure):
        results[0].raiseException()
    return results[0]


class _SyncCursor:
    def __init__(self, cursor):
        self._cursor = cursor

    def execute(self, sql, params=None):
        self._cursor.execute(sql, params)
        return defer.succeed(self)

    def fetchall(self):
        return self._cursor.fetchall()


class SyncRunner:
    """
    Run interactions written for txpostgres on a blocking psycopg2
    connection (not in autocommit mode), each in its own transaction.
    """

    def __init__(self, connection):
        self.connection = connection

    def runInteraction(self, interaction, *args, **kwargs):
        cursor = self.connection.cursor()
        try:
            result = resultOf(defer.maybeDeferred(
                interaction, _SyncCursor(cursor), *args, **kwargs))
        except BaseException:
            self.connection.rollback()
            return defer.fail()
        finally:
            cursor.close()
        self.connection.commit()
        return defer.succeed(result)


def withDefaults(dsn, **defaults):
    """
    Add connection parameters to C{dsn} unless it sets them already.

    @raise psycopg2.ProgrammingError: for a malformed C{dsn}.
    """
    given = psycopg2.extensions.parse_dsn(dsn)
    missing = {k: v for k, v in defaults.items() if k not in given}
    return psycopg2.extensions.make_dsn(dsn, **missing) if missing else dsn


def connect(dsn, timeout=10):
    """
    Open a blocking psycopg2 connection, giving up after C{timeout}
    seconds unless C{dsn} sets C{connect_timeout}.
    """
    return psycopg2.connect(withDefaults(dsn, connect_timeout=timeout))
