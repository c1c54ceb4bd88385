"""
The service the in-process benchmarks (C{archive.py}, C{mam.py}) drive:
the real store, channel logic and handlers on a stub stream, with the
reactor.

L{runService} makes the store (for C{pgsql}, on a database of its own
created on the server the tests use, C{MIXTWISTED_TEST_PGSQL}, and dropped
afterwards), starts it, attaches the handlers to a stub stream whose
output goes to C{sink}, runs the service's start-up, and hands the parts to
the benchmark.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from twisted.words.protocols.jabber import xmlstream  # noqa: E402
from wokkel.generic import parseXml  # noqa: E402
from wokkel.subprotocols import StreamManager  # noqa: E402
from wokkel.test.helpers import XmlStreamStub  # noqa: E402

import mixtwisted  # noqa: E402,F401  (installs the wokkel shim)
from mixtwisted.settings import Settings  # noqa: E402
from mixtwisted.wiring import makeHandlers, makeStore  # noqa: E402
from tests import pgsql  # noqa: E402

DOMAIN = "mix.bench.example"
NS = "jabber:component:accept"


class Service:
    """
    The parts of a running service.

    @ivar store: the started store.
    @ivar channels: the L{mixtwisted.channels.ChannelService}.
    @ivar stream: the stub stream; L{dispatch} hands it a stanza.
    """

    def __init__(self, store, channels, stream):
        self.store = store
        self.channels = channels
        self.stream = stream

    def dispatch(self, stanza):
        """
        Hand the service a stanza (an element, or serialized: see
        L{parse}), as if read off the connection.
        """
        if isinstance(stanza, str):
            stanza = parse(stanza)
        self.stream.dispatch(stanza)


def parse(xml):
    """
    Parse a serialized stanza, putting it in the component namespace.
    """
    for name in ("<iq ", "<message ", "<presence "):
        if xml.startswith(name):
            xml = xml.replace(name, "%sxmlns='%s' " % (name, NS), 1)
            break
    return parseXml(xml)


async def runService(reactor, backend, sink, body, **settings):
    """
    Run C{await body(service)} on a started service of C{backend}.

    @param sink: called with every stanza the service sends.
    @param settings: more L{Settings} fields.
    """
    database = None
    if backend == "pgsql":
        database = pgsql.createDatabase("mixtwisted_bench")
    try:
        settings = Settings(
            domain=DOMAIN, secret="s", backend=backend,
            dsn=pgsql.databaseDSN(database) if database else "", **settings)
        store = makeStore(settings, reactor)
        await store.start()
        try:
            stub = XmlStreamStub()
            stub.xmlstream.send = sink
            manager = StreamManager(
                xmlstream.XmlStreamFactory(xmlstream.Authenticator()),
                reactor)
            channels, handlers = makeHandlers(settings, store, reactor,
                                              manager.send)
            for handler in handlers:
                handler.setHandlerParent(manager)
            manager._connected(stub.xmlstream)
            manager._authd(stub.xmlstream)
            await channels.start()
            await body(Service(store, channels, stub.xmlstream))
        finally:
            await store.stop()
    finally:
        if database is not None:
            pgsql.dropDatabase(database)
