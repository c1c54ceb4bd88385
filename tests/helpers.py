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

The namespaces, node names, form and MAM builders (L{submitForm},
L{formValues}, L{notifications}, L{mamQuery}, ...) shared by the test
modules are defined here once.
"""

import inspect

from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.words.protocols.jabber import xmlstream
from twisted.words.xish import domish
from wokkel.generic import parseXml
from wokkel.subprotocols import StreamManager
from wokkel.test.helpers import XmlStreamStub
from zope.interface import directlyProvides, providedBy

import mixtwisted  # noqa: F401  (installs the wokkel shim)
from mixtwisted.settings import Limits, Settings
from mixtwisted.store.memory import MemoryStore
from mixtwisted.wiring import makeHandlers

# Namespaces and node names, spelt out here rather than taken from
# mixtwisted.namespaces so that the tests check the wire format.

NS_COMPONENT = "jabber:component:accept"
NS_MIX = "urn:xmpp:mix:1"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_DATA = "jabber:x:data"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
NS_PUBSUB = "http://jabber.org/protocol/pubsub"
NS_PUBSUB_EVENT = "http://jabber.org/protocol/pubsub#event"
NS_PUBSUB_OWNER = "http://jabber.org/protocol/pubsub#owner"
NS_PUBSUB_ERRORS = "http://jabber.org/protocol/pubsub#errors"
NS_MAM1 = "urn:xmpp:mam:1"
NS_MAM2 = "urn:xmpp:mam:2"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_SID = "urn:xmpp:sid:0"
NS_FORWARD = "urn:xmpp:forward:0"
NS_DELAY = "urn:xmpp:delay"
NS_CLIENT = "jabber:client"
NS_XML = "http://www.w3.org/XML/1998/namespace"

NODE_MESSAGES = "urn:xmpp:mix:nodes:messages"
NODE_PARTICIPANTS = "urn:xmpp:mix:nodes:participants"
NODE_JIDMAP = "urn:xmpp:mix:nodes:jidmap"
NODE_JIDMAP_VISIBLE = "urn:xmpp:mix:nodes:jidmap-visible"
NODE_PRESENCE = "urn:xmpp:mix:nodes:presence"
NODE_INFO = "urn:xmpp:mix:nodes:info"
NODE_ALLOWED = "urn:xmpp:mix:nodes:allowed"
NODE_BANNED = "urn:xmpp:mix:nodes:banned"
NODE_CONFIG = "urn:xmpp:mix:nodes:config"

DOMAIN = "mix.shakespeare.example"
HAG66 = "hag66@shakespeare.example"
HAG66_FULL = "hag66@shakespeare.example/UUID-a1j/7533"
HECATE = "hecate@shakespeare.example"
HECATE_FULL = "hecate@shakespeare.example/UUID-x4r/2491"
CAT = "cat@shakespeare.example"
CAT_FULL = "cat@shakespeare.example/UUID-11w/8813"
COVEN = "coven@" + DOMAIN


def serviceSettings(**overrides):
    """
    The L{Settings} of the service under test: domain L{DOMAIN}, secret
    C{s}, delivery to bare JIDs (the spec's way: the behavioural tests
    predate delivery routing; C{tests/test_routing.py} sets its own), and
    C{overrides}.
    """
    overrides.setdefault("delivery", "bare")
    return Settings(domain=DOMAIN, secret="s", **overrides)


def smallSettings():
    """
    L{serviceSettings} with small limits: 2000-byte messages, MAM pages of
    at most 5.
    """
    return serviceSettings(
        limits=Limits(maxMessageBytes=2000, maxMAMPage=5))


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


class StoreTracker:
    """
    The store as the service under test sees it: every call goes to the
    real store, and the Deferreds not yet fired are counted, so that
    L{Harness.settle} can wait until the service has finished what a
    stanza started.  The memory store fires at once, so with it nothing is
    ever outstanding and tests run without a reactor turn.
    """

    def __init__(self, store, reactor):
        self.store = store
        self.reactor = reactor
        self.outstanding = 0
        self._waiting = []
        directlyProvides(self, providedBy(store))

    def __getattr__(self, name):
        attribute = getattr(self.store, name)
        if not callable(attribute):
            return attribute

        def tracked(*args, **kwargs):
            result = attribute(*args, **kwargs)
            if inspect.iscoroutine(result):
                # A test's stand-in written as a coroutine function: give
                # the service the Deferred the interface promises.
                result = defer.Deferred.fromCoroutine(result)
            if isinstance(result, defer.Deferred) and not result.called:
                self.outstanding += 1
                result.addBoth(self._done)
            return result
        return tracked

    def _done(self, result):
        self.outstanding -= 1
        if not self.outstanding and self._waiting:
            # The callbacks the service chained on this Deferred run right
            # after this one, and may start more work: look again on the
            # next reactor turn.
            self.reactor.callLater(0, self._check)
        return result

    def _check(self):
        if self.outstanding:
            return
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            d.callback(None)

    def idle(self):
        """
        Return a Deferred that fires once no store call is outstanding.
        """
        if not self.outstanding:
            return defer.succeed(None)
        d = defer.Deferred()
        self._waiting.append(d)
        return d


class Harness:
    """
    A MIX service on a stub stream.

    Start it with L{start} (or build it with L{startHarness}).  The methods
    that hand the service a stanza or move its clock return Deferreds that
    fire once the service has finished with it (L{settle}): tests
    C{await} them, so that they run unchanged on a store that answers
    later (PostgreSQL).

    @ivar clock: the L{Clock} the service runs on.
    @ivar channels: the L{mixtwisted.channels.ChannelService}.
    @ivar store: the store itself (not tracked).
    """

    def __init__(self, store, settings=None, reactor=None):
        if reactor is None:
            from twisted.internet import reactor
        self.clock = Clock()
        self.clock.advance(1500000000)
        self.settings = settings or serviceSettings()
        self.store = store
        self.tracker = StoreTracker(store, reactor)
        self.stub = XmlStreamStub()
        factory = xmlstream.XmlStreamFactory(xmlstream.Authenticator())
        self.manager = StreamManager(factory, self.clock)
        self.channels, self.handlers = makeHandlers(
            self.settings, self.tracker, self.clock, self.manager.send)
        for handler in self.handlers:
            handler.setHandlerParent(self.manager)
        self.manager._connected(self.stub.xmlstream)
        self.manager._authd(self.stub.xmlstream)

    async def start(self):
        """
        Run the service's start-up (archive ids, presence probes).
        """
        await self.channels.start()
        await self.settle()

    def settle(self):
        """
        Return a Deferred that fires once the service has finished what it
        was handed: no store call outstanding.
        """
        return self.tracker.idle()

    async def receive(self, xml):
        """
        Deliver a stanza to the service as if the XMPP server routed it,
        and wait until the service has dealt with it.
        """
        self.stub.send(parse(xml))
        await self.settle()

    async def advance(self, seconds):
        """
        Move the service's clock on and wait for what that set off.
        """
        self.clock.advance(seconds)
        await self.settle()

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

    async def iq(self, xml):
        """
        Send an IQ and return the one response with its id; other stanzas
        sent meanwhile stay available to L{take}.
        """
        request = parse(xml)
        await self.receive(request)
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

    def join(self, user=HAG66, channel=COVEN,
             nodes=(NODE_MESSAGES, NODE_PARTICIPANTS), extra=""):
        subscribe = "".join("<subscribe node='%s'/>" % n for n in nodes)
        return self.iq(
            "<iq type='set' id='j1' from='%s' to='%s'>"
            "<join xmlns='%s'>%s%s</join></iq>"
            % (user, channel, NS_MIX, subscribe, extra))

    def leave(self, user, channel=COVEN):
        return self.iq(
            "<iq type='set' id='l1' from='%s' to='%s'>"
            "<leave xmlns='%s'/></iq>" % (user, channel, NS_MIX))

    def setnick(self, full, nick, channel=COVEN):
        return self.iq(
            "<iq type='set' id='n1' from='%s' to='%s'>"
            "<setnick xmlns='%s'><nick>%s</nick></setnick></iq>"
            % (full, channel, NS_MIX, nick))

    def message(self, full, body, mid="m1", channel=COVEN):
        return self.receive(
            "<message type='groupchat' id='%s' from='%s' to='%s'>"
            "<body>%s</body></message>" % (mid, full, channel, body))


async def startHarness(store, settings=None):
    """
    Build a L{Harness} on C{store} (or on the store a Deferred fires
    with, as a C{makeStore} may return) and run its start-up.
    """
    store = await defer.maybeDeferred(lambda: store)
    harness = Harness(store, settings)
    await harness.start()
    return harness


def submitForm(*fields, formType=NS_MIX):
    """
    Serialize a XEP-0004 submit form.

    @param fields: C{(var, value)} pairs; a list or tuple value gives one
        C{<value/>} per element (an empty one, a field without value).
    @param formType: the hidden FORM_TYPE value, or C{None} for a form
        without FORM_TYPE field.
    """
    parts = ["<x xmlns='%s' type='submit'>" % (NS_DATA,)]
    if formType is not None:
        parts.append("<field var='FORM_TYPE' type='hidden'>"
                     "<value>%s</value></field>" % (formType,))
    for var, values in fields:
        if not isinstance(values, (list, tuple)):
            values = [values]
        parts.append("<field var='%s'>%s</field>" % (
            var, "".join("<value>%s</value>" % (v,) for v in values)))
    parts.append("</x>")
    return "".join(parts)


#: A channel creation form opening the messages node to anyone (ACL-8).
ANYONE_FORM = submitForm(("Messages Node Subscription", "anyone"))


def formValues(x):
    """
    Return C{{var: [values]}} of a data form element (the values of
    repeated fields are joined).
    """
    fields = {}
    for field in x.elements(NS_DATA, "field"):
        fields.setdefault(field.getAttribute("var"), []).extend(
            str(v) for v in field.elements(NS_DATA, "value"))
    return fields


def notifications(stanzas, node):
    """
    Return C{(to, <items/>)} of the PubSub notifications for C{node} among
    C{stanzas}.
    """
    found = []
    for stanza in stanzas:
        if stanza.name != "message":
            continue
        for event in stanza.elements(NS_PUBSUB_EVENT, "event"):
            for items in event.elements(NS_PUBSUB_EVENT, "items"):
                if items.getAttribute("node") == node:
                    found.append((stanza.getAttribute("to"), items))
    return found


def child(element, uri, name):
    """
    Return the first child element C{(uri, name)} of C{element} or C{None}.
    """
    for c in element.elements(uri, name):
        return c
    return None


def groupchats(stanzas):
    """
    The groupchat messages among C{stanzas}.
    """
    return [s for s in stanzas
            if s.name == "message" and s.getAttribute("type") == "groupchat"]


def rsm(maximum=None, after=None, before=None):
    """
    Serialize a XEP-0059 C{<set/>}; C{before=""} gives an empty
    C{<before/>}.
    """
    parts = []
    if maximum is not None:
        parts.append("<max>%s</max>" % (maximum,))
    if after is not None:
        parts.append("<after>%s</after>" % (after,))
    if before is not None:
        parts.append("<before>%s</before>" % (before,) if before
                     else "<before/>")
    return "<set xmlns='%s'>%s</set>" % (NS_RSM, "".join(parts))


async def mamQuery(harness, requester, body="", channel=COVEN, namespace=NS_MAM2,
             queryId=None, node=None, iqId="mam1"):
    """
    Run a MAM query; return C{(response, result messages)}.
    """
    attrs = ""
    if queryId is not None:
        attrs += " queryid='%s'" % (queryId,)
    if node is not None:
        attrs += " node='%s'" % (node,)
    response = await harness.iq(
        "<iq type='set' id='%s' from='%s' to='%s'>"
        "<query xmlns='%s'%s>%s</query></iq>"
        % (iqId, requester, channel, namespace, attrs, body))
    results = [s for s in harness.take() if s.name == "message" and
               child(s, namespace, "result") is not None]
    return response, results


async def archivedMessages(harness, requester=HAG66_FULL):
    """
    The archived stanzas (inside C{<forwarded/>}) of the channel.
    """
    response, results = await mamQuery(harness, requester, rsm(5))
    assert response.getAttribute("type") == "result", response.toXml()
    out = []
    for message in results:
        forwarded = child(child(message, NS_MAM2, "result"),
                          NS_FORWARD, "forwarded")
        out.append(child(forwarded, NS_CLIENT, "message"))
    return out


async def archiveCount(harness, requester=HAG66_FULL):
    """
    The RSM count of the channel's messages archive.
    """
    response, _ = await mamQuery(harness, requester, rsm(0))
    assert response.getAttribute("type") == "result", response.toXml()
    fin = child(response, NS_MAM2, "fin")
    return int(str(child(child(fin, NS_RSM, "set"), NS_RSM, "count")))


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
        return serviceSettings()

    async def setUp(self):
        store = await defer.maybeDeferred(self.makeStore)
        self.h = await startHarness(store, self.makeSettings())

    def assertError(self, stanza, errorType, condition):
        self.assertEqual((errorType, condition), errorCondition(stanza),
                         stanza.toXml())

    def assertResult(self, stanza):
        self.assertEqual("result", stanza.getAttribute("type"),
                         stanza.toXml())

    async def send(self, xml):
        """
        Deliver a stanza; return everything the service sent.
        """
        await self.h.receive(xml)
        return self.h.take()

    async def proxyOf(self, user=HAG66, channel=COVEN,
                nodes=(NODE_MESSAGES, NODE_PARTICIPANTS)):
        """
        Join C{user} to C{channel}, check the result, return the proxy JID.
        """
        response = await self.h.join(user, channel, nodes)
        self.assertResult(response)
        return response.join["jid"]


class MemoryStoreMixin:
    """
    Run a behavioural test case on the memory store.
    """

    def makeStore(self):
        return MemoryStore()


class SmallChannelMixin(MIXTestMixin):
    """
    Behavioural tests on L{smallSettings}, in channel L{COVEN} created by
    hag66, who has joined (proxy JID C{self.hagProxy}) with nick
    C{thirdwitch}.
    """

    def makeSettings(self):
        return smallSettings()

    async def setUp(self):
        await MIXTestMixin.setUp(self)
        await self.h.create()
        self.hagProxy = (await self.h.join(HAG66)).firstChildElement()["jid"]
        await self.h.setnick(HAG66_FULL, "thirdwitch")
        self.h.take()
