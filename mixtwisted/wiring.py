"""
Putting a MIX service together: store, channel logic, protocol handlers and
the XEP-0114 component connection.

L{makeHandlers} builds the parts that do not touch sockets (tests attach
them to a stub stream); L{makeComponent} adds the connection to an XMPP
server and is what the C{twistd mix} plugin and embedding code call.
"""

import weakref

from twisted.application import service
from twisted.internet import defer
from twisted.internet.interfaces import IPushProducer
from twisted.python import log
from twisted.words.protocols.jabber import component as jcomponent
from twisted.words.protocols.jabber import xmlstream
from wokkel import component as wcomponent
from zope.interface import implementer

from mixtwisted.admin import Administration
from mixtwisted.channels import ChannelService
from mixtwisted.delivery import Deliveries
from mixtwisted.fanout import StanzaNotifier
from mixtwisted.handlers.delivery import DeliveryHandler
from mixtwisted.handlers.disco import DiscoHandler, MIXDisco
from mixtwisted.handlers.fallback import FallbackHandler
from mixtwisted.handlers.guard import AddressGuard
from mixtwisted.handlers.invitations import InvitationHandler
from mixtwisted.handlers.management import ManagementHandler
from mixtwisted.handlers.mam import MAMHandler
from mixtwisted.handlers.messages import MessageHandler
from mixtwisted.handlers.participation import ParticipationHandler
from mixtwisted.handlers.preferences import PreferencesHandler
from mixtwisted.handlers.presence import PresenceHandler
from mixtwisted.handlers.pubsub import ChannelPubSubService
from mixtwisted.handlers.registration import RegistrationHandler
from mixtwisted.handlers.relay import RelayHandler
from mixtwisted.handlers.routing import RoutingHandler
from mixtwisted.presence import Presence
from mixtwisted.relay import Relay
from mixtwisted.routing import Routing
from mixtwisted.store.memory import MemoryStore

BACKENDS = ("memory", "pgsql")


def makeStore(settings, reactor=None):
    """
    Return the store named by C{settings.backend}, not started yet (see
    L{mixtwisted.interfaces.IMIXStorage.start}).

    @raise ValueError: for a backend this version does not provide.
    """
    if settings.backend == "memory":
        return MemoryStore()
    if settings.backend == "pgsql":
        if not settings.dsn:
            raise ValueError("The pgsql backend needs a DSN (--dsn)")
        from mixtwisted.store.pgsql import PgsqlStore
        return PgsqlStore(settings.dsn, reactor)
    raise ValueError("Storage backend %r is not available in this version "
                     "(available: %s)" % (settings.backend,
                                          ", ".join(BACKENDS)))


def makeHandlers(settings, store, clock, send):
    """
    Build the channel logic and the protocol handlers.

    @param send: callable that sends a stanza (element or serialized
        string); the notifier uses it.
    @return: C{(channels, handlers)}; add the handlers to a stream manager.
    """
    channels = ChannelService(store, settings, clock, StanzaNotifier(send))
    admin = Administration(channels, clock)
    presence = Presence(channels, clock)
    presence.routing = routing = Routing(
        clock, settings.domain, settings.delivery,
        dict(settings.deliveryDomains))
    relay = Relay(channels, clock)
    deliveries = Deliveries(channels, clock, presence)
    handlers = [
        AddressGuard(),
        RelayHandler(channels, relay),
        DiscoHandler(),
        MIXDisco(channels),
        ManagementHandler(channels),
        RegistrationHandler(channels),
        ParticipationHandler(channels),
        PreferencesHandler(channels),
        InvitationHandler(channels),
        MessageHandler(channels, deliveries, presence),
        MAMHandler(channels),
        ChannelPubSubService(channels, admin),
        PresenceHandler(channels, presence, deliveries),
        DeliveryHandler(channels, deliveries),
        RoutingHandler(channels, routing),
        FallbackHandler(),
    ]
    return channels, handlers


class ComponentFactory(xmlstream.XmlStreamFactory):
    """
    The reconnecting stream factory, saying clearly in the log when the
    server cannot be reached or drops the connection, and when it will try
    again (with exponential back-off up to C{maxDelay} seconds).
    """

    maxDelay = 60

    def __init__(self, domain, secret, address):
        xmlstream.XmlStreamFactory.__init__(
            self, jcomponent.ConnectComponentAuthenticator(domain, secret))
        self.address = address

    def _nextAttempt(self):
        """
        Seconds until the reconnection attempt just scheduled.
        """
        call = getattr(self, "_callID", None)
        if call is None or not call.active():
            return 0.0
        return max(0.0, call.getTime() - self.clock.seconds())

    def clientConnectionFailed(self, connector, reason):
        xmlstream.XmlStreamFactory.clientConnectionFailed(
            self, connector, reason)
        log.msg("Cannot connect to the XMPP server at %s: %s; retrying in "
                "%.0f s" % (self.address, reason.getErrorMessage(),
                            self._nextAttempt()))

    def clientConnectionLost(self, connector, reason):
        xmlstream.XmlStreamFactory.clientConnectionLost(
            self, connector, reason)
        if self.continueTrying:
            log.msg("Lost the connection to the XMPP server at %s: %s; "
                    "reconnecting in %.0f s" % (
                        self.address, reason.getErrorMessage(),
                        self._nextAttempt()))


@implementer(IPushProducer)
class ReadThrottle:
    """
    Back-pressure on the component connection: while more than the
    transport's C{bufferSize} (64 KB) of copies wait to be written, stop
    reading what the XMPP server sends, and read again once they are out.

    Without it a burst of messages is read and fanned out at once, and
    their copies pile up in memory (a fan-out of 20000 messages at once
    took the process to 567 MB, doc/performance.md); with it the XMPP
    server's own flow control holds the stanzas not yet read.

    Registered as the transport's streaming producer: the transport asks
    it to pause when its buffer is full and to resume when it is empty.
    """

    def __init__(self, transport):
        self.transport = transport

    def pauseProducing(self):
        self.transport.stopReading()

    def resumeProducing(self):
        transport = self.transport
        if transport.disconnecting:
            # A close asked while paused: the transport, which resumed us
            # instead of closing, closes once we are gone.
            transport.unregisterProducer()
        elif transport.connected:
            transport.startReading()

    def stopProducing(self):
        pass


class MIXComponent(wcomponent.Component):
    """
    wokkel's external component, with four changes:

     - the stanzas queued while disconnected are bounded
       (C{maxQueued}); past that they are dropped and the drop is logged
       (wokkel queues without bound);
     - a refused handshake is logged and retried with back-off instead of
       stopping the service;
     - the reactor is the one given (testable with a fake one);
     - serialized stanzas go straight to the transport (L{send}).
    """

    def __init__(self, host, port, domain, secret, maxQueued, reactor=None):
        factory = ComponentFactory(domain, secret, "%s:%d" % (host, port))
        wcomponent.StreamManager.__init__(self, factory, reactor)
        factory.clock = self._reactor
        self.host, self.port, self.domain = host, port, domain
        self.maxQueued = maxQueued
        self.dropped = 0
        self._lostWaiters = []

    def _connected(self, xs):
        log.msg("Connected to %s:%d, authenticating as %s" % (
            self.host, self.port, self.domain))
        if hasattr(xs.transport, "stopReading"):
            xs.transport.registerProducer(ReadThrottle(xs.transport), True)
        wcomponent.Component._connected(self, xs)

    def _authd(self, xs):
        log.msg("Component %s is online" % (self.domain,))
        if self.dropped:
            log.msg("%d stanzas were dropped while offline" % (self.dropped,))
            self.dropped = 0
        wcomponent.Component._authd(self, xs)

    def initializationFailed(self, reason):
        log.msg("The XMPP server refused the component handshake for %s "
                "(check the domain and the secret): %s" % (
                    self.domain, reason.getErrorMessage()))
        if self.xmlstream is not None and self.xmlstream.transport:
            self.xmlstream.transport.loseConnection()

    def send(self, obj):
        if self._initialized:
            xs = self.xmlstream
            if obj.__class__ is str and xs.rawDataOutFn is None:
                # The fan-out's hot path (one call per delivered copy):
                # what XmlStream.send does for a string, without its
                # IElement.providedBy check, which costs three times the
                # write itself (doc/performance.md).
                xs.transport.write(obj.encode("utf-8"))
            else:
                xs.send(obj)
        elif len(self._packetQueue) < self.maxQueued:
            self._packetQueue.append(obj)
        else:
            if not self.dropped:
                log.msg("Outgoing queue full (%d stanzas) while offline: "
                        "dropping" % (self.maxQueued,))
            self.dropped += 1

    def _getConnection(self):
        return self._reactor.connectTCP(self.host, self.port, self.factory)

    def _disconnected(self, reason):
        wcomponent.Component._disconnected(self, reason)
        waiters, self._lostWaiters = self._lostWaiters, []
        for waiter in waiters:
            waiter.callback(None)

    def whenDisconnected(self):
        """
        @return: Deferred firing once the stream is closed (at once when
            there is none).  The transport writes out what was sent
            before it closes.
        """
        if self.xmlstream is None:
            return defer.succeed(None)
        d = defer.Deferred()
        self._lostWaiters.append(d)
        return d


class Timers:
    """
    The reactor as the channel logic sees it (C{seconds}, C{callLater}),
    keeping track of the timers it sets, so that a stopping service can
    cancel those that would start new work (End of Life, delivery markers
    and retransmissions, presence checks, relay time-outs).

    Calls due at once (C{callLater(0, ...)}: the rest of a request, such
    as the presence sent after a join) are work under way: they still run
    while the service stops, and L{due} counts them.
    """

    def __init__(self, reactor):
        self._reactor = reactor
        self._calls = weakref.WeakSet()
        self.stopped = False

    def __getattr__(self, name):
        return getattr(self._reactor, name)

    def seconds(self):
        return self._reactor.seconds()

    def callLater(self, delay, f, *args, **kwargs):
        call = self._reactor.callLater(delay, f, *args, **kwargs)
        if self.stopped and delay > 0:
            call.cancel()
        else:
            self._calls.add(call)
        return call

    def due(self):
        """
        @return: how many timers set here are due now and not run yet.
        """
        now = self._reactor.seconds()
        return len([call for call in list(self._calls)
                    if call.active() and call.getTime() <= now])

    def stop(self, everything=False):
        """
        Cancel the timers set here that are not due yet (C{everything}:
        those due too), and any set later with a delay.

        @return: how many were cancelled.
        """
        self.stopped = True
        now = self._reactor.seconds()
        cancelled = 0
        for call in list(self._calls):
            if call.active() and (everything or call.getTime() > now):
                call.cancel()
                cancelled += 1
        return cancelled


class _Startup(service.Service):
    """
    Start the store, then the channel logic, then connect to the XMPP
    server.

    A store that cannot start (database unreachable, failed migration) is
    logged and the reactor stopped: running without storage would accept
    messages it cannot keep.

    Stopping (twistd's graceful stop) goes the other way, so that nothing
    is cut half-way and everything stored is also sent:

     1. take no new stanza (the L{AddressGuard} answers them with a
        C{wait} error) and cancel the timers that would start new work;
     2. let the work under way finish: no channel change running or
        queued (L{KeyedSerializer.busy}), the store idle (its callers'
        callbacks, where the next step of a request starts, included),
        no timer due; looked at every L{pollInterval} seconds and once
        more a reactor turn later, for at most L{drainTimeout} seconds,
        after which what is left is logged and abandoned;
     3. disconnect from the server, the transport writing out what was
        sent first (at most L{disconnectTimeout} seconds);
     4. stop the store (which waits for what it still has, at most its
        own time-out, then closes its connections).

    @ivar stopping: C{True} once stopping began.
    """

    drainTimeout = 10.0
    pollInterval = 0.01
    disconnectTimeout = 5.0

    def __init__(self, store, channels, component, reactor, guard=None,
                 timers=None):
        self.store = store
        self.channels = channels
        self.component = component
        self.reactor = reactor
        self.guard = guard
        self.timers = timers
        self.stopping = False

    def startService(self):
        service.Service.startService(self)
        d = defer.maybeDeferred(self.store.start)
        d.addCallback(self._step, lambda: log.msg("Storage %r ready" % (
            self.store.name,)))
        d.addCallback(self._step, self.channels.start)
        d.addCallback(self._step, self.component.startService)
        d.addErrback(self._failed)

    def _step(self, ignored, f):
        # A stop during start-up ends it: no component connects after it.
        if not self.stopping:
            return f()

    def _failed(self, failure):
        log.msg("MIX service start-up failed (%s store): %s: %s; stopping" % (
            self.store.name, failure.type.__name__,
            failure.getErrorMessage().strip().replace("\n", " ")))
        if self.reactor.running:
            self.reactor.stop()

    def stopService(self):
        service.Service.stopService(self)
        self.stopping = True
        if self.guard is not None:
            self.guard.stopAccepting()
        if self.timers is not None:
            self.timers.stop()
        # No reconnection meanwhile (it would start the presence start-up).
        self.component.factory.stopTrying()
        d = self._drain()
        d.addCallback(self._disconnect)
        d.addErrback(log.err, "Could not stop the MIX service cleanly")
        d.addCallback(lambda _: self.store.stop())
        d.addErrback(log.err, "Could not stop the store cleanly")
        return d

    def _underWay(self):
        """
        Describe the work under way, or return C{None} when there is none.
        """
        parts = []
        keys = self.channels.serial.busy()
        if keys:
            parts.append("changes of %d channels (%s)" % (
                len(keys), ", ".join(sorted(keys)[:5]) +
                (", ..." if len(keys) > 5 else "")))
        busy = self.store.busy
        if busy:
            parts.append("%d store operations" % (busy,))
        due = self.timers.due() if self.timers is not None else 0
        if due:
            parts.append("%d timers due" % (due,))
        return "; ".join(parts) or None

    def _drain(self):
        """
        Wait until no work is under way (step 2 of L{stopService}).
        """
        if self._underWay() is None:
            # Nothing under way: nothing's callbacks are left to run either
            # (the store counts an operation until they have run).
            return defer.succeed(None)
        log.msg("Stopping: no longer taking stanzas; waiting for the work "
                "under way (%s)" % (self._underWay(),))
        done = defer.Deferred()
        began = self.reactor.seconds()
        deadline = began + self.drainTimeout

        def check(quiet):
            underWay = self._underWay()
            if underWay is None:
                if quiet:
                    log.msg("Stopping: the work under way finished in "
                            "%.2f s" % (self.reactor.seconds() - began,))
                    done.callback(None)
                else:
                    # Once more on a later turn: work put off by callbacks
                    # that just ran.
                    self.reactor.callLater(0, check, True)
                return
            if self.reactor.seconds() >= deadline:
                log.msg("Stopping with work still under way after %g s, "
                        "abandoned: %s" % (self.drainTimeout, underWay))
                done.callback(None)
                return
            self.reactor.callLater(self.pollInterval, check, False)
        self.reactor.callLater(self.pollInterval, check, False)
        return done

    def _disconnect(self, ignored):
        """
        Close the connection to the server once what was sent is written
        (step 3 of L{stopService}).
        """
        if self.timers is not None:
            self.timers.stop(everything=True)
        for hook in self.channels.stopHooks:
            try:
                hook()
            except Exception:
                log.err(None, "A stop hook failed")
        if not self.component.running:
            return None
        lost = self.component.whenDisconnected()
        self.component.stopService()
        if lost.called:
            return lost
        done = defer.Deferred()

        def expired():
            log.msg("The connection to the XMPP server did not close within "
                    "%g s" % (self.disconnectTimeout,))
            done.callback(None)
        timer = self.reactor.callLater(self.disconnectTimeout, expired)

        def closed(_):
            if timer.active():
                timer.cancel()
                done.callback(None)
        lost.addCallback(closed)
        return done


def makeComponent(settings, reactor=None, store=None):
    """
    Build a MIX service connected as an external component.

    @param settings: L{mixtwisted.settings.Settings}.
    @param reactor: the reactor (default: the global one).
    @param store: an L{mixtwisted.interfaces.IMIXStorage} provider to use
        instead of the one named by C{settings.backend} (for embedding).
    @rtype: L{twisted.application.service.MultiService}
    @raise ValueError: for an unsupported backend.
    """
    if reactor is None:
        from twisted.internet import reactor
    if store is None:
        store = makeStore(settings, reactor)
    top = service.MultiService()
    component = MIXComponent(settings.rhost, settings.rport, settings.domain,
                             settings.secret,
                             settings.limits.maxQueuedStanzas, reactor)
    component.logTraffic = settings.verbose
    timers = Timers(reactor)
    channels, handlers = makeHandlers(settings, store, timers,
                                      component.send)
    for handler in handlers:
        handler.setHandlerParent(component)
    guard = [h for h in handlers if isinstance(h, AddressGuard)][0]
    # The component is started by _Startup once the store is ready, so it is
    # not a child of top: a MultiService would connect it at once.
    startup = _Startup(store, channels, component, reactor, guard, timers)
    startup.setServiceParent(top)
    top.channels = channels
    top.component = component
    top.startup = startup
    return top
