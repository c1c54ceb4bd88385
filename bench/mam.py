"""
MAM benchmark: pages of a large channel archive, from the store and through
the MAM handler.

Creates a channel through the real handlers, fills its archive with M
entries through the store's own write path (C{appendMessage}, group
committed), then times K queries of each kind: the first page, the last
page (RSM C{<before/>}), and pages after a random archive id — once on the
store alone (C{queryArchive}) and once as a full MAM request handled by the
service (parse, access check, query, 50 result messages serialized, the
C{<fin/>}).  Prints the median, 95th percentile and maximum in ms.

With C{--backend pgsql} (the default) it creates a database of its own on
the server the tests use (C{MIXTWISTED_TEST_PGSQL}, see C{tests/pgsql.py})
and drops it afterwards.

Usage: python bench/mam.py [--backend memory|pgsql] [--messages M]
                           [--queries K] [--page N]
"""

import argparse
import os
import platform
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from twisted.internet import defer, task  # noqa: E402

from inprocess import DOMAIN, runService  # noqa: E402
from mixtwisted.records import ArchivedMessage, ArchiveQuery  # noqa: E402
from mixtwisted.settings import Limits  # noqa: E402

CHANNEL = "room@" + DOMAIN
MESSAGES = "urn:xmpp:mix:nodes:messages"
READER = "user0@bench.example/r"


class Responses:
    """
    Wait for the response to an IQ among what the service sends, counting
    the other stanzas (the MAM result messages).
    """

    def __init__(self):
        self.waiting = {}
        self.others = 0

    def __call__(self, obj):
        text = obj if isinstance(obj, str) else obj.toXml()
        if text.startswith("<iq"):
            for iqid, d in list(self.waiting.items()):
                if "id='%s'" % (iqid,) in text or 'id="%s"' % (iqid,) in text:
                    del self.waiting[iqid]
                    d.callback(text)
                    return
        self.others += 1

    def expect(self, iqid):
        d = self.waiting[iqid] = defer.Deferred()
        return d


def summary(name, seconds):
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    print("%-34s median %7.2f ms  p95 %7.2f ms  max %7.2f ms  (%d)"
          % (name, statistics.median(ms), p95, ms[-1], len(ms)))


async def run(reactor, args):
    responses = Responses()
    await runService(reactor, args.backend, responses,
                     lambda service: measure(args, service, responses),
                     limits=Limits(maxMAMPage=max(args.page, 50)))


async def measure(args, service, responses):
    store, channels = service.store, service.channels

    async def iq(iqid, xml):
        d = responses.expect(iqid)
        service.dispatch(xml)
        return await d

    await iq("c", "<iq type='set' id='c' from='%s' to='%s'><create "
             "xmlns='urn:xmpp:mix:1' channel='room'/></iq>" % (READER, DOMAIN))
    await iq("j", "<iq type='set' id='j' from='%s' to='%s'><join "
             "xmlns='urn:xmpp:mix:1'><subscribe node='%s'/></join></iq>"
             % (READER, CHANNEL, MESSAGES))
    participant = await store.getParticipant("room", "user0@bench.example")
    proxy = "%s#room@%s" % (participant.proxyId, DOMAIN)

    fill0 = time.perf_counter()
    ids = []
    chunk = 20000
    for start in range(0, args.messages, chunk):
        writes = []
        for n in range(start, min(start + chunk, args.messages)):
            archiveId, stamp = channels.archiveIds.next()
            ids.append(archiveId)
            writes.append(store.appendMessage("room", ArchivedMessage(
                archiveId=archiveId, stamp=stamp, node=MESSAGES,
                sender=proxy, xml=(
                    "<message from='%s' id='%s' type='groupchat'>"
                    "<body>%s</body><stanza-id xmlns='urn:xmpp:sid:0' "
                    "id='%s' by='%s'/><mix xmlns='urn:xmpp:mix:1'><nick>"
                    "reader</nick><jid>%s</jid></mix></message>"
                    % (CHANNEL, archiveId, "x" * 100, archiveId, CHANNEL,
                       proxy)))))
        await defer.gatherResults(writes, consumeErrors=True)
    fill = time.perf_counter() - fill0

    print("machine: %s, %s, Python %s" % (
        platform.node() or "?", platform.processor() or platform.machine(),
        platform.python_version()))
    print("backend %s, archive of %d messages filled in %.1f s "
          "(%.0f entries/s)" % (args.backend, args.messages, fill,
                                args.messages / fill))

    rng = random.Random(1)
    kinds = (
        ("first page", lambda: dict()),
        ("last page (before='')", lambda: dict(before="")),
        ("page after a random id", lambda: dict(
            after=ids[rng.randrange(len(ids) - args.page)])),
    )
    for name, bounds in kinds:
        times = []
        for _ in range(args.queries):
            query = ArchiveQuery(node=MESSAGES, maximum=args.page, **bounds())
            t0 = time.perf_counter()
            result = await store.queryArchive("room", query)
            times.append(time.perf_counter() - t0)
            assert len(result.messages) == args.page, len(result.messages)
        summary("store, %s" % (name,), times)

    rsm = {
        "first page": lambda: "",
        "last page (before='')": lambda: "<before/>",
        "page after a random id": lambda: "<after>%s</after>" % (
            ids[rng.randrange(len(ids) - args.page)],),
    }
    for name, bound in rsm.items():
        times = []
        for n in range(args.queries):
            iqid = "q%d" % (n,)
            responses.others = 0
            t0 = time.perf_counter()
            response = await iq(
                iqid, "<iq type='set' id='%s' from='%s' to='%s'>"
                "<query xmlns='urn:xmpp:mam:2'><set "
                "xmlns='http://jabber.org/protocol/rsm'><max>%d</max>%s"
                "</set></query></iq>"
                % (iqid, READER, CHANNEL, args.page, bound()))
            times.append(time.perf_counter() - t0)
            assert "type='result'" in response, response
            assert responses.others == args.page, responses.others
        summary("MAM request, %s" % (name,), times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--backend", choices=("memory", "pgsql"),
                        default="pgsql")
    parser.add_argument("--messages", type=int, default=1000000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--page", type=int, default=50)
    args = parser.parse_args()
    task.react(lambda reactor: defer.ensureDeferred(run(reactor, args)))


if __name__ == "__main__":
    main()
