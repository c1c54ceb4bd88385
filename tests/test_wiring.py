"""
The component connection: where it connects, the bounded offline queue,
the reconnect log lines and handshake failures (issue 2, item 1 and 2).
"""

from twisted.internet import defer
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python import failure
from twisted.trial import unittest
from twisted.words.protocols.jabber import xmlstream as jxmlstream
from twisted.words.xish import domish

from mixtwisted.settings import Limits, Settings
from mixtwisted.store.memory import MemoryStore
from mixtwisted.wiring import (
    MIXComponent, ReadThrottle, Timers, makeComponent, makeStore)
from tests.helpers import (
    CAT, COVEN, DOMAIN, HAG66, HAG66_FULL, HECATE, NODE_MESSAGES, NS_MIX,
    parse)


class CollectLog:
    """
    Collect the messages logged while a test runs.
    """

    def __init__(self, case):
        from twisted.python import log
        self.messages = []
        log.addObserver(self.observe)
        case.addCleanup(log.removeObserver, self.observe)

    def observe(self, event):
        if event.get("message"):
            self.messages.append(" ".join(map(str, event["message"])))


class WiringTests(unittest.TestCase):

    def settings(self, **kwargs):
        return Settings(domain="mix.example.org", secret="s",
                        rhost="127.0.0.9", rport=5399, **kwargs)

    def test_connectsToConfiguredAddress(self):
        """
        Starting the service connects to C{rhost}:C{rport} on the reactor
        it was given.
        """
        reactor = MemoryReactorClock()
        top = makeComponent(self.settings(), reactor, MemoryStore())
        top.startService()
        self.addCleanup(top.stopService)
        self.assertEqual([("127.0.0.9", 5399)],
                         [(c[0], c[1]) for c in reactor.tcpClients])

    def test_unknownBackend(self):
        """
        A backend this version does not provide is a C{ValueError} with a
        message naming it (twistd turns it into a one-line error); so is
        the pgsql backend without a DSN.
        """
        error = self.assertRaises(ValueError, makeStore,
                                  self.settings(backend="oracle"))
        self.assertIn("oracle", str(error))
        error = self.assertRaises(ValueError, makeStore,
                                  self.settings(backend="pgsql"))
        self.assertIn("DSN", str(error))
        self.assertIsInstance(makeStore(self.settings()), MemoryStore)

    def test_pgsqlBackend(self):
        """
        C{--backend pgsql} gives the PostgreSQL store on the DSN, not
        connected until started.
        """
        from mixtwisted.store.pgsql import PgsqlStore
        store = makeStore(self.settings(backend="pgsql", dsn="dbname=x"),
                          MemoryReactorClock())
        self.assertIsInstance(store, PgsqlStore)
        self.assertEqual("pgsql", store.name)

    def test_offlineQueueBounded(self):
        """
        Stanzas sent while disconnected are queued up to C{maxQueued};
        the rest are dropped and the drop is logged once.
        """
        logged = CollectLog(self)
        component = MIXComponent("127.0.0.1", 5347, "mix.example.org", "s",
                                 3, MemoryReactorClock())
        for n in range(10):
            component.send("<message id='%d'/>" % (n,))
        self.assertEqual(3, len(component._packetQueue))
        self.assertEqual(7, component.dropped)
        self.assertEqual(1, len([m for m in logged.messages
                                 if "queue full" in m]))

    def test_sendWhenOnline(self):
        """
        Online, a serialized stanza is written to the transport UTF-8
        encoded, in order with elements, with or without the raw data
        log (C{--verbose}), which sees every stanza.
        """
        for verbose in (False, True):
            component = MIXComponent("127.0.0.1", 5347, "mix.example.org",
                                     "s", 3, MemoryReactorClock())
            xs = jxmlstream.XmlStream(jxmlstream.Authenticator())
            xs.transport = StringTransport()
            logged = []
            if verbose:
                xs.rawDataOutFn = logged.append
            component.xmlstream, component._initialized = xs, True
            component.send("<message id='\u00e9'/>")
            component.send(domish.Element((None, "presence")))
            self.assertEqual(b"<message id='\xc3\xa9'/><presence/>",
                             xs.transport.value())
            self.assertEqual([b"<message id='\xc3\xa9'/>", b"<presence/>"]
                             if verbose else [], logged)

    def test_readThrottle(self):
        """
        Back-pressure: the transport pauses the throttle when its write
        buffer is full (reading stops), resumes it when the buffer is
        out (reading starts again, unless the connection is gone), and a
        close asked while paused completes: the throttle unregisters so
        that the transport closes.
        """
        calls = []

        class Transport:
            connected, disconnecting = True, False

            def stopReading(self):
                calls.append("stopReading")

            def startReading(self):
                calls.append("startReading")

            def unregisterProducer(self):
                calls.append("unregisterProducer")

        transport = Transport()
        throttle = ReadThrottle(transport)
        throttle.pauseProducing()
        throttle.resumeProducing()
        self.assertEqual(["stopReading", "startReading"], calls)
        del calls[:]
        throttle.pauseProducing()
        transport.disconnecting = True
        throttle.resumeProducing()
        throttle.stopProducing()
        self.assertEqual(["stopReading", "unregisterProducer"], calls)
        del calls[:]
        transport.connected, transport.disconnecting = False, False
        throttle.resumeProducing()
        self.assertEqual([], calls)

    def test_throttleRegistered(self):
        """
        The component registers the throttle on a transport that reads a
        socket when it connects.
        """
        component = MIXComponent("127.0.0.1", 5347, "mix.example.org", "s",
                                 3, MemoryReactorClock())
        xs = jxmlstream.XmlStream(jxmlstream.Authenticator())
        xs.transport = StringTransport()
        xs.transport.stopReading = lambda: None
        component._connected(xs)
        self.assertIsInstance(xs.transport.producer, ReadThrottle)
        self.assertTrue(xs.transport.streaming)

    def test_reconnectLogged(self):
        """
        A refused connection is logged with the delay of the attempt
        actually scheduled, and retried with growing delays.
        """
        logged = CollectLog(self)
        reactor = MemoryReactorClock()
        component = MIXComponent("127.0.0.1", 5347, "mix.example.org", "s",
                                 10, reactor)
        factory = component.factory
        factory.jitter = 0
        delays = []
        for attempt in range(3):
            factory.clientConnectionFailed(
                reactor.connectTCP("127.0.0.1", 5347, factory),
                failure.Failure(ConnectionRefusedError()))
            call = factory._callID
            delays.append(call.getTime() - reactor.seconds())
            reactor.advance(delays[-1])
        lines = [m for m in logged.messages if "Cannot connect" in m]
        self.assertEqual(3, len(lines))
        for line, delay in zip(lines, delays):
            self.assertIn("127.0.0.1:5347", line)
            self.assertIn("retrying in %.0f s" % (delay,), line)
        self.assertTrue(delays[0] < delays[1] < delays[2], delays)
        self.assertTrue(factory.continueTrying)

    def test_handshakeFailureKeepsTrying(self):
        """
        A refused handshake is logged and does not stop the service
        (wokkel's component would stop it for good).
        """
        logged = CollectLog(self)
        top = makeComponent(self.settings(), MemoryReactorClock(),
                            MemoryStore())
        top.startService()
        self.addCleanup(top.stopService)
        component = top.component
        component.initializationFailed(failure.Failure(Exception("denied")))
        self.assertTrue(component.running)
        self.assertTrue(component.factory.continueTrying)
        self.assertEqual(1, len([m for m in logged.messages
                                 if "refused the component handshake" in m]))

    def test_limitsReachComponent(self):
        """
        The queue bound comes from the settings.
        """
        top = makeComponent(self.settings(limits=Limits(maxQueuedStanzas=7)),
                            MemoryReactorClock(), MemoryStore())
        component = top.component
        self.assertEqual(7, component.maxQueued)


class TimersTests(unittest.SynchronousTestCase):
    """
    L{Timers}: the reactor as the channel logic sees it, whose timers a
    stopping service cancels.
    """

    def setUp(self):
        self.clock = MemoryReactorClock()
        self.timers = Timers(self.clock)

    def test_passesThrough(self):
        self.clock.advance(12)
        self.assertEqual(12, self.timers.seconds())
        fired = []
        self.timers.callLater(1, fired.append, "x")
        self.clock.advance(1)
        self.assertEqual(["x"], fired)
        self.assertEqual(self.clock.getDelayedCalls,
                         self.timers.getDelayedCalls)

    def test_stop(self):
        """
        Stopping cancels the timers not due yet, and those set later with
        a delay; calls due at once still run (the rest of a request).
        """
        fired = []
        later = self.timers.callLater(5, fired.append, "later")
        now = self.timers.callLater(0, fired.append, "now")
        self.assertEqual(1, self.timers.due())
        self.assertEqual(1, self.timers.stop())
        self.assertFalse(later.active())
        self.assertTrue(now.active())
        afterwards = self.timers.callLater(3, fired.append, "afterwards")
        self.assertFalse(afterwards.active())
        again = self.timers.callLater(0, fired.append, "again")
        self.assertEqual(2, self.timers.due())
        self.clock.advance(0)
        self.assertEqual(["now", "again"], fired)
        self.assertEqual(0, self.timers.due())
        self.assertFalse(again.active())

    def test_stopEverything(self):
        self.timers.callLater(0, lambda: None)
        self.timers.stop()
        self.assertEqual(1, self.timers.stop(everything=True))
        self.assertEqual([], self.clock.getDelayedCalls())


class _PendingStartStore(MemoryStore):
    """
    A memory store whose start the test completes.
    """

    def start(self):
        self.started = defer.Deferred()
        return self.started


class StopUnitTests(unittest.TestCase):
    """
    The steps of the graceful stop on a fake reactor.
    """

    def settings(self):
        return Settings(domain="mix.example.org", secret="s",
                        rhost="127.0.0.9", rport=5399)

    def test_stopWhileStarting(self):
        """
        A stop while the store is starting ends the start-up: the
        component never connects.
        """
        reactor = MemoryReactorClock()
        store = _PendingStartStore()
        top = makeComponent(self.settings(), reactor, store)
        top.startService()
        stopped = top.stopService()
        self.successResultOf(stopped)
        store.started.callback(None)
        self.assertEqual([], reactor.tcpClients)
        self.assertFalse(top.component.running)

    def test_stopHooksBeforeDisconnect(self):
        """
        D-60: the stop hooks (relays still waiting answer their requesters)
        run after the drain and while the connection is still up.
        """
        reactor = MemoryReactorClock()
        top = makeComponent(self.settings(), reactor, MemoryStore())
        top.startService()
        seen = []
        top.channels.stopHooks.append(
            lambda: seen.append(top.component.running))
        self.successResultOf(top.stopService())
        self.assertEqual([True], seen)
        self.assertFalse(top.component.running)

    def test_drainBounded(self):
        """
        Work that never ends is waited for C{drainTimeout} seconds, then
        logged and abandoned: the component disconnects and the store
        stops all the same.  Stanzas are refused from the start of the
        stop.
        """
        logged = CollectLog(self)
        reactor = MemoryReactorClock()
        top = makeComponent(self.settings(), reactor, MemoryStore())
        top.startService()
        never = defer.Deferred()
        top.channels.serial.run("coven", lambda: never)
        stopped = top.stopService()
        self.assertTrue(top.startup.stopping)
        self.assertFalse(top.startup.guard.accepting)
        self.assertNoResult(stopped)
        self.assertTrue(top.component.running)
        reactor.advance(5)
        self.assertNoResult(stopped)
        for _ in range(600):
            reactor.advance(0.01)
        self.successResultOf(stopped)
        self.assertFalse(top.component.running)
        self.assertEqual(1, len([m for m in logged.messages
                                 if "abandoned" in m and "coven" in m]))
        never.callback(None)

    def test_drainWaitsForDueCalls(self):
        """
        A call due at once (the rest of a request) is waited for; timers
        that would start new work are cancelled.
        """
        reactor = MemoryReactorClock()
        top = makeComponent(self.settings(), reactor, MemoryStore())
        top.startService()
        timers = top.startup.timers
        ran = []
        timers.callLater(0, ran.append, "rest of a request")
        newWork = timers.callLater(30, ran.append, "new work")
        stopped = top.stopService()
        self.assertFalse(newWork.active())
        self.assertNoResult(stopped)
        reactor.advance(0)
        self.assertEqual(["rest of a request"], ran)
        for _ in range(3):
            reactor.advance(0.01)
        self.successResultOf(stopped)


class GracefulStopMixin:
    """
    twistd's graceful stop (C{stopService}) of a service connected to a
    fake XMPP server (L{tests.test_process.ComponentServerFactory}), in
    the middle of a join and of a burst of messages: the stop takes no new
    stanza, lets the work under way finish, and only then disconnects and
    stops the store (doc/decisions.md, shutdown order).

    @cvar burst: messages sent before the join, and as many after it.
    """

    timeout = 60
    burst = 30

    def unstartedStore(self):
        """
        @return: the store the service starts and stops.
        """
        raise NotImplementedError()

    async def readStored(self):
        """
        @return: C{(participants, subscriptions, archived)} of the channel
            coven: sets of bare JIDs, of C{(jid, node)}, and the archive
            ids of its messages node.
        """
        raise NotImplementedError()

    async def asyncSetUp(self):
        from twisted.internet import reactor
        from tests.test_process import ComponentServerFactory
        self.reactor = reactor
        self.store = self.unstartedStore()
        self.server = ComponentServerFactory(DOMAIN, "s", lambda: "")
        port = reactor.listenTCP(0, self.server, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        settings = Settings(domain=DOMAIN, secret="s", rhost="127.0.0.1",
                            rport=port.getHost().port)
        self.top = makeComponent(settings, reactor, self.store)
        self.top.startService()
        self.addCleanup(self.cleanUp)
        self.conn = await self.server.waitForHandshake(1)
        await self.request(
            "<iq type='set' id='c1' from='%s' to='%s'>"
            "<create channel='coven' xmlns='%s'/></iq>"
            % (HAG66_FULL, DOMAIN, NS_MIX))
        for bare, name in ((HAG66, "j1"), (HECATE, "j2")):
            await self.request(
                "<iq type='set' id='%s' from='%s' to='%s'><join xmlns='%s'>"
                "<subscribe node='%s'/></join></iq>"
                % (name, bare, COVEN, NS_MIX, NODE_MESSAGES))
        await self.request(
            "<iq type='set' id='n1' from='%s' to='%s'><setnick xmlns='%s'>"
            "<nick>thirdwitch</nick></setnick></iq>"
            % (HAG66_FULL, COVEN, NS_MIX))

    async def cleanUp(self):
        if self.top.running:
            await self.top.stopService()
        for proto in list(self.server.connections):
            proto.transport.abortConnection()
            await proto.lost

    async def request(self, xml):
        iq = parse(xml)
        self.conn.send(xml)
        response = await self.conn.waitForResponse(iq["id"])
        self.assertEqual("result", response.getAttribute("type"),
                         response.toXml())
        return response

    def message(self, n):
        return ("<message type='groupchat' id='s%03d' from='%s' to='%s'>"
                "<body>m%03d</body></message>" % (n, HAG66_FULL, COVEN, n))

    async def test_stopDuringJoinAndBurst(self):
        """
        stopService while a join is between two of its store steps and a
        burst of messages is being archived: the join completes (never a
        participant without subscriptions), every message the service
        took is archived and reflected before the connection closes, and
        stanzas arriving after the stop began are refused with a C{wait}
        error, neither archived nor reflected.
        """
        await self.stopDuringJoinAndBurst()

    async def stopDuringJoinAndBurst(self):
        """
        The scenario and checks of L{test_stopDuringJoinAndBurst}.

        @return: C{(reflected, refused)}: the bodies of the messages
            reflected mapped to their archive ids, and the ids of the
            messages refused.
        """
        from twisted.internet import task
        from tests.test_process import childText
        real = self.store.saveParticipant
        stopped = []
        late = [self.message(n) for n in range(900, 905)]

        def saveParticipant(record):
            if record.jid == CAT and not stopped:
                stopped.append(self.top.stopService())
                # Sent by the server while the service is stopping.
                self.conn.send("".join(late) + (
                    "<iq type='set' id='late-join' from='%s' to='%s'>"
                    "<join xmlns='%s'><subscribe node='%s'/></join></iq>"
                    % (HECATE, COVEN.replace("coven", "cave"), NS_MIX,
                       NODE_MESSAGES)))
                # The join stays half done for a while.
                return task.deferLater(self.reactor, 0.2, real, record)
            return real(record)
        self.store.saveParticipant = saveParticipant
        storeStopped = []
        realStop = self.store.stop

        def stop():
            storeStopped.append(self.top.component.xmlstream is None)
            return realStop()
        self.store.stop = stop

        taken = list(range(self.burst)) + list(range(100, 100 + self.burst))
        self.conn.send(
            "".join(self.message(n) for n in range(self.burst)) +
            "<iq type='set' id='j3' from='%s' to='%s'><join xmlns='%s'>"
            "<subscribe node='%s'/></join></iq>"
            % (CAT, COVEN, NS_MIX, NODE_MESSAGES) +
            "".join(self.message(n) for n in range(100, 100 + self.burst)))
        for _ in range(500):
            if stopped:
                break
            await task.deferLater(self.reactor, 0.01, lambda: None)
        self.assertTrue(stopped, "the join never reached saveParticipant")
        await stopped[0]
        self.assertFalse(self.top.running)
        # The stream was closed, after the work under way, before the
        # store stopped.
        self.assertEqual([True], storeStopped)
        await self.conn.lost

        received = list(self.conn.received)
        responses = {s.getAttribute("id"): s for s in received
                     if s.name == "iq"}
        self.assertEqual("result", responses["j3"].getAttribute("type"),
                         responses["j3"].toXml())
        self.assertEqual("error", responses["late-join"].getAttribute("type"))
        reflected = {}
        refused = set()
        for stanza in received:
            if stanza.name != "message":
                continue
            if stanza.getAttribute("type") == "groupchat" and \
                    stanza.getAttribute("to") == HECATE:
                reflected[childText(stanza, "body")] = stanza["id"]
            elif stanza.getAttribute("type") == "error":
                error = stanza.error
                self.assertEqual("wait", error["type"], stanza.toXml())
                refused.add(stanza["id"])

        participants, subscriptions, archived = await self.readStored()
        self.assertIn(CAT, participants)
        self.assertIn((CAT, NODE_MESSAGES), subscriptions)
        # Every archived message was handed to the stream.
        self.assertEqual(sorted(reflected.values()), sorted(archived))
        # Every message was either taken (archived and reflected) or
        # refused; those sent after the stop began were refused.
        sent = taken + list(range(900, 905))
        self.assertEqual(sorted("m%03d" % (n,) for n in sent),
                         sorted(list(reflected) +
                                ["m" + i[1:] for i in refused]))
        self.assertLessEqual({"s%03d" % (n,) for n in range(900, 905)},
                             refused)
        # The messages sent before the join were taken.
        self.assertLessEqual({"m%03d" % (n,) for n in range(self.burst)},
                             set(reflected))
        self.assertEqual(len(refused) + 1, self.top.startup.guard.refused)
        return reflected, refused


class GracefulStopMemoryTests(GracefulStopMixin, unittest.TestCase):

    def unstartedStore(self):
        return MemoryStore()

    async def readStored(self):
        from mixtwisted.records import ArchiveQuery
        participants = {p.jid for p in await self.store.listParticipants(
            "coven")}
        subscriptions = set()
        for jid in participants:
            for node in await self.store.getSubscriptions("coven", jid):
                subscriptions.add((jid, node))
        page = await self.store.queryArchive("coven", ArchiveQuery(
            node=NODE_MESSAGES, maximum=1000))
        return participants, subscriptions, \
            [m.archiveId for m in page.messages]

    def setUp(self):
        return defer.ensureDeferred(self.asyncSetUp())


class GracefulStopPgsqlTests(GracefulStopMixin, unittest.TestCase):
    """
    On PostgreSQL, where every store step waits for a round trip: the
    stop must not close the pool between two steps of a request.
    """

    async def test_stopDuringJoinAndBurst(self):
        """
        The join reaches the store after the whole burst was read: every
        message of the burst is taken, only the late ones are refused.
        """
        reflected, refused = await self.stopDuringJoinAndBurst()
        self.assertEqual(2 * self.burst, len(reflected))
        self.assertEqual({"s%03d" % (n,) for n in range(900, 905)}, refused)

    def unstartedStore(self):
        from mixtwisted.store.pgsql import PgsqlStore
        from tests.pgsql import processDatabase
        database = processDatabase()
        database.empty()
        return PgsqlStore(database.dsn)

    async def readStored(self):
        from mixtwisted.store import schema
        from tests.pgsql import processDatabase
        connection = schema.connect(processDatabase().dsn)
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT jid FROM participants "
                           "WHERE channel = 'coven'")
            participants = {row[0] for row in cursor.fetchall()}
            cursor.execute("SELECT jid, node FROM subscriptions "
                           "WHERE channel = 'coven'")
            subscriptions = set(cursor.fetchall())
            cursor.execute("SELECT archive_id FROM archive WHERE "
                           "channel = 'coven' AND node = %s",
                           (NODE_MESSAGES,))
            archived = [row[0] for row in cursor.fetchall()]
        finally:
            connection.close()
        return participants, subscriptions, archived

    def setUp(self):
        return defer.ensureDeferred(self.asyncSetUp())
