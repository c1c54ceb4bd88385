"""
slixmpp clients for the end-to-end tests, seen from trial.

L{Client} runs C{tests/e2e/slixclient.py} (a real slixmpp client logged in
to the test's server) as a child process and speaks its line protocol:
commands as JSON on its stdin, events as JSON on its stdout (see that
module).  Stanzas the client receives are parsed into domish elements and
kept in L{Client.received}; L{Client.waitForStanza} waits, with a bound, for
one matching a predicate.  slixmpp's own MIX events (C{mix_message},
C{mix_presence}) are kept as L{MixEvent}s in L{Client.mixEvents}, and
L{Client.waitForMixEvent} waits for them the same way.  The MIX plugins'
requests (XEP-0369, XEP-0405) are methods of L{Client} too.

Why a child process: slixmpp runs on asyncio, trial on Twisted's default
reactor.  Driving slixmpp in the trial process would need a second event
loop in a thread (two loops sharing objects across threads, and a stuck
client that cannot be killed) or trial on the asyncio reactor (every other
test of the suite would change reactor).  A child process keeps the two
apart, is as real a client as it gets, and is always stopped: it exits when
its stdin closes, and is killed in the test's cleanup if it does not.
"""

import importlib.util
import json
import os
import sys

from twisted.internet import defer

from twisted.words.xish import domish

from tests.e2e.processes import TIMEOUT, ChildProcess, bounded
from tests.helpers import NS_CLIENT

#: The client program.
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "slixclient.py")


def parse(xml):
    """
    Parse a stanza as slixmpp prints it: its root carries no C{xmlns}, so
    put it in C{jabber:client} (and its unqualified children with it).
    """
    head = xml[:xml.index(">")]
    tag = head.split()[0] if " " in head else head.rstrip("/")
    if " xmlns=" not in head:
        xml = "%s xmlns='%s'%s" % (tag, NS_CLIENT, xml[len(tag):])
    elements = []
    stream = domish.elementStream()
    stream.DocumentStartEvent = elements.append
    stream.ElementEvent = lambda e: elements[0].addChild(e)
    stream.DocumentEndEvent = lambda: None
    stream.parse(xml)
    return elements[0]


def skipReason():
    """
    @return: why the clients cannot run here, or C{None}.
    """
    if importlib.util.find_spec("slixmpp") is None:
        return ("slixmpp is not installed in this Python (pip install "
                "'.[test]' or pip install slixmpp)")
    return None


class ClientError(Exception):
    """
    The client could not do what it was asked (it timed out waiting for
    the server, or slixmpp raised).
    """


class IqErrorResponse(ClientError):
    """
    A slixmpp plugin's request got an error response.

    @ivar response: the error response (domish).
    """

    def __init__(self, jid, op, response):
        ClientError.__init__(self, "%s: %s got %s" % (
            jid, op, response.toXml()))
        self.response = response


class MixEvent:
    """
    One of slixmpp's MIX events, as the client reported it.

    @ivar kind: C{"mix_message"} (XEP-0369) or C{"mix_presence"}
        (XEP-0403).
    @ivar stanza: the stanza it fired for (domish).
    @ivar sender: C{stanza['from']} as slixmpp read it.
    @ivar nick: C{stanza['mix']['nick']}, or C{None}.
    @ivar jid: C{stanza['mix']['jid']}, or C{None}.
    """

    def __init__(self, event):
        self.kind = event["event"]
        self.stanza = parse(event["xml"])
        self.sender = event["from"]
        self.nick = event["nick"]
        self.jid = event["jid"]

    def toXml(self):
        """
        What the test reports of it when a wait fails.
        """
        return "%s (from %s, nick %r, jid %r): %s" % (
            self.kind, self.sender, self.nick, self.jid,
            self.stanza.toXml())


class Client(ChildProcess):
    """
    One slixmpp client process logged in as C{user@server.domain}.

    @ivar jid: the bare JID.
    @ivar fullJID: the full JID the server bound, once online.
    @ivar received: the messages and presences received so far (domish).
    @ivar mixEvents: slixmpp's MIX events so far (L{MixEvent}).
    """

    def __init__(self, user, password, server, workdir):
        self.jid = "%s@%s" % (user, server.domain)
        self.fullJID = None
        self.received = []
        self.mixEvents = []
        self.events = []
        env = dict(os.environ)
        env.update({
            "E2E_JID": self.jid,
            "E2E_PASSWORD": password,
            "E2E_HOST": "127.0.0.1",
            "E2E_PORT": str(server.c2sPort),
            "PYTHONUNBUFFERED": "1",
        })
        workdir = os.path.abspath(workdir)
        os.makedirs(workdir, exist_ok=True)
        ChildProcess.__init__(
            self, "client " + self.jid, [sys.executable, SCRIPT], env,
            workdir, os.path.join(workdir, "client-%s.out" % (user,)))
        self._online = defer.Deferred()
        self._replies = {}
        self._waiters = []
        self._next = 0

    def connect(self, timeout=TIMEOUT):
        """
        Start the client and wait until it is logged in and has sent its
        initial presence.

        @return: a Deferred firing with the bound full JID.
        """
        self.start()
        return bounded(self._online, timeout, "login of %s" % (self.jid,))

    # The line protocol.

    def lineReceived(self, fd, line):
        if fd != 1 or not line.startswith("{"):
            return
        try:
            event = json.loads(line)
        except ValueError:
            return
        self.events.append(event)
        kind = event.get("event")
        if kind == "online":
            self.fullJID = event["jid"]
            if not self._online.called:
                self._online.callback(self.fullJID)
        elif kind == "offline":
            if not self._online.called:
                self._online.errback(ClientError(
                    "%s could not log in: %s\n%s" % (
                        self.jid, event.get("reason"), self.describe())))
        elif kind == "stanza":
            self._arrived(self.received, parse(event["xml"]))
        elif kind in ("mix_message", "mix_presence"):
            self._arrived(self.mixEvents, MixEvent(event))
        elif kind == "reply":
            d = self._replies.pop(event.get("n"), None)
            if d is not None:
                if event.get("ok"):
                    d.callback(event)
                else:
                    d.errback(ClientError("%s: %s" % (
                        self.jid, event.get("error"))))

    def processEnded(self, reason):
        pending = list(self._replies.values())
        self._replies = {}
        waiters, self._waiters = self._waiters, []
        ChildProcess.processEnded(self, reason)
        problem = "%s ended (%s)\n%s" % (
            self.name, reason.getErrorMessage(), self.describe())
        if not self._online.called:
            self._online.errback(ClientError(problem))
        for d in pending:
            d.errback(ClientError(problem))
        for _, predicate, d, description in waiters:
            d.errback(AssertionError("%s before %s" % (problem, description)))

    def request(self, op, timeout=TIMEOUT, **fields):
        """
        Send one command.  The client gives up on the server after
        C{timeout} seconds; we wait a little longer for its answer.

        @return: a Deferred firing with the reply (a dict), failing with
            L{ClientError} if the client reports a failure.
        """
        if not self.running:
            return defer.fail(ClientError("%s is not running\n%s" % (
                self.name, self.describe())))
        self._next += 1
        n = self._next
        command = dict(fields, n=n, op=op, timeout=timeout)
        d = defer.Deferred(lambda d: self._replies.pop(n, None))
        self._replies[n] = d
        self.transport.write((json.dumps(command) + "\n").encode("utf-8"))
        return bounded(d, timeout + 5, "answer of %s to %r" % (
            self.jid, op))

    # Commands.

    @defer.inlineCallbacks
    def iq(self, xml, timeout=TIMEOUT):
        """
        Send an IQ (XML text in C{jabber:client}).

        @return: a Deferred firing with the response (domish), which may be
            an error response.
        """
        reply = yield self.request("iq", xml=xml, timeout=timeout)
        return parse(reply["xml"])

    def send(self, xml):
        """
        Send a stanza (XML text in C{jabber:client}) as it is.
        """
        return self.request("send", xml=xml)

    @defer.inlineCallbacks
    def disco(self, kind, jid, node=None):
        """
        Ask C{jid} for disco C{kind} (C{"info"} or C{"items"}) with
        slixmpp's XEP-0030 plugin.

        @return: a Deferred firing with the response (domish).
        """
        reply = yield self.request("disco_" + kind, jid=jid, node=node)
        return parse(reply["xml"])

    @defer.inlineCallbacks
    def mam(self, jid, pageSize):
        """
        Read the whole archive of C{jid} with slixmpp's XEP-0313 iterator,
        in RSM pages of C{pageSize}.

        @return: a Deferred firing with the result messages (domish).
        """
        reply = yield self.request("mam", jid=jid, max=pageSize)
        return [parse(xml) for xml in reply["messages"]]

    def pamJoin(self, channel, nick, nodes, timeout=TIMEOUT):
        """
        Join C{channel} through the user's server with slixmpp's XEP-0405
        plugin (C{urn:xmpp:mix:pam:2} C{client-join}).

        @return: a Deferred firing with the reply: C{{"failed": [nodes]}}
            on success, C{{"xml": error response}} on an error response.
        """
        return self.request("pam_join", jid=channel, nick=nick,
                            nodes=list(nodes), timeout=timeout)

    # MIX plugins (slixmpp's XEP-0369 and XEP-0405).

    @defer.inlineCallbacks
    def mixRequest(self, op, channel, timeout=TIMEOUT, **fields):
        """
        One MIX plugin call (see C{slixclient.py} for the C{op}s) about
        C{channel} (or the service).

        @return: a Deferred firing with the reply (a dict), failing with
            L{IqErrorResponse} when the request got an error response.
        """
        reply = yield self.request(op, jid=channel, timeout=timeout,
                                   **fields)
        if "error" in reply:
            raise IqErrorResponse(self.jid, op, parse(reply["error"]))
        return reply

    def canCreateChannel(self, service):
        """
        XEP-0369 C{can_create_channel}: does the service's disco#info
        offer C{urn:xmpp:mix:core:1#create-channel}?

        @return: a Deferred firing with slixmpp's answer (a bool).
        """
        return self.mixRequest("can_create_channel", service).addCallback(
            lambda reply: reply["value"])

    def createChannel(self, service, name):
        """
        XEP-0369 C{create_channel} of the channel C{name}.

        @return: a Deferred firing with the name the service answered.
        """
        return self.mixRequest("create_channel", service,
                               name=name).addCallback(
                                   lambda reply: reply["channel"])

    def joinChannel(self, channel, nick, nodes):
        """
        XEP-0369 C{join_channel} straight to C{channel}, with C{nick} and
        subscribing to C{nodes}.

        @return: a Deferred firing with the result IQ (domish).
        """
        return self.mixRequest("join_channel", channel, nick=nick,
                               nodes=list(nodes)).addCallback(
                                   lambda reply: parse(reply["xml"]))

    def setNick(self, channel, nick):
        """
        XEP-0369 C{set_nick}.

        @return: a Deferred firing with the nick slixmpp read from the
            result.
        """
        return self.mixRequest("set_nick", channel, nick=nick).addCallback(
            lambda reply: reply["nick"])

    def updateSubscription(self, channel, subscribe=(), unsubscribe=()):
        """
        XEP-0369 C{update_subscription}.

        @return: a Deferred firing with slixmpp's answer: the nodes it
            thinks were not subscribed and not unsubscribed (two lists).
        """
        return self.mixRequest(
            "update_subscription", channel, subscribe=list(subscribe),
            unsubscribe=list(unsubscribe)).addCallback(
                lambda reply: (reply["failed_subscribe"],
                               reply["failed_unsubscribe"]))

    def listParticipants(self, channel):
        """
        XEP-0369 C{list_participants}.

        @return: a Deferred firing with slixmpp's answer: a sorted list of
            C{(id, nick, jid or None)}.
        """
        return self.mixRequest("list_participants", channel).addCallback(
            lambda reply: sorted(tuple(p) for p in reply["participants"]))

    def pamLeave(self, channel, timeout=TIMEOUT):
        """
        XEP-0405 C{leave_channel}: leave C{channel} through the user's
        server (C{urn:xmpp:mix:pam:2} C{client-leave}).

        @return: a Deferred firing with the result IQ (domish).
        """
        return self.mixRequest("pam_leave", channel,
                               timeout=timeout).addCallback(
                                   lambda reply: parse(reply["xml"]))

    # Received stanzas and events.

    def _arrived(self, log, entry):
        log.append(entry)
        for waiter in list(self._waiters):
            waitedLog, predicate, d, description = waiter
            if waitedLog is log and predicate(entry):
                self._waiters.remove(waiter)
                d.callback(entry)

    def waitForStanza(self, predicate, description, since=0,
                      timeout=TIMEOUT):
        """
        Wait for a received message or presence for which C{predicate} is
        true, among those from index C{since} of L{received} on.

        @return: a Deferred firing with it; failing after C{timeout}
            seconds with an C{AssertionError} listing what was received.
        """
        return self._waitFor(self.received, predicate, description, since,
                             timeout)

    def waitForMixEvent(self, kind, predicate, description, since=0,
                        timeout=TIMEOUT):
        """
        Wait for a slixmpp MIX event C{kind} (C{"mix_message"},
        C{"mix_presence"}) for which C{predicate} (given the L{MixEvent})
        is true, among those from index C{since} of L{mixEvents} on.

        @return: a Deferred firing with the L{MixEvent}; failing after
            C{timeout} seconds with an C{AssertionError} listing the events
            so far.
        """
        return self._waitFor(
            self.mixEvents, lambda e: e.kind == kind and predicate(e),
            "%s: %s" % (kind, description), since, timeout)

    def _waitFor(self, log, predicate, description, since, timeout):
        for entry in log[since:]:
            if predicate(entry):
                return defer.succeed(entry)
        if not self.running:
            return defer.fail(AssertionError("%s is not running\n%s" % (
                self.name, self.describe())))
        d = defer.Deferred(lambda d: self._forget(d))
        self._waiters.append((log, predicate, d, description))

        def timedOut(failure):
            failure.trap(AssertionError)
            raise AssertionError("%s; %s received:\n%s" % (
                failure.getErrorMessage(), self.jid,
                "\n".join(e.toXml() for e in log[since:]) or "(nothing)"))

        return bounded(d, timeout, "%s at %s" % (description, self.jid)
                       ).addErrback(timedOut)

    def _forget(self, d):
        self._waiters = [w for w in self._waiters if w[2] is not d]

    @defer.inlineCallbacks
    def stop(self, grace=5):
        """
        Disconnect (briefly waiting for the client to say goodbye), close
        its stdin, and make sure the process ends.  Never fails.
        """
        if self.running:
            try:
                yield self.request("disconnect", timeout=3)
            except Exception:
                pass
        if self.running:
            try:
                self.transport.closeStdin()
            except Exception:
                pass
        yield ChildProcess.stop(self, grace)
