"""
Putting a MIX service together: store, channel logic, protocol handlers and
the XEP-0114 component connection.

L{makeHandlers} builds the parts that do not touch sockets (tests attach
them to a stub stream); L{makeComponent} adds the connection to an XMPP
server and is what the C{twistd mix} plugin and embedding code call.
"""

from twisted.application import service
from twisted.internet import defer
from twisted.python import log
from twisted.words.protocols.jabber import component as jcomponent
from twisted.words.protocols.jabber import xmlstream
from wokkel import component as wcomponent

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
from mixtwisted.presence import Presence
from mixtwisted.relay import Relay
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
        MessageHandler(channels, deliveries),
        MAMHandler(channels),
        ChannelPubSubService(channels, admin),
        PresenceHandler(channels, presence, deliveries),
        DeliveryHandler(channels, deliveries),
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


class MIXComponent(wcomponent.Component):
    """
    wokkel's external component, with three changes:

     - the stanzas queued while disconnected are bounded
       (C{maxQueued}); past that they are dropped and the drop is logged
       (wokkel queues without bound);
     - a refused handshake is logged and retried with back-off instead of
       stopping the service;
     - the reactor is the one given (testable with a fake one).
    """

    def __init__(self, host, port, domain, secret, maxQueued, reactor=None):
        factory = ComponentFactory(domain, secret, "%s:%d" % (host, port))
        wcomponent.StreamManager.__init__(self, factory, reactor)
        factory.clock = self._reactor
        self.host, self.port, self.domain = host, port, domain
        self.maxQueued = maxQueued
        self.dropped = 0

    def _connected(self, xs):
        log.msg("Connected to %s:%d, authenticating as %s" % (
            self.host, self.port, self.domain))
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
            self.xmlstream.send(obj)
        elif len(self._packetQueue) < self.maxQueued:
            self._packetQueue.append(obj)
        else:
            if not self.dropped:
                log.msg("Outgoing queue full (%d stanzas) while offline: "
                        "dropping" % (self.maxQueued,))
            self.dropped += 1

    def _getConnection(self):
        return self._reactor.connectTCP(self.host, self.port, self.factory)


class _Startup(service.Service):
    """
    Start the store, then the channel logic, then connect to the XMPP
    server; on the way down, disconnect first and let the store finish its
    writes (archive entries already reflected are committed, pending ones
    complete) before the process exits.

    A store that cannot start (database unreachable, failed migration) is
    logged and the reactor stopped: running without storage would accept
    messages it cannot keep.
    """

    def __init__(self, store, channels, component, reactor):
        self.store = store
        self.channels = channels
        self.component = component
        self.reactor = reactor
        self._ready = None

    def startService(self):
        service.Service.startService(self)
        self._ready = d = defer.maybeDeferred(self.store.start)
        d.addCallback(lambda _: log.msg("Storage %r ready" % (
            self.store.name,)))
        d.addCallback(lambda _: self.channels.start())
        d.addCallback(lambda _: self.component.startService())
        d.addErrback(self._failed)

    def _failed(self, failure):
        log.msg("MIX service start-up failed (%s store): %s: %s; stopping" % (
            self.store.name, failure.type.__name__,
            failure.getErrorMessage().strip().replace("\n", " ")))
        if self.reactor.running:
            self.reactor.stop()

    def stopService(self):
        service.Service.stopService(self)
        d = defer.maybeDeferred(self.component.stopService) \
            if self.component.running else defer.succeed(None)
        d.addBoth(lambda _: self.store.stop())
        d.addErrback(log.err, "Could not stop the store cleanly")
        return d


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
    channels, handlers = makeHandlers(settings, store, reactor,
                                      component.send)
    for handler in handlers:
        handler.setHandlerParent(component)
    # The component is started by _Startup once the store is ready, so it is
    # not a child of top: a MultiService would connect it at once.
    _Startup(store, channels, component, reactor).setServiceParent(top)
    top.channels = channels
    top.component = component
    return top
