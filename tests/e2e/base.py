"""
The end-to-end test case: one XMPP server, the real C{twistd mix} attached
to it, slixmpp clients logged in, all started by the test and stopped in
its cleanups; and the MIX scenarios both servers run.

A test class names its server (L{EndToEndCase.serverClass}); the scenarios
in L{Scenarios} are written once for every server.  A wait for what a
server should deliver raises L{InteropGap} when it did something else
instead (the bounce it sent) or nothing arrived in time.

When a test fails, its message ends with the last lines of every
process's output; the full outputs are in the test's directory under
C{_trial_temp}.
"""

import functools
import os
import secrets

from twisted.internet import defer
from twisted.trial import unittest

from tests.e2e import clients
from tests.e2e.clients import Client
from tests.e2e.service import MixComponent, stanzaPattern
from tests.helpers import (
    NODE_INFO, NODE_MESSAGES, NODE_PARTICIPANTS, NODE_PRESENCE, NS_DATA,
    NS_DISCO_INFO, NS_DISCO_ITEMS, NS_FORWARD, NS_MAM2, NS_MIX, NS_PUBSUB,
    NS_PUBSUB_EVENT, NS_SID, child, errorCondition, submitForm)

NS_MIX_CORE = "urn:xmpp:mix:core:1"
NS_MIX_PRESENCE = "urn:xmpp:mix:presence:0"
NS_MIX_PAM2 = "urn:xmpp:mix:pam:2"
NS_MIX_ACCOUNT = "urn:xmpp:mix:account:0"
NS_CLIENT = "jabber:client"


class InteropGap(AssertionError):
    """
    What a server should have delivered did not arrive: it bounced the
    channel's stanza, or nothing arrived in time.
    """


def scenario(method):
    """
    Run a test method as C{inlineCallbacks}; when it fails (with anything
    but a skip), add the end of every process's output to the message
    (L{EndToEndCase.describe}).
    """
    method = defer.inlineCallbacks(method)

    @functools.wraps(method)
    def run(self):
        def addOutput(failure):
            if failure.check(unittest.SkipTest):
                return failure
            raise self.failureException("%s: %s\n\n%s" % (
                failure.type.__name__, failure.getErrorMessage(),
                self.describe())) from failure.value

        return method(self).addErrback(addOutput)

    return run


# Requests of the urn:xmpp:mix:1 revision, as a client sends them.

def iq(kind, to, payload):
    return "<iq xmlns='%s' type='%s' to='%s'>%s</iq>" % (
        NS_CLIENT, kind, to, payload)


def createRequest(service, name):
    """
    CRE-1: C{<create channel='name'/>} to the service.
    """
    return iq("set", service,
              "<create xmlns='%s' channel='%s'/>" % (NS_MIX, name))


def joinRequest(channel, nodes):
    """
    C{<join/>} sent by the client straight to the channel (without MIX-PAM
    on the user's server there is nobody to relay it, JOIN-1).
    """
    return iq("set", channel, "<join xmlns='%s'>%s</join>" % (
        NS_MIX, "".join("<subscribe node='%s'/>" % n for n in nodes)))


def setnickRequest(channel, nick):
    """
    NICK-1: C{<setnick/>} to the channel.
    """
    return iq("set", channel, "<setnick xmlns='%s'><nick>%s</nick></setnick>"
              % (NS_MIX, nick))


def leaveRequest(channel):
    """
    C{<leave/>} sent straight to the channel (JOIN-23).
    """
    return iq("set", channel, "<leave xmlns='%s'/>" % (NS_MIX,))


def destroyRequest(service, name, namespace=NS_MIX):
    """
    CRE-9: C{<destroy channel='name'/>} to the service, in C{namespace}
    (slixmpp 1.17's C{destroy_channel} sends an IQ without child, so a
    MIX-CORE client's destroy is built by hand too).
    """
    return iq("set", service,
              "<destroy xmlns='%s' channel='%s'/>" % (namespace, name))


def infoPublish(channel, *fields, formType=NS_MIX_CORE):
    """
    ADM-4 (doc/administration.md): publish a submit form with C{fields}
    (C{(var, value)} pairs) to the channel's information node, with the
    FORM_TYPE of C{formType}'s revision.
    """
    return iq("set", channel,
              "<pubsub xmlns='%s'><publish node='%s'><item>%s</item>"
              "</publish></pubsub>" % (
                  NS_PUBSUB, NODE_INFO, submitForm(*fields,
                                                   formType=formType)))


def groupchat(channel, stanzaID, body, originID=False):
    """
    MSG-1: a groupchat message to the channel; with C{originID}, an
    XEP-0359 C{<origin-id/>} of the same value, as a MIX-CORE client
    sends it (it correlates the client's copy, which carries no
    submission-id).
    """
    origin = ("<origin-id xmlns='%s' id='%s'/>" % (NS_SID, stanzaID)
              if originID else "")
    return ("<message xmlns='%s' type='groupchat' to='%s' id='%s'>"
            "<body>%s</body>%s</message>" % (
                NS_CLIENT, channel, stanzaID, body, origin))


def directedPresence(channel, kind=None):
    """
    Presence to the channel (what the user's server sends for a channel in
    the roster; here the client sends it itself).
    """
    typeAttribute = " type='%s'" % (kind,) if kind else ""
    return "<presence xmlns='%s' to='%s'%s/>" % (
        NS_CLIENT, channel, typeAttribute)


# Reading responses.

def features(response):
    """
    The C{var}s of a disco#info response.
    """
    query = child(response, NS_DISCO_INFO, "query")
    return {f.getAttribute("var") for f in query.elements(NS_DISCO_INFO,
                                                          "feature")}


def identities(response):
    """
    The C{(category, type)} of a disco#info response's identities.
    """
    query = child(response, NS_DISCO_INFO, "query")
    return {(i.getAttribute("category"), i.getAttribute("type"))
            for i in query.elements(NS_DISCO_INFO, "identity")}


def itemJIDs(response):
    """
    The C{jid}s of a disco#items response.
    """
    query = child(response, NS_DISCO_ITEMS, "query")
    return {i.getAttribute("jid")
            for i in query.elements(NS_DISCO_ITEMS, "item")}


def eventItems(stanza, node):
    """
    The C{<item/>} and C{<retract/>} elements of a PubSub event for
    C{node} in C{stanza}, or C{None} when it is none.
    """
    if stanza.name != "message":
        return None
    event = child(stanza, NS_PUBSUB_EVENT, "event")
    if event is None:
        return None
    items = child(event, NS_PUBSUB_EVENT, "items")
    if items is None or items.getAttribute("node") != node:
        return None
    return list(items.elements())


def participantEvent(proxy, withNick=None, retract=False,
                     namespace=NS_MIX):
    """
    A predicate: a participants-node notification about C{proxy} (an item,
    with nick C{withNick} if given, or a retraction), in the revision of
    C{namespace} (REV-8: item ids are bare proxy JIDs in C{urn:xmpp:mix:1},
    stable participant ids in C{urn:xmpp:mix:core:1}).
    """
    def check(stanza):
        for item in eventItems(stanza, NODE_PARTICIPANTS) or ():
            if item.getAttribute("id") != proxy:
                continue
            if retract:
                return item.name == "retract"
            if item.name != "item":
                continue
            if withNick is None:
                return True
            participant = child(item, namespace, "participant")
            if participant is None:
                return False
            nick = child(participant, namespace, "nick")
            return nick is not None and str(nick) == withNick
        return False
    return check


def infoEvent(field, value):
    """
    A predicate: an information-node notification whose form says
    C{value} for C{field}.
    """
    def check(stanza):
        for item in eventItems(stanza, NODE_INFO) or ():
            form = child(item, NS_DATA, "x")
            for f in () if form is None else form.elements(NS_DATA, "field"):
                if f.getAttribute("var") == field:
                    return [str(v) for v in f.elements(NS_DATA, "value")
                            ] == [value]
        return False
    return check


def presenceFrom(proxy, kind=None):
    """
    A predicate: presence of type C{kind} from a full proxy JID of the
    bare proxy JID C{proxy}.
    """
    def check(stanza):
        sender = stanza.getAttribute("from", "")
        return (stanza.name == "presence" and sender.startswith(proxy + "/")
                and stanza.getAttribute("type") == kind)
    return check


def reflectedBy(channel):
    """
    A predicate: a groupchat message from C{channel}.
    """
    def check(stanza):
        return (stanza.name == "message"
                and stanza.getAttribute("type") == "groupchat"
                and stanza.getAttribute("from") == channel)
    return check


def mixChild(stanza, name, namespace=NS_MIX):
    """
    The text of C{<mix xmlns='urn:xmpp:mix:1'><name/></mix>} in C{stanza}
    (or of the C{<mix/>} of C{namespace}).
    """
    mix = child(stanza, namespace, "mix")
    element = None if mix is None else child(mix, namespace, name)
    return None if element is None else str(element)


def proxyJID(stableId, channel):
    """
    The bare proxy JID of the participant C{stableId} (REV-3: the
    stable participant id is the proxy JID's id, PRESENCE's encoded JID).
    """
    return "%s#%s" % (stableId, channel)


def sentBy(sender):
    """
    A predicate on L{clients.MixEvent}s: slixmpp read C{sender} as the
    stanza's C{from}.
    """
    return lambda event: event.sender == sender


def presenceOf(proxy):
    """
    A predicate on L{clients.MixEvent}s: from a full JID of the bare proxy
    JID C{proxy}.
    """
    return lambda event: event.sender.startswith(proxy + "/")


class EndToEndCase(unittest.TestCase):
    """
    One server (L{serverClass}), C{twistd mix}, and clients, per test.

    @cvar serverClass: the L{tests.e2e.servers.XMPPServer} to run.
    """

    serverClass = None
    timeout = 240

    #: Added to C{twistd mix}'s command line.
    mixArgs = ()

    def setUp(self):
        reason = self.serverClass.skipReason() or clients.skipReason()
        if reason is not None:
            raise unittest.SkipTest(reason)
        self.workdir = os.path.abspath(self.mktemp())
        os.makedirs(self.workdir)
        self.server = None
        self.mix = None
        self.clients = []

    def describe(self):
        """
        The end of every process's output.
        """
        parts = ["Outputs of this test are in %s" % (self.workdir,)]
        for part in [self.server, self.mix] + self.clients:
            if part is not None:
                parts.append(part.describe())
        return "\n".join(parts)

    @defer.inlineCallbacks
    def start(self, users=("hag66", "hecate")):
        """
        Start the server with accounts C{users}, C{twistd mix} (with
        L{mixArgs}), and one logged-in client per user.

        @return: a Deferred firing with the clients, in C{users}' order.
        """
        self.server = self.serverClass(
            os.path.join(self.workdir, "server"),
            "%s.localhost" % (self.serverClass.name,))
        self.addCleanup(self.server.stop)
        passwords = {user: secrets.token_hex(8) for user in users}
        yield self.server.start(passwords)
        self.mix = MixComponent(
            self.server, os.path.join(self.workdir, "mix"), *self.mixArgs)
        self.addCleanup(self.mix.stop)
        yield self.mix.start()
        for user in users:
            client = Client(user, passwords[user], self.server,
                            os.path.join(self.workdir, "clients"))
            self.clients.append(client)
            self.addCleanup(client.stop)
        yield defer.gatherResults([c.connect() for c in self.clients],
                                  consumeErrors=True).addErrback(
                                      lambda f: f.value.subFailure)
        return list(self.clients)

    @property
    def service(self):
        return self.server.mixDomain

    def channel(self, name="coven"):
        return "%s@%s" % (name, self.server.mixDomain)

    @defer.inlineCallbacks
    def ok(self, client, request):
        """
        Send an IQ request; fail unless it gets a result.

        @return: a Deferred firing with the result (domish).
        """
        response = yield client.iq(request)
        if response.getAttribute("type") != "result":
            raise self.failureException(
                "%s got %s for\n%s" % (client.jid, response.toXml(), request))
        return response

    @defer.inlineCallbacks
    def join(self, client, channel, nodes):
        """
        Join C{channel} subscribing to C{nodes}.

        @return: a Deferred firing with the bare proxy JID.
        """
        response = yield self.ok(client, joinRequest(channel, nodes))
        join = child(response, NS_MIX, "join")
        self.assertEqual(
            {s.getAttribute("node") for s in join.elements(NS_MIX,
                                                          "subscribe")},
            set(nodes))
        proxy = join.getAttribute("jid")
        self.assertTrue(proxy.endswith("#" + channel), proxy)
        return proxy

    @defer.inlineCallbacks
    def joinCore(self, client, channel, nodes, nick):
        """
        Join C{channel} with slixmpp's XEP-0369 C{join_channel}, straight
        from the client's full JID, with C{nick} and subscribing to
        C{nodes}; slixmpp nests the C{<subscribe/>}s, which the service
        reads (REV-7).  Check the result (REV-4, REV-5): one
        C{<join xmlns='urn:xmpp:mix:core:1'>} with the stable participant
        id in C{id} (no C{#}, C{/} or C{@}), the proxy JID in C{jid} if
        any, the subscribed nodes and the nick reported back.

        @return: a Deferred firing with the stable participant id.
        """
        response = yield client.joinChannel(channel, nick, nodes)
        join = child(response, NS_MIX_CORE, "join")
        self.assertIsNotNone(join, response.toXml())
        self.assertEqual([join], list(response.elements()))
        stableId = join.getAttribute("id", "")
        self.assertRegex(stableId, r"^[^#/@]+$", response.toXml())
        self.assertIn(join.getAttribute("jid"),
                      (None, proxyJID(stableId, channel)))
        self.assertEqual(set(nodes), {
            s.getAttribute("node")
            for s in join.elements(NS_MIX_CORE, "subscribe")})
        self.assertEqual(nick, str(child(join, NS_MIX_CORE, "nick")))
        return stableId

    @defer.inlineCallbacks
    def waitForWire(self, description, pattern, since):
        """
        Wait for C{pattern} in C{twistd mix}'s output (its stanza log).
        """
        match = yield self.mix.process.waitForOutput(pattern, description,
                                                     since=since)
        return match.group(0)

    @defer.inlineCallbacks
    def delivered(self, client, predicate, description, since, wireMark):
        """
        Wait until C{client} receives a stanza matching C{predicate} (from
        index C{since} of its received stanzas), while watching the
        service's wire log (from position C{wireMark}) for a message bounced
        by C{client}'s bare JID.

        @raise InteropGap: when the server bounced it, or it did not arrive
            in time.
        """
        bounced = self.mix.waitForStanza(
            "RECV", "message", "bounce from %s" % (client.jid,),
            since=wireMark, type_="error", from_=client.jid)
        arrived = client.waitForStanza(predicate, description, since=since)
        try:
            index, value = yield defer.race([arrived, bounced])
        except defer.FailureGroup as e:
            raise InteropGap("%s never arrived and was not bounced: %s" % (
                description, e.failures[0].getErrorMessage()))
        if index == 1:
            raise InteropGap(
                "%s's server bounced the channel's message instead of "
                "delivering %s:\n%s" % (client.jid, description, value[:1500]))
        return value

    @defer.inlineCallbacks
    def joinAndAppear(self, *clients):
        """
        Create the channel (by the first client); every client joins it
        subscribing to the messages, participants and presence nodes, sets
        its user name as nick, and sends presence to the channel (what a
        client whose server has no MIX does to be online in it); wait until
        every client has received every client's presence from the channel,
        its own included (PRES-14).

        @return: a Deferred firing with a dict: client to bare proxy JID.
        """
        channel = self.channel()
        nodes = [NODE_MESSAGES, NODE_PARTICIPANTS, NODE_PRESENCE]
        yield self.ok(clients[0], createRequest(self.service, "coven"))
        proxies = {}
        for client in clients:
            proxies[client] = yield self.join(client, channel, nodes)
            yield self.ok(client, setnickRequest(
                channel, client.jid.split("@")[0]))
        yield self.appear(proxies)
        return proxies

    @defer.inlineCallbacks
    def appear(self, proxies):
        """
        Every client of C{proxies} (client to bare proxy JID, participants
        subscribed to the presence node) sends presence to the channel;
        wait until every client has received every client's presence
        from the channel, its own included (PRES-14).
        """
        channel = self.channel()
        clients = list(proxies)
        for client in clients:
            mark = self.mix.mark()
            yield client.send(directedPresence(channel))
            # One at a time, in the order the service takes them.
            yield self.mix.waitForStanza(
                "RECV", "presence", "the presence of %s" % (client.jid,),
                since=mark, to=channel, from_=client.fullJID)
        yield defer.gatherResults([
            receiver.waitForStanza(
                presenceFrom(proxies[sender]),
                "the presence of %s" % (sender.jid,))
            for receiver in clients for sender in clients],
            consumeErrors=True).addErrback(lambda f: f.value.subFailure)

    @defer.inlineCallbacks
    def channelLifecycle(self):
        """
        The steps of L{Scenarios.test_channelLifecycle}.
        """
        hag66, hecate = yield self.start()
        channel = self.channel()
        nodes = [NODE_MESSAGES, NODE_PARTICIPANTS]
        response = yield self.ok(hag66, createRequest(self.service, "coven"))
        self.assertEqual(
            "coven", child(response, NS_MIX, "create").getAttribute("channel"))

        yield self.join(hecate, channel, nodes)
        seen = len(hecate.received)
        hag66Proxy = yield self.join(hag66, channel, nodes)
        joined = yield hecate.waitForStanza(
            participantEvent(hag66Proxy), "the participants item of hag66",
            since=seen)
        item = eventItems(joined, NODE_PARTICIPANTS)[0]
        self.assertIsNone(child(child(item, NS_MIX, "participant"),
                                NS_MIX, "nick"))

        seen = len(hecate.received)
        response = yield self.ok(hag66, setnickRequest(channel, "thirdwitch"))
        setnick = child(response, NS_MIX, "setnick")
        self.assertEqual("thirdwitch", str(child(setnick, NS_MIX, "nick")))
        yield hecate.waitForStanza(
            participantEvent(hag66Proxy, withNick="thirdwitch"),
            "the participants item of hag66 with its nick", since=seen)

        mark = self.mix.mark()
        yield hag66.send(groupchat(channel, "m1", "When shall we three"))
        yield hag66.send(groupchat(channel, "m2", "meet again?"))
        # The service archives a message before it reflects it: once the
        # reflection of m2 is on the wire, both are in the archive.
        yield self.waitForWire(
            "the reflection of m2",
            r"SEND: .*<submission-id>m2</submission-id>", since=mark)
        results = yield hecate.mam(channel, pageSize=1)
        archived = []
        for result in results:
            mamResult = child(result, NS_MAM2, "result")
            forwarded = child(mamResult, NS_FORWARD, "forwarded")
            message = child(forwarded, NS_CLIENT, "message")
            archived.append(message)
            self.assertEqual(mamResult.getAttribute("id"),
                             message.getAttribute("id"))
        self.assertEqual(["When shall we three", "meet again?"],
                         [str(child(m, NS_CLIENT, "body")) for m in archived])
        for message in archived:
            self.assertEqual("groupchat", message.getAttribute("type"))
            self.assertEqual(channel, message.getAttribute("from"))
            self.assertFalse(message.hasAttribute("to"))
            self.assertEqual("thirdwitch", mixChild(message, "nick"))
            self.assertEqual(hag66Proxy, mixChild(message, "jid"))
            self.assertIsNone(mixChild(message, "submission-id"))

        seen = len(hecate.received)
        response = yield self.ok(hag66, leaveRequest(channel))
        self.assertIsNotNone(child(response, NS_MIX, "leave"))
        yield hecate.waitForStanza(
            participantEvent(hag66Proxy, retract=True),
            "the retraction of hag66's participants item", since=seen)

        yield self.ok(hag66, destroyRequest(self.service, "coven"))
        info = yield hecate.disco("info", channel, node="mix")
        self.assertEqual(("cancel", "item-not-found"), errorCondition(info))


class Scenarios:
    """
    The scenarios every server runs, mixed into an L{EndToEndCase}.

    L{checkUserServer} says what the user's server offers for MIX (a
    server-specific check, in the subclass).
    """

    def checkUserServer(self, response):
        """
        Check the disco#info of a user's own account (bare JID).
        """
        raise NotImplementedError()

    @scenario
    def test_discovery(self):
        """
        DISCO-8: the server lists the component in its disco#items.
        DISCO-1, DISCO-3, DISCO-4: the service's disco#info has identity
        conference/text and the MIX features (create-channel for a user
        who may create), not MAM.  CRE-1, DISCO-7: a created channel is
        listed by the service.  CHAN-1, CHAN-2, MAM-2: the channel's
        disco#info with C{node='mix'} has identity conference/mix and the
        MIX and MAM features.  All through slixmpp's XEP-0030 plugin.
        """
        hag66, = yield self.start(users=("hag66",))
        items = yield hag66.disco("items", self.server.domain)
        self.assertIn(self.service, itemJIDs(items))

        info = yield hag66.disco("info", self.service)
        self.assertIn(("conference", "text"), identities(info))
        self.assertTrue({NS_MIX, NS_MIX + "#create-channel"} <=
                        features(info), features(info))
        self.assertNotIn(NS_MAM2, features(info))

        yield self.ok(hag66, createRequest(self.service, "coven"))
        items = yield hag66.disco("items", self.service)
        self.assertEqual({self.channel()}, itemJIDs(items))

        info = yield hag66.disco("info", self.channel(), node="mix")
        self.assertEqual("mix", child(info, NS_DISCO_INFO,
                                      "query").getAttribute("node"))
        self.assertIn(("conference", "mix"), identities(info))
        self.assertTrue({NS_MIX, NS_MAM2} <= features(info), features(info))

        account = yield hag66.disco("info", hag66.jid)
        self.checkUserServer(account)

    @scenario
    def test_channelLifecycle(self):
        """
        One channel's life in IQs, all of which work through the server
        today.  CRE-1: hag66 creates it.  JOIN-2, JOIN-7: hecate and hag66
        join (straight to the channel), each gets its proxy JID and hecate
        is told of hag66 (a PubSub event without nick).  NICK-1, NICK-6:
        hag66's nick is set and the new item announced.  MSG-1, MSG-4,
        MAM-3, MAM-7: hag66's two messages are archived: hecate reads them
        with slixmpp's MAM iterator in RSM pages of one, in order, without
        C{to}, with hag66's nick and proxy JID and no submission-id.
        JOIN-18, JOIN-19, JOIN-23: hag66 leaves and hecate sees the
        retraction.  CRE-9, CRE-10: hag66 destroys the channel, which is
        then gone (CHAN-4: item-not-found).
        """
        yield self.channelLifecycle()

    @scenario
    def test_presence(self):
        """
        PRES-1, PRES-3, PRES-5: hag66 and hecate join subscribing to the
        presence node and their clients send presence to the channel (as a
        client does when its server has no MIX); hag66 receives hecate's
        presence, through its server, from hecate's full proxy JID with the
        MIX-PRESENCE nick, then hecate's unavailable presence from the same
        full proxy JID.
        """
        hag66, hecate = yield self.start()
        proxies = yield self.joinAndAppear(hag66, hecate)
        available = [s for s in hag66.received
                     if presenceFrom(proxies[hecate])(s)][0]
        self.assertNotEqual(proxies[hecate], available.getAttribute("from"))
        mix = child(available, NS_MIX_PRESENCE, "mix")
        self.assertEqual("hecate", str(child(mix, NS_MIX_PRESENCE, "nick")))

        seen = len(hag66.received)
        yield hecate.send(directedPresence(self.channel(), "unavailable"))
        gone = yield hag66.waitForStanza(
            presenceFrom(proxies[hecate], "unavailable"),
            "hecate's unavailable presence", since=seen)
        self.assertEqual(available.getAttribute("from"),
                         gone.getAttribute("from"))

    @scenario
    def test_messagesDelivered(self):
        """
        MSG-5, MSG-6 with delivery routing (default C{--delivery auto},
        doc/interop.md): with both clients online in the channel (as in
        L{test_presence}), hag66's groupchat message reaches hecate's
        client (from the channel, with the archive id, hag66's nick and
        proxy JID) and hag66's own client (with the submission-id),
        through their server.
        """
        hag66, hecate = yield self.start()
        proxies = yield self.joinAndAppear(hag66, hecate)
        channel = self.channel()
        mark = self.mix.mark()
        seen = (len(hag66.received), len(hecate.received))
        yield hag66.send(groupchat(channel, "m1", "Fair is foul"))
        theirs = yield self.delivered(
            hecate, reflectedBy(channel), "the channel's copy of m1",
            seen[1], mark)
        self.assertEqual("Fair is foul",
                         str(child(theirs, NS_CLIENT, "body")))
        self.assertEqual("hag66", mixChild(theirs, "nick"))
        self.assertEqual(proxies[hag66], mixChild(theirs, "jid"))
        self.assertIsNone(mixChild(theirs, "submission-id"))
        stanzaID = child(theirs, NS_SID, "stanza-id")
        self.assertEqual(theirs.getAttribute("id"),
                         stanzaID.getAttribute("id"))

        own = yield self.delivered(
            hag66, reflectedBy(channel), "the sender's copy of m1", seen[0],
            mark)
        self.assertEqual("m1", mixChild(own, "submission-id"))
        self.assertEqual(theirs.getAttribute("id"), own.getAttribute("id"))

    @scenario
    def test_mixedRevisions(self):
        """
        REV-2, REV-12, REV-3, MSG-5, MSG-6, PRES-5 with both protocol
        revisions in one channel: hag66 speaks C{urn:xmpp:mix:1} in raw
        XML, hecate MIX-CORE through slixmpp's XEP-0369 and XEP-0403
        plugins (C{join_channel} straight to the channel, REV-7).  Each
        gets the other's presence (hecate as slixmpp's C{mix_presence}
        event, from hag66's encoded JID with its nick) and the other's
        message in its own revision: hag66's reaches hecate as slixmpp's
        C{mix_message} event, from C{coven@…/<hag66's stable id>} with the
        nick and no JID (a jid-hidden channel), without the
        C{urn:xmpp:mix:1} C{<mix>}; hecate's reaches hag66 from the
        channel's bare JID with C{<mix xmlns='urn:xmpp:mix:1'>}, hecate's
        nick and proxy JID, without the MIX-CORE C{<mix>}.  Each
        originator's copy is in its own revision too: hag66's with the
        submission-id, hecate's as a C{mix_message} with its
        C{<origin-id>} and no submission-id.
        """
        hag66, hecate = yield self.start()
        channel = self.channel()
        nodes = [NODE_MESSAGES, NODE_PARTICIPANTS, NODE_PRESENCE]
        yield self.ok(hag66, createRequest(self.service, "coven"))
        hag66Proxy = yield self.join(hag66, channel, nodes)
        yield self.ok(hag66, setnickRequest(channel, "hag66"))
        hecateId = yield self.joinCore(hecate, channel, nodes, "hecate")
        hag66Id = hag66Proxy.split("#")[0]
        hecateProxy = proxyJID(hecateId, channel)
        yield self.appear({hag66: hag66Proxy, hecate: hecateProxy})

        presence = yield hecate.waitForMixEvent(
            "mix_presence", presenceOf(hag66Proxy), "hag66's presence")
        self.assertEqual("hag66", presence.nick)
        presence = [s for s in hag66.received
                    if presenceFrom(hecateProxy)(s)][0]
        self.assertEqual("hecate", mixChild(presence, "nick",
                                            NS_MIX_PRESENCE))

        seen = (len(hag66.received), len(hecate.mixEvents))
        yield hag66.send(groupchat(channel, "m1", "Fair is foul"))
        theirs = yield hecate.waitForMixEvent(
            "mix_message", sentBy(channel + "/" + hag66Id),
            "hag66's message m1", since=seen[1])
        self.assertEqual(("hag66", None), (theirs.nick, theirs.jid))
        self.assertEqual("Fair is foul",
                         str(child(theirs.stanza, NS_CLIENT, "body")))
        self.assertIsNone(child(theirs.stanza, NS_MIX, "mix"))
        own = yield hag66.waitForStanza(
            reflectedBy(channel), "the sender's copy of m1", since=seen[0])
        self.assertEqual("m1", mixChild(own, "submission-id"))
        self.assertIsNone(child(own, NS_MIX_CORE, "mix"))

        seen = (len(hag66.received), len(hecate.mixEvents))
        yield hecate.send(groupchat(channel, "m2", "and foul is fair",
                                    originID=True))
        theirs = yield hag66.waitForStanza(
            reflectedBy(channel), "hecate's message m2", since=seen[0])
        self.assertEqual("and foul is fair",
                         str(child(theirs, NS_CLIENT, "body")))
        self.assertEqual("hecate", mixChild(theirs, "nick"))
        self.assertEqual(hecateProxy, mixChild(theirs, "jid"))
        self.assertIsNone(child(theirs, NS_MIX_CORE, "mix"))
        own = yield hecate.waitForMixEvent(
            "mix_message", sentBy(channel + "/" + hecateId),
            "the sender's copy of m2", since=seen[1])
        self.assertEqual("hecate", own.nick)
        self.assertEqual("m2", child(own.stanza, NS_SID,
                                     "origin-id").getAttribute("id"))
        self.assertIsNone(mixChild(own.stanza, "submission-id",
                                   NS_MIX_CORE))
        self.assertIsNone(child(own.stanza, NS_MIX, "mix"))
        self.assertEqual(theirs.getAttribute("id"),
                         own.stanza.getAttribute("id"))

    @defer.inlineCallbacks
    def bareJIDBounce(self):
        """
        The steps of the servers' C{test_bareJIDBounced}: with C{--delivery
        bare} (XEP-0369 section 7's way), hag66's message goes to hecate's
        bare JID; wait for the server's answer on the wire and check that
        hecate's client got no copy.

        @return: a Deferred firing with the bounce (the wire log line).
        """
        self.mixArgs = ("--delivery", "bare")
        hag66, hecate = yield self.start()
        yield self.joinAndAppear(hag66, hecate)
        channel = self.channel()
        mark = self.mix.mark()
        seen = len(hecate.received)
        yield hag66.send(groupchat(channel, "m1", "Fair is foul"))
        try:
            yield self.delivered(hecate, reflectedBy(channel),
                                 "the channel's copy of m1", seen, mark)
        except InteropGap:
            pass
        else:
            self.fail("%s's server delivered a groupchat message sent to "
                      "its bare JID" % (hecate.jid,))
        line = self.mix.process.search(stanzaPattern(
            "RECV", "message", type_="error", from_=hecate.jid), mark)
        self.assertIsNotNone(line, "no bounce from %s" % (hecate.jid,))
        self.assertIn("<service-unavailable", line.group(0))
        self.assertEqual([], [s for s in hecate.received[seen:]
                              if reflectedBy(channel)(s)])
        return line.group(0)
