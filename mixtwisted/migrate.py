"""
C{mixtwisted-migrate} (C{python -m mixtwisted.migrate}): bring the schema
of a pgsql store database up to date, or report its version.

The service applies pending migrations itself when it starts; this
command lets an operator do it beforehand (for instance with a role that
may change the schema while the service's may not), or check a database.
It is safe to run while the service runs.
"""

import argparse
import sys

import psycopg2

from mixtwisted.store import schema

PROG = "mixtwisted-migrate"


def _oneLine(error):
    return " ".join(str(error).split()) or type(error).__name__


def _parser():
    parser = argparse.ArgumentParser(
        prog=PROG, description="Apply the pending schema migrations of the "
        "mixtwisted PostgreSQL store and print what was applied.")
    parser.add_argument(
        "--dsn", required=True,
        help="PostgreSQL connection string or URI, as for 'twistd mix "
        "--dsn', e.g. 'host=127.0.0.1 dbname=mix user=mix'")
    parser.add_argument(
        "--status", action="store_true",
        help="only print the schema version and the pending migrations")
    return parser


def main(argv=None, out=None, err=None):
    """
    Run the command.

    @param argv: the arguments (C{sys.argv[1:]} by default).
    @return: the exit status: 0, or 1 after printing a one-line error.
    """
    out = out or sys.stdout
    err = err or sys.stderr
    args = _parser().parse_args(argv)

    def fail(message):
        err.write("%s: error: %s\n" % (PROG, message))
        return 1

    try:
        connection = schema.connect(args.dsn)
    except psycopg2.ProgrammingError as e:
        return fail("bad --dsn: %s" % (_oneLine(e),))
    except psycopg2.Error as e:
        return fail("cannot connect to PostgreSQL: %s" % (_oneLine(e),))
    try:
        runner = schema.SyncRunner(connection)
        if args.status:
            version, pending = schema.resultOf(schema.status(runner))
            out.write("schema version %d (this mixtwisted: %d)\n" % (
                version, schema.latestVersion()))
            out.write("pending: %s\n" % (
                ", ".join(m.label for m in pending) or "none",))
            return 0
        applied = schema.resultOf(schema.migrate(runner))
        for migration in applied:
            out.write("applied %s\n" % (migration.label,))
        version, _ = schema.resultOf(schema.status(runner))
        out.write("schema version %d%s\n" % (
            version, "" if applied else ", nothing to apply"))
        return 0
    except schema.SchemaTooNew as e:
        return fail(str(e))
    except psycopg2.Error as e:
        return fail("migration failed: %s" % (_oneLine(e),))
    finally:
        connection.close()


if __name__ == "__main__":
    sys.exit(main())
