"""
Test helpers: a MIX service on a stub XML stream, driven by literal XML.

L{Harness} builds the real handlers (L{mixtwisted.wiring.makeHandlers}) on
a wokkel C{XmlStreamStub} with a L{Clock}; C{receive} feeds a stanza as if
it came from the XMPP server, and C{take} returns what the service sent,
parsed back into elements (the service sends some stanzas as serialized
strings, see L{mixtwisted.fanout}).

Behavioural tests are written once against L{MIXTestMixin} and run per
store by subclassing with a C{makeStore} (L{MemoryStoreMixin}); a second
store only needs its own mixin.
"""

from twisted.internet.task import Clock
from twisted.words.protocols.jabber import xmlstream
from twisted.words.xish import domish
from wokkel.generic import parseXml
from wokkel.subprotocols import StreamManager
from wokkel.test.helpers import XmlStreamStub

import mixtwisted  # noqa: F401  (installs the wokkel shim)
from mixtwisted.settings import Settings
from mixtwisted.store.memory import MemoryStore
from mixtwisted.wiring import makeHandlers

NS_COMPONENT = "jabber:component:accept"
NS_MIX = "urn:xmpp:mix:1"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"

DOMAIN = "mix.shakespeare.example"
HAG66 = "hag66@shakespeare.example"
HAG66_FULL = "hag66@shakespeare.example/UUID-a1j/7533"
HECATE = "hecate@shakespeare.example"
HECATE_FULL = "hecate@shakespeare.example/UUID-x4r/2491"
CAT = "cat@shakespeare.example"
CAT_FULL = "cat@shakespeare.example/UUID-11w/8813"
COVEN = "coven@" + DOMAIN


def parse(xml):
    """
    Parse one stanza, putting it in the component stream's namespace when
    it names none.
    """
    if isinstance(xml, domish.Element):
        return xml
    head = xml[:xml.index(">")]
    if "xmlns=" not in head.split("<", 1)[1].split(" ", 1)[0] and \
            " xmlns=" not in head:
        cut = xml.index(" ") if " " in head else xml.index(">")
        if head.endswith("/"):
            cut = min(cut, xml.index("/"))
        xml = xml[:cut] + " xmlns='%s'" % NS_COMPONENT + xml[cut:]
    return parseXml(xml)


class Harness:
    """
    A MIX service on a stub stream.

    @ivar clock: the L{Clock} the service runs on.
    @ivar channels: the L{mixtwisted.channels.ChannelService}.
    """

    def __init__(self, store, settings=None):
        self.clock = Clock()
        self.clock.advance(1500000000)
        self.settings = settings or Settings(domain=DOMAIN, secret="s")
        self.store = store
        self.stub = XmlStreamStub()
        factory = xmlstream.XmlStreamFactory(xmlstream.Authenticator())
        self.manager = StreamManager(factory, self.clock)
        self.channels, self.handlers = makeHandlers(
            self.settings, store, self.clock, self.manager.send)
        for handler in self.handlers:
            handler.setHandlerParent(self.manager)
        self.manager._connected(self.stub.xmlstream)
        self.manager._authd(self.stub.xmlstream)
        self.channels.start()

    def receive(self, xml):
        """
        Deliver a stanza to the service as if the XMPP server routed it.
        """
        self.stub.send(parse(xml))

    def take(self):
        """
        Return (and forget) everything the service sent, as elements.
        """
        sent = [parse(o) if isinstance(o, str) else o
                for o in self.stub.output]
        del self.stub.output[:]
        return sent

    def raw(self):
        """
        Return (and forget) everything sent, serialized.
        """
        sent = [o if isinstance(o, str) else o.toXml()
                for o in self.stub.output]
        del self.stub.output[:]
        return sent

    def iq(self, xml):
        """
        Send an IQ and return the one response with its id; other stanzas
        sent meanwhile stay available to L{take}.
        """
        request = parse(xml)
        self.stub.send(request)
        responses = []
        rest = []
        for stanza in self.take():
            if stanza.name == "iq" and \
                    stanza.getAttribute("id") == request.getAttribute("id"):
                responses.append(stanza)
            else:
                rest.append(stanza)
        self.stub.output.extend(rest)
        assert len(responses) == 1, \
            "expected one response, got %r" % ([r.toXml() for r in responses],)
        return responses[0]

    # Shortcuts for the common set-up steps.

    def create(self, name="coven", sender=HAG66_FULL, form=""):
        return self.iq(
            "<iq type='set' id='c1' from='%s' to='%s'>"
            "<create xmlns='%s' channel='%s'>%s</create></iq>"
            % (sender, DOMAIN, NS_MIX, name, form))

    def join(self, user=HAG66, channel=COVEN, nodes=(
            "urn:xmpp:mix:nodes:messages",
            "urn:xmpp:mix:nodes:participants"), extra=""):
        subscribe = "".join("<subscribe node='%s'/>" % n for n in nodes)
        return self.iq(
            "<iq type='set' id='j1' from='%s' to='%s'>"
            "<join xmlns='%s'>%s%s</join></iq>"
            % (user, channel, NS_MIX, subscribe, extra))

    def setnick(self, full, nick, channel=COVEN):
        return self.iq(
            "<iq type='set' id='n1' from='%s' to='%s'>"
            "<setnick xmlns='%s'><nick>%s</nick></setnick></iq>"
            % (full, channel, NS_MIX, nick))

    def message(self, full, body, mid="m1", channel=COVEN):
        self.receive(
            "<message type='groupchat' id='%s' from='%s' to='%s'>"
            "<body>%s</body></message>" % (mid, full, channel, body))


def errorCondition(stanza):
    """
    Return C{(type, condition)} of an error stanza, or C{None}.
    """
    if stanza.getAttribute("type") != "error":
        return None
    for error in (e for e in stanza.elements() if e.name == "error"):
        for child in error.elements(NS_STANZAS):
            if child.name != "text":
                return error.getAttribute("type"), child.name
    return None


class MIXTestMixin:
    """
    Base of behavioural tests: a fresh L{Harness} on C{self.makeStore()}
    per test.
    """

    def makeStore(self):
        raise NotImplementedError()

    def makeSettings(self):
        return None

    def setUp(self):
        self.h = Harness(self.makeStore(), self.makeSettings())

    def assertError(self, stanza, errorType, condition):
        self.assertEqual((errorType, condition), errorCondition(stanza),
                         stanza.toXml())

    def assertResult(self, stanza):
        self.assertEqual("result", stanza.getAttribute("type"),
                         stanza.toXml())


class MemoryStoreMixin:
    """
    Run a behavioural test case on the memory store.
    """

    def makeStore(self):
        return MemoryStore()
