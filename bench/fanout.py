"""
In-process fan-out benchmark: the real handlers and memory store, no sockets.

Joins N participants to one channel, sends M groupchat messages from one of
them through the message handler, and counts the N x M addressed copies in
a sink that only adds up their lengths (nothing is parsed).  Prints the CPU
time per delivered stanza and deliveries per second.

This measures the service's own work on the hot path (check, archive,
build once, serialize once, address copies); the socket write and the XML
parsing of incoming stanzas by Twisted are not in it.  The process-level
benchmark against the real twistd process comes with the performance work.

Usage: python bench/fanout.py [--participants N] [--messages M]
"""

import argparse
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from twisted.internet.task import Clock  # noqa: E402
from twisted.words.protocols.jabber import xmlstream  # noqa: E402
from wokkel.generic import parseXml  # noqa: E402
from wokkel.subprotocols import StreamManager  # noqa: E402
from wokkel.test.helpers import XmlStreamStub  # noqa: E402

import mixtwisted  # noqa: E402,F401
from mixtwisted.settings import Settings  # noqa: E402
from mixtwisted.store.memory import MemoryStore  # noqa: E402
from mixtwisted.wiring import makeHandlers  # noqa: E402

DOMAIN = "mix.bench.example"
CHANNEL = "room@" + DOMAIN
NS = "jabber:component:accept"


class Sink:
    """
    Count stanzas and bytes sent, without keeping them.
    """

    def __init__(self):
        self.stanzas = 0
        self.chars = 0

    def __call__(self, obj):
        self.stanzas += 1
        self.chars += len(obj) if isinstance(obj, str) else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--participants", type=int, default=50)
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()

    clock = Clock()
    clock.advance(time.time())
    stub = XmlStreamStub()
    sink = Sink()
    stub.xmlstream.send = sink
    manager = StreamManager(
        xmlstream.XmlStreamFactory(xmlstream.Authenticator()), clock)
    _, handlers = makeHandlers(Settings(domain=DOMAIN, secret="s"),
                               MemoryStore(), clock, manager.send)
    for handler in handlers:
        handler.setHandlerParent(manager)
    manager._connected(stub.xmlstream)
    manager._authd(stub.xmlstream)

    def deliver(xml):
        stub.xmlstream.dispatch(parseXml(xml.replace(
            "<iq ", "<iq xmlns='%s' " % NS, 1).replace(
            "<message ", "<message xmlns='%s' " % NS, 1)))

    deliver("<iq type='set' id='c' from='owner@bench.example/r' to='%s'>"
            "<create xmlns='urn:xmpp:mix:1' channel='room'/></iq>" % DOMAIN)
    for n in range(args.participants):
        deliver("<iq type='set' id='j%d' from='user%d@bench.example' to='%s'>"
                "<join xmlns='urn:xmpp:mix:1'><subscribe "
                "node='urn:xmpp:mix:nodes:messages'/></join></iq>"
                % (n, n, CHANNEL))
    deliver("<iq type='set' id='n' from='user0@bench.example/r' to='%s'>"
            "<setnick xmlns='urn:xmpp:mix:1'><nick>speaker</nick></setnick>"
            "</iq>" % CHANNEL)

    body = "x" * 100
    stanzas = [parseXml(
        "<message xmlns='%s' type='groupchat' id='m%d' "
        "from='user0@bench.example/r' to='%s'><body>%s</body></message>"
        % (NS, n, CHANNEL, body)) for n in range(args.messages)]

    sink.stanzas = sink.chars = 0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for stanza in stanzas:
        stub.xmlstream.dispatch(stanza)
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - wall0

    expected = args.participants * args.messages
    if sink.stanzas != expected:
        raise SystemExit("expected %d deliveries, counted %d"
                         % (expected, sink.stanzas))
    print("machine: %s, %s, Python %s" % (
        platform.node() or "?", platform.processor() or platform.machine(),
        platform.python_version()))
    print("participants %d, messages %d, deliveries %d, %.1f MB sent"
          % (args.participants, args.messages, sink.stanzas,
             sink.chars / 1e6))
    print("wall %.3f s, CPU %.3f s" % (wall, cpu))
    print("CPU per delivered stanza: %.2f us" % (cpu / sink.stanzas * 1e6))
    print("deliveries per second (CPU): %.0f" % (sink.stanzas / cpu))
    print("CPU per message (whole fan-out): %.1f us"
          % (cpu / args.messages * 1e6))


if __name__ == "__main__":
    main()
