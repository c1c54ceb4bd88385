"""
Process-level tests: the real C{twistd -n mix} against a fake XMPP server.

Each test listens on a free loopback port with a few lines of Twisted that
play the XMPP server's side of XEP-0114 (accept the component's stream,
check its C{<handshake>}), starts C{twistd -n mix} (L{TWISTD}) as a child
process pointed at that port, and then talks to it the way a user's server
would: it sends stanzas "from" users and collects what the component sends.

This checks what unit tests cannot: that the plugin is found by twistd, that
the options reach the component, that the XEP-0114 handshake is right, that
stanzas survive real serialisation in both directions, and that the
component reconnects after the server drops it.

Every wait is bounded (L{TIMEOUT}); the child process is always killed in a
cleanup, and its log is shown when a test fails.
"""

import hashlib
import os
import sys
import uuid

from twisted.internet import defer, error, protocol, reactor
from twisted.internet.utils import getProcessOutputAndValue
from twisted.trial import unittest
from twisted.words.xish import domish

from tests.helpers import (
    NODE_MESSAGES, NODE_PARTICIPANTS, NS_COMPONENT, NS_DISCO_INFO,
    NS_FORWARD, NS_MAM2, NS_MIX)

#: Longest wait for any single event from the child process, in seconds.
TIMEOUT = 20

DOMAIN = "mix.localhost"
SECRET = "coven-secret"

NS_STREAMS = "http://etherx.jabber.org/streams"

HAG_BARE = "hag66@shakespeare.example"
HAG_FULL = HAG_BARE + "/UUID-a1j/7533"
CHANNEL = "coven@" + DOMAIN

#: How to run twistd with the Python running the tests.  (C{python -m
#: twisted} is C{twist}, the other runner, which has no C{-n}; and the
#: C{twistd} script may not be on C{PATH}.)
TWISTD = [
    sys.executable, "-c",
    "import sys; sys.argv[0] = 'twistd'; "
    "from twisted.scripts.twistd import run; run()",
]

#: The source tree holding C{mixtwisted} and C{twisted/plugins/mix_plugin.py}.
SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def handshakeDigest(streamID, secret):
    """
    The XEP-0114 handshake value: hex SHA-1 of stream id + secret.
    """
    return hashlib.sha1((streamID + secret).encode("utf-8")).hexdigest()


def childElements(element, name, uri=None):
    """
    The child elements of C{element} called C{name} (in C{uri} if given).
    """
    return [
        child for child in element.elements()
        if child.name == name and (uri is None or child.uri == uri)
    ]


def firstChild(element, name, uri=None):
    """
    The first child element called C{name} (in C{uri}), or C{None}.
    """
    children = childElements(element, name, uri)
    return children[0] if children else None


def childText(element, name, uri=None):
    """
    The text of the first child called C{name}, or C{None} if absent.
    """
    child = firstChild(element, name, uri)
    return None if child is None else str(child)


class ComponentServerProtocol(protocol.Protocol):
    """
    The XMPP server's end of one XEP-0114 component connection.

    It answers the component's stream header, checks its handshake against
    the factory's secret, and then queues every stanza received so that the
    test can wait for one with L{waitFor}.
    """

    def connectionMade(self):
        self.streamID = uuid.uuid4().hex
        self.authenticated = False
        self.header = None
        self.received = []
        self.waiters = []
        self.lost = defer.Deferred()
        self.stream = domish.elementStream()
        self.stream.DocumentStartEvent = self.onDocumentStart
        self.stream.ElementEvent = self.onElement
        self.stream.DocumentEndEvent = self.onDocumentEnd
        self.factory.connections.append(self)

    def dataReceived(self, data):
        try:
            self.stream.parse(data)
        except Exception as e:
            self.factory.problems.append("XML parse error: %r" % (e,))
            self.transport.loseConnection()

    def send(self, xml):
        """
        Send raw XML text to the component.
        """
        self.transport.write(xml.encode("utf-8"))

    def onDocumentStart(self, root):
        self.header = root
        if (root.name, root.uri) != ("stream", NS_STREAMS):
            self.factory.problems.append("bad stream root %r" % (root.toXml(),))
        if root.defaultUri != NS_COMPONENT:
            self.factory.problems.append(
                "stream default namespace %r" % (root.defaultUri,))
        if root.getAttribute("to") != self.factory.domain:
            self.factory.problems.append(
                "stream to=%r, expected %r" % (root.getAttribute("to"),
                                               self.factory.domain))
        self.send(
            "<?xml version='1.0'?>"
            "<stream:stream xmlns='%s' xmlns:stream='%s' from='%s' id='%s'>"
            % (NS_COMPONENT, NS_STREAMS, self.factory.domain, self.streamID)
        )

    def onElement(self, element):
        if not self.authenticated:
            if element.name != "handshake":
                self.factory.problems.append(
                    "stanza before handshake: %r" % (element.toXml(),))
                return
            expected = handshakeDigest(self.streamID, self.factory.secret)
            if str(element).strip().lower() != expected:
                self.factory.problems.append("wrong handshake digest")
                self.send(
                    "<stream:error><not-authorized "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                    "</stream:error></stream:stream>"
                )
                self.transport.loseConnection()
                return
            self.authenticated = True
            self.send("<handshake/>")
            self.factory.handshakeDone(self)
            return
        self.received.append(element)
        for waiter in list(self.waiters):
            predicate, d = waiter
            if predicate(element):
                self.waiters.remove(waiter)
                element.consumed = True
                d.callback(element)
                return

    def onDocumentEnd(self):
        self.transport.loseConnection()

    def connectionLost(self, reason):
        if self in self.factory.connections:
            self.factory.connections.remove(self)
        for predicate, d in self.waiters:
            d.errback(AssertionError(
                "connection to the component lost while waiting: %s"
                % (reason.getErrorMessage(),)))
        self.waiters = []
        self.lost.callback(None)

    def waitFor(self, predicate, description, timeout=TIMEOUT):
        """
        A Deferred firing with the first not yet consumed stanza for which
        C{predicate} is true, failing after C{timeout} seconds.
        """
        for element in self.received:
            if not getattr(element, "consumed", False) and predicate(element):
                element.consumed = True
                return defer.succeed(element)
        d = defer.Deferred()
        waiter = (predicate, d)
        self.waiters.append(waiter)

        def expire():
            if waiter in self.waiters:
                self.waiters.remove(waiter)
                d.errback(AssertionError(
                    "no %s within %d s; stanzas received: %s\n%s"
                    % (description, timeout,
                       [e.toXml() for e in self.received],
                       self.factory.describe())))

        call = reactor.callLater(timeout, expire)

        def cancelTimer(result):
            if call.active():
                call.cancel()
            return result

        return d.addBoth(cancelTimer)

    def waitForResponse(self, stanzaID, name="iq"):
        """
        Wait for the C{name} stanza answering the one with id C{stanzaID}.
        """
        return self.waitFor(
            lambda e: e.name == name and e.getAttribute("id") == stanzaID,
            "%s with id %r" % (name, stanzaID),
        )


class ComponentServerFactory(protocol.ServerFactory):
    """
    Accepts component connections and reports each successful handshake.
    """

    protocol = ComponentServerProtocol

    def __init__(self, domain, secret, describe):
        self.domain = domain
        self.secret = secret
        self.describe = describe
        self.connections = []
        self.handshakes = []
        self.problems = []
        self._handshakeWaiters = []

    def handshakeDone(self, proto):
        self.handshakes.append(proto)
        waiters, self._handshakeWaiters = self._handshakeWaiters, []
        for count, d in waiters:
            if len(self.handshakes) >= count:
                d.callback(proto)
            else:
                self._handshakeWaiters.append((count, d))

    def waitForHandshake(self, count, timeout=TIMEOUT):
        """
        A Deferred firing with the protocol of the C{count}th authenticated
        connection, failing after C{timeout} seconds.
        """
        if len(self.handshakes) >= count:
            return defer.succeed(self.handshakes[count - 1])
        d = defer.Deferred()
        entry = (count, d)
        self._handshakeWaiters.append(entry)

        def expire():
            if entry in self._handshakeWaiters:
                self._handshakeWaiters.remove(entry)
                d.errback(AssertionError(
                    "component did not complete handshake #%d within %d s; "
                    "problems seen: %s\n%s"
                    % (count, timeout, self.problems, self.describe())))

        call = reactor.callLater(timeout, expire)

        def cancelTimer(result):
            if call.active():
                call.cancel()
            return result

        return d.addBoth(cancelTimer)

    def failWaiters(self, reason):
        """
        Fail every pending wait at once (the child process has died).
        """
        waiters, self._handshakeWaiters = self._handshakeWaiters, []
        for count, d in waiters:
            d.errback(AssertionError(reason))
        for proto in list(self.connections):
            pending, proto.waiters = proto.waiters, []
            for predicate, d in pending:
                d.errback(AssertionError(reason))


class ChildProcessProtocol(protocol.ProcessProtocol):
    """
    Collects the output of the twistd child and notices when it ends.
    """

    def __init__(self, onExit):
        self.output = []
        self.ended = defer.Deferred()
        self.running = True
        self.onExit = onExit
        self.status = None

    def outReceived(self, data):
        self.output.append(data)

    errReceived = outReceived

    def processEnded(self, reason):
        self.running = False
        self.status = reason.value
        self.onExit(reason)
        self.ended.callback(None)


def childEnvironment(**extra):
    """
    The child's environment: ours, with the source tree first on the path
    so that the C{mix} plugin and C{mixtwisted} under test are the ones
    found, and without a C{MIX_SECRET} unless given in C{extra}.
    """
    env = dict(os.environ)
    env.pop("MIX_SECRET", None)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = SOURCE_ROOT + (os.pathsep + path if path else "")
    env.update(extra)
    return env


class TwistdMixTests(unittest.TestCase):
    """
    Run C{twistd -n mix} against L{ComponentServerFactory}.
    """

    timeout = 120

    def setUp(self):
        self.workdir = os.path.abspath(self.mktemp())
        os.makedirs(self.workdir)
        self.logfile = os.path.join(self.workdir, "twistd.log")
        self.child = None
        self.server = ComponentServerFactory(DOMAIN, SECRET, self.describe)
        self.port = reactor.listenTCP(0, self.server, interface="127.0.0.1")
        self.addCleanup(self.shutDown)

    def describe(self):
        """
        The child's output and log, for failure messages.
        """
        parts = []
        if self.child is not None:
            parts.append("child running: %s, status: %s"
                         % (self.child.running, self.child.status))
            output = b"".join(self.child.output).decode("utf-8", "replace")
            parts.append("--- child stdout/stderr ---\n" + output)
        try:
            with open(self.logfile, encoding="utf-8", errors="replace") as f:
                log = f.read()
        except OSError:
            log = "(no log file)"
        parts.append("--- twistd log (last 6000 chars) ---\n" + log[-6000:])
        return "\n".join(parts)

    def startMix(self, *extraArgs):
        """
        Start C{twistd -n mix} pointed at our fake server.
        """
        args = TWISTD + [
            "-n", "--pidfile=",
            "--logfile=" + self.logfile,
            "mix", "--jid", DOMAIN,
            "--rhost", "127.0.0.1",
            "--rport", str(self.port.getHost().port),
            "--verbose",
        ] + list(extraArgs)

        def onExit(reason):
            self.server.failWaiters(
                "twistd mix exited early (%s)\n%s"
                % (reason.getErrorMessage(), self.describe()))

        child = ChildProcessProtocol(onExit)
        try:
            self.childTransport = reactor.spawnProcess(
                child, sys.executable, args,
                env=childEnvironment(MIX_SECRET=SECRET), path=self.workdir)
        except OSError as e:
            raise unittest.SkipTest("cannot spawn twistd: %s" % (e,))
        self.child = child
        return child

    @defer.inlineCallbacks
    def shutDown(self):
        """
        Kill the child (TERM, then KILL), close every connection, stop
        listening: the reactor is left clean whatever the test did.
        """
        child = self.child
        if child is not None and child.running:
            for sig in ("TERM", "KILL"):
                try:
                    self.childTransport.signalProcess(sig)
                except error.ProcessExitedAlready:
                    break
                yield self.waitOrTimeout(child.ended, 10)
                if not child.running:
                    break
        for proto in list(self.server.connections):
            proto.transport.abortConnection()
            yield self.waitOrTimeout(proto.lost, 10)
        yield self.port.stopListening()

    def waitOrTimeout(self, d, seconds):
        """
        Wait for C{d} but at most C{seconds}; never fails.
        """
        done = defer.Deferred()
        call = reactor.callLater(seconds, lambda: done.callback(None)
                                 if not done.called else None)

        def fired(_):
            if call.active():
                call.cancel()
            if not done.called:
                done.callback(None)

        d.addBoth(lambda r: (fired(r), r)[1])
        return done

    def assertNoProblems(self):
        self.assertEqual(self.server.problems, [], self.describe())

    # -- tests --------------------------------------------------------------

    @defer.inlineCallbacks
    def test_handshakeAndDisco(self):
        """
        The component authenticates with sha1(stream id + secret) and its
        service answers disco#info with the MIX identity and feature
        (DISCO-1).
        """
        self.startMix()
        conn = yield self.server.waitForHandshake(1)
        self.assertNoProblems()
        conn.send(
            "<iq type='get' id='disco1' from='%s' to='%s'>"
            "<query xmlns='%s'/></iq>" % (HAG_FULL, DOMAIN, NS_DISCO_INFO)
        )
        iq = yield conn.waitForResponse("disco1")
        self.assertEqual(iq.getAttribute("type"), "result", iq.toXml())
        self.assertEqual(iq.getAttribute("from"), DOMAIN)
        self.assertEqual(iq.getAttribute("to"), HAG_FULL)
        query = firstChild(iq, "query", NS_DISCO_INFO)
        self.assertIsNotNone(query, iq.toXml())
        identities = [
            (i.getAttribute("category"), i.getAttribute("type"))
            for i in childElements(query, "identity")
        ]
        self.assertIn(("conference", "text"), identities)
        features = [f.getAttribute("var") for f in childElements(query, "feature")]
        self.assertIn(NS_MIX, features)

    @defer.inlineCallbacks
    def test_channelFlow(self):
        """
        Create a channel, join it, set a nick, send a message and find it in
        the channel's archive: the main path of a MIX service, over a real
        component connection.
        """
        self.startMix()
        conn = yield self.server.waitForHandshake(1)
        self.assertNoProblems()

        # Create (CRE): from the user's full JID to the service.
        conn.send(
            "<iq type='set' id='create1' from='%s' to='%s'>"
            "<create channel='coven' xmlns='%s'/></iq>"
            % (HAG_FULL, DOMAIN, NS_MIX)
        )
        iq = yield conn.waitForResponse("create1")
        self.assertEqual(iq.getAttribute("type"), "result", iq.toXml())
        create = firstChild(iq, "create", NS_MIX)
        self.assertIsNotNone(create, iq.toXml())
        self.assertEqual(create.getAttribute("channel"), "coven")

        # Join (JOIN-1, JOIN-2): relayed from the bare JID.
        conn.send(
            "<iq type='set' id='join1' from='%s' to='%s'>"
            "<join xmlns='%s'><subscribe node='%s'/><subscribe node='%s'/>"
            "</join></iq>"
            % (HAG_BARE, CHANNEL, NS_MIX, NODE_MESSAGES, NODE_PARTICIPANTS)
        )
        iq = yield conn.waitForResponse("join1")
        self.assertEqual(iq.getAttribute("type"), "result", iq.toXml())
        self.assertEqual(iq.getAttribute("from"), CHANNEL)
        self.assertEqual(iq.getAttribute("to"), HAG_BARE)
        join = firstChild(iq, "join", NS_MIX)
        self.assertIsNotNone(join, iq.toXml())
        proxy = join.getAttribute("jid")
        self.assertIsNotNone(proxy, iq.toXml())
        self.assertTrue(proxy.endswith("#" + CHANNEL), proxy)
        identifier = proxy[:-len("#" + CHANNEL)]
        self.assertTrue(identifier, proxy)
        for forbidden in "#/@":
            self.assertNotIn(forbidden, identifier)
        self.assertNotIn("hag66", identifier)
        subscribed = {s.getAttribute("node")
                      for s in childElements(join, "subscribe")}
        self.assertEqual(subscribed, {NODE_MESSAGES, NODE_PARTICIPANTS})

        # Set nick (NICK): directly from the full JID.
        conn.send(
            "<iq type='set' id='nick1' from='%s' to='%s'>"
            "<setnick xmlns='%s'><nick>thirdwitch</nick></setnick></iq>"
            % (HAG_FULL, CHANNEL, NS_MIX)
        )
        iq = yield conn.waitForResponse("nick1")
        self.assertEqual(iq.getAttribute("type"), "result", iq.toXml())
        setnick = firstChild(iq, "setnick", NS_MIX)
        self.assertIsNotNone(setnick, iq.toXml())
        self.assertEqual(childText(setnick, "nick"), "thirdwitch")

        # Message (MSG-1, MSG-3, MSG-5, MSG-6).
        body = "Harpier cries: 'tis time, 'tis time."
        conn.send(
            "<message type='groupchat' id='m1' from='%s' to='%s'>"
            "<body>Harpier cries: &apos;tis time, &apos;tis time.</body>"
            "</message>" % (HAG_FULL, CHANNEL)
        )
        message = yield conn.waitFor(
            lambda e: (e.name == "message"
                       and e.getAttribute("type") == "groupchat"
                       and e.getAttribute("to") == HAG_BARE),
            "groupchat message to %s" % (HAG_BARE,),
        )
        self.assertEqual(message.getAttribute("from"), CHANNEL)
        self.assertEqual(childText(message, "body"), body)
        mix = firstChild(message, "mix", NS_MIX)
        self.assertIsNotNone(mix, message.toXml())
        self.assertEqual(childText(mix, "nick"), "thirdwitch")
        self.assertEqual(childText(mix, "jid"), proxy)
        self.assertEqual(childText(mix, "submission-id"), "m1")
        archiveID = message.getAttribute("id")
        self.assertTrue(archiveID, message.toXml())
        self.assertNotEqual(archiveID, "m1", "id must be the archive id")

        # Archive (MAM-3, MAM-7).
        conn.send(
            "<iq type='set' id='q1' from='%s' to='%s'>"
            "<query xmlns='%s' queryid='f1'/></iq>"
            % (HAG_FULL, CHANNEL, NS_MAM2)
        )
        fin = yield conn.waitForResponse("q1")
        self.assertEqual(fin.getAttribute("type"), "result", fin.toXml())
        finElement = firstChild(fin, "fin", NS_MAM2)
        self.assertIsNotNone(finElement, fin.toXml())
        self.assertEqual(finElement.getAttribute("complete"), "true")

        results = [
            e for e in conn.received
            if e.name == "message" and firstChild(e, "result", NS_MAM2)
        ]
        self.assertEqual(len(results), 1, [e.toXml() for e in results])
        resultMessage = results[0]
        self.assertLess(conn.received.index(resultMessage),
                        conn.received.index(fin),
                        "MAM results must come before the <fin/>")
        self.assertEqual(resultMessage.getAttribute("to"), HAG_FULL)
        self.assertEqual(resultMessage.getAttribute("from"), CHANNEL)
        result = firstChild(resultMessage, "result", NS_MAM2)
        self.assertEqual(result.getAttribute("queryid"), "f1")
        self.assertEqual(result.getAttribute("id"), archiveID)
        forwarded = firstChild(result, "forwarded", NS_FORWARD)
        self.assertIsNotNone(forwarded, resultMessage.toXml())
        archived = firstChild(forwarded, "message")
        self.assertIsNotNone(archived, resultMessage.toXml())
        self.assertEqual(childText(archived, "body"), body)
        self.assertIsNone(archived.getAttribute("to"))
        archivedMix = firstChild(archived, "mix", NS_MIX)
        self.assertIsNotNone(archivedMix, resultMessage.toXml())
        self.assertEqual(childText(archivedMix, "jid"), proxy)
        self.assertIsNone(firstChild(archivedMix, "submission-id"))
        self.assertNoProblems()

    @defer.inlineCallbacks
    def test_reconnect(self):
        """
        When the server drops the connection, the component connects and
        authenticates again by itself, and serves on the new connection.
        """
        self.startMix()
        first = yield self.server.waitForHandshake(1)
        first.transport.loseConnection()
        yield first.lost
        second = yield self.server.waitForHandshake(2)
        self.assertIsNot(first, second)
        self.assertNoProblems()
        second.send(
            "<iq type='get' id='disco2' from='%s' to='%s'>"
            "<query xmlns='%s'/></iq>" % (HAG_FULL, DOMAIN, NS_DISCO_INFO)
        )
        iq = yield second.waitForResponse("disco2")
        self.assertEqual(iq.getAttribute("type"), "result", iq.toXml())


class TwistdMixUsageTests(unittest.TestCase):
    """
    Operator mistakes end twistd with a message, not a traceback.
    """

    timeout = 60

    @defer.inlineCallbacks
    def runMix(self, args, env):
        """
        Run C{twistd -n mix ARGS} to its end in a directory of its own.

        @return: C{(stdout, stderr, exit code, twistd's log)}.
        """
        workdir = os.path.abspath(self.mktemp())
        os.makedirs(workdir)
        logfile = os.path.join(workdir, "twistd.log")
        out, err, code = yield getProcessOutputAndValue(
            TWISTD[0],
            TWISTD[1:] + ["-n", "--pidfile=", "--logfile=" + logfile,
                          "mix"] + args,
            env=env, path=workdir)
        logged = ""
        if os.path.exists(logfile):
            with open(logfile, encoding="utf-8", errors="replace") as f:
                logged = f.read()
        defer.returnValue((out.decode("utf-8", "replace"),
                           err.decode("utf-8", "replace"), code, logged))

    @defer.inlineCallbacks
    def test_missingSecret(self):
        out, err, code, _ = yield self.runMix(["--jid", DOMAIN],
                                              childEnvironment())
        self.assertNotEqual(code, 0)
        self.assertIn("MIX_SECRET", out + err)
        self.assertNotIn("Traceback", out + err)

    @defer.inlineCallbacks
    def test_badPort(self):
        out, err, code, _ = yield self.runMix(
            ["--jid", DOMAIN, "--rport", "99999"],
            childEnvironment(MIX_SECRET=SECRET))
        self.assertNotEqual(code, 0)
        self.assertIn("rport", out + err)
        self.assertNotIn("Traceback", out + err)

    @defer.inlineCallbacks
    def test_unreachableDatabase(self):
        """
        With a PostgreSQL server that cannot be reached, twistd logs one
        line saying so and stops, without a traceback and without
        connecting to the XMPP server.
        """
        out, err, code, logged = yield self.runMix(
            ["--jid", DOMAIN, "--backend", "pgsql", "--dsn",
             "host=127.0.0.1 port=1 dbname=mix"],
            childEnvironment(MIX_SECRET=SECRET))
        self.assertIn("start-up failed (pgsql store)", logged)
        self.assertRegex(logged, r"port[ =]1\b")
        self.assertNotIn("Traceback", logged + out + err)
        self.assertNotIn("Connected to", logged)
