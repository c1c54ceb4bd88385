"""
The component connection: where it connects, the bounded offline queue,
the reconnect log lines and handshake failures (issue 2, item 1 and 2).
"""

from twisted.internet.error import ConnectionRefusedError
from twisted.internet.testing import MemoryReactorClock
from twisted.python import failure
from twisted.trial import unittest

from mixtwisted.settings import Limits, Settings
from mixtwisted.store.memory import MemoryStore
from mixtwisted.wiring import MIXComponent, makeComponent, makeStore


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
