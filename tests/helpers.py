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

from twisted.internet.task import Clock
from twisted.words.protocols.jabber import xmlstream
from twisted.words.xish import domish
from wokkel.generic import parseXml
from wokkel.subprotocols import StreamManager
from wokkel.test.helpers import XmlStreamStub

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
    C{s}, and C{overrides}.
    """
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


class Harness:
    """
    A MIX service on a stub stream.

    @ivar clock: the L{Clock} the service runs on.
    @ivar channels: the L{mixtwisted.channels.ChannelService}.
    """

    def __init__(self, store, settings=None):
        self.clock = Clock()
        self.clock.advance(1500000000)
        self.settings = settings or serviceSettings()
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
        self.receive(
            "<message type='groupchat' id='%s' from='%s' to='%s'>"
            "<body>%s</body></message>" % (mid, full, channel, body))


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


def mamQuery(harness, requester, body="", channel=COVEN, namespace=NS_MAM2,
             queryId=None, node=None, iqId="mam1"):
    """
    Run a MAM query; return C{(response, result messages)}.
    """
    attrs = ""
    if queryId is not None:
        attrs += " queryid='%s'" % (queryId,)
    if node is not None:
        attrs += " node='%s'" % (node,)
    response = harness.iq(
        "<iq type='set' id='%s' from='%s' to='%s'>"
        "<query xmlns='%s'%s>%s</query></iq>"
        % (iqId, requester, channel, namespace, attrs, body))
    results = [s for s in harness.take() if s.name == "message" and
               child(s, namespace, "result") is not None]
    return response, results


def archivedMessages(harness, requester=HAG66_FULL):
    """
    The archived stanzas (inside C{<forwarded/>}) of the channel.
    """
    response, results = mamQuery(harness, requester, rsm(5))
    assert response.getAttribute("type") == "result", response.toXml()
    out = []
    for message in results:
        forwarded = child(child(message, NS_MAM2, "result"),
                          NS_FORWARD, "forwarded")
        out.append(child(forwarded, NS_CLIENT, "message"))
    return out


def archiveCount(harness, requester=HAG66_FULL):
    """
    The RSM count of the channel's messages archive.
    """
    response, _ = mamQuery(harness, requester, rsm(0))
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

    def setUp(self):
        self.h = Harness(self.makeStore(), self.makeSettings())

    def assertError(self, stanza, errorType, condition):
        self.assertEqual((errorType, condition), errorCondition(stanza),
                         stanza.toXml())

    def assertResult(self, stanza):
        self.assertEqual("result", stanza.getAttribute("type"),
                         stanza.toXml())

    def send(self, xml):
        """
        Deliver a stanza; return everything the service sent.
        """
        self.h.receive(xml)
        return self.h.take()

    def proxyOf(self, user=HAG66, channel=COVEN,
                nodes=(NODE_MESSAGES, NODE_PARTICIPANTS)):
        """
        Join C{user} to C{channel}, check the result, return the proxy JID.
        """
        response = self.h.join(user, channel, nodes)
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

    def setUp(self):
        MIXTestMixin.setUp(self)
        self.h.create()
        self.hagProxy = self.h.join(HAG66).firstChildElement()["jid"]
        self.h.setnick(HAG66_FULL, "thirdwitch")
        self.h.take()
