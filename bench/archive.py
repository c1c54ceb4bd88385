"""
Archive throughput benchmark: the real handlers on a store, with the reactor.

Joins N participants to one channel, then hands the message handler M
groupchat messages from one of them at once (as a burst read off the
socket would) and runs the reactor until every one of the N x M copies has
been sent to a sink that only counts them.  A message is reflected only
after its archive entry is committed, so the copies counted are archived
messages.  Prints archived messages per second, deliveries per second and
the CPU time of this process (the PostgreSQL server's CPU is not in it).

With C{--backend pgsql} (the default) it creates a database of its own on
the server the tests use (C{MIXTWISTED_TEST_PGSQL}, see C{tests/pgsql.py})
and drops it afterwards.

Usage: python bench/archive.py [--backend memory|pgsql]
                               [--participants N] [--messages M]
"""

import argparse
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from twisted.internet import defer, task  # noqa: E402

from inprocess import DOMAIN, parse, runService  # noqa: E402
from mixtwisted.records import ArchiveQuery  # noqa: E402

CHANNEL = "room@" + DOMAIN


class Sink:
    """
    Count the stanzas sent; fire C{done} once C{expected} were counted.
    """

    def __init__(self):
        self.stanzas = 0
        self.expected = None
        self.done = None

    def __call__(self, obj):
        self.stanzas += 1
        if self.expected is not None and self.stanzas >= self.expected and \
                not self.done.called:
            self.done.callback(None)


async def run(reactor, args):
    sink = Sink()
    await runService(reactor, args.backend, sink,
                     lambda service: measure(args, service, sink))


async def measure(args, service, sink):
    store = service.store

    async def request(xml, expected):
        sink.stanzas, sink.expected = 0, expected
        sink.done = defer.Deferred()
        service.dispatch(xml)
        await sink.done

    await request("<iq type='set' id='c' from='owner@bench.example/r' "
                  "to='%s'><create xmlns='urn:xmpp:mix:1' channel='room'/>"
                  "</iq>" % DOMAIN, 1)
    for n in range(args.participants):
        # The join result, and participants notifications to nobody.
        await request(
            "<iq type='set' id='j%d' from='user%d@bench.example' to='%s'>"
            "<join xmlns='urn:xmpp:mix:1'><subscribe "
            "node='urn:xmpp:mix:nodes:messages'/></join></iq>"
            % (n, n, CHANNEL), 1)
    await request("<iq type='set' id='n' from='user0@bench.example/r' "
                  "to='%s'><setnick xmlns='urn:xmpp:mix:1'><nick>speaker"
                  "</nick></setnick></iq>" % CHANNEL, 1)

    body = "x" * 100
    stanzas = [parse(
        "<message type='groupchat' id='m%d' "
        "from='user0@bench.example/r' to='%s'><body>%s</body></message>"
        % (n, CHANNEL, body)) for n in range(args.messages)]

    expected = args.participants * args.messages
    sink.stanzas, sink.expected = 0, expected
    sink.done = defer.Deferred()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for stanza in stanzas:
        service.dispatch(stanza)
    await sink.done
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - wall0

    count = len((await store.queryArchive("room", ArchiveQuery(
        node="urn:xmpp:mix:nodes:messages",
        maximum=args.messages))).messages)
    print("machine: %s, %s, Python %s" % (
        platform.node() or "?", platform.processor() or platform.machine(),
        platform.python_version()))
    print("backend %s, participants %d, messages %d, deliveries %d, "
          "archived %d" % (args.backend, args.participants, args.messages,
                           sink.stanzas, count))
    print("wall %.3f s, CPU (this process) %.3f s" % (wall, cpu))
    print("archived messages per second (wall): %.0f" % (args.messages / wall))
    print("deliveries per second (wall): %.0f" % (sink.stanzas / wall))
    print("CPU per delivered stanza: %.2f us" % (cpu / sink.stanzas * 1e6))
    if count != args.messages:
        raise SystemExit("expected %d archived messages, found %d"
                         % (args.messages, count))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--backend", choices=("memory", "pgsql"),
                        default="pgsql")
    parser.add_argument("--participants", type=int, default=50)
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    task.react(lambda reactor: defer.ensureDeferred(run(reactor, args)))


if __name__ == "__main__":
    main()
