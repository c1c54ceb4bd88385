"""
Presence in channels (MIX-PRESENCE, XEP-0403; XEP-0369 §6.1.7–6.2):
the presence node, distribution, resync, start-up probes and ghosts.

Plain Python over the channel logic and the store.  The presence node
holds one item per online client (NODE-8, PRES-12), kept in the store
(L{mixtwisted.interfaces.IPresenceStorage}) with the item payload already
serialized.  What is XML -- building an item from a client's presence,
putting the channel's nick and C{<mix/>} into it, sending presence, probes
and disco queries -- is done by an I{output} the protocol layer provides
(L{mixtwisted.handlers.presence.PresenceOutput}), with these methods:

 - C{render(xml, nick, jid)}: the item payload C{xml} with the channel's
   part (XEP-0172 nick and XEP-0403 C{<mix/>}) for C{nick} and the real
   C{jid} (or C{None}) instead of the one it has;
 - C{nickOf(xml)}: the nick an item payload carries, or C{None};
 - C{presence(fromJID, xml, recipients, unavailable=False)}: send the
   presence of an item (or its C{unavailable}) to bare JIDs;
 - C{probe(fromJID, to)}: send a presence probe;
 - C{discoInfo(fromJID, to, iqId)}: send a disco#info query.

The real JID in C{<mix><jid/></mix>} is decided here, at every read and
distribution, from the channel's mode and the user's preference (VIS-3,
X403-3, AMB-23): a stored payload is never sent or read as stored, so a
change of mode or preference can never expose an old C{<jid/>}.  It goes
only to recipients whose role is participant or higher (VIS-5): a
non-participant who may read the presence node (C{Presence Node
Subscription} allowed or anyone) gets the same item without C{<jid/>}.
"""

import secrets
from dataclasses import dataclass

from twisted.internet import defer
from twisted.python import log

from mixtwisted import access
from mixtwisted import namespaces as ns
from mixtwisted import nodes as views
from mixtwisted.nicks import generateNick, nickKey
from mixtwisted.records import PresenceRecord
from mixtwisted.serial import KeyedSerializer
from mixtwisted.throttle import Throttle

#: Seconds an item kept from before a restart may wait for its client's
#: answer to the start-up probe before it is removed (PRES-8, AMB-47).
GRACE_PERIOD = 120.0

#: Seconds without a presence change after which a client is asked, with
#: disco#info, whether it is still there (PRES-9).
GHOST_AFTER = 3600.0

#: Seconds to wait for the answer to that query.
GHOST_TIMEOUT = 30.0

#: Seconds after a copy to a client's full JID bounced with
#: C{remote-server-not-found} or C{remote-server-timeout} (its server
#: briefly unreachable) before the client is asked whether it is there
#: (issue 6, D-65): the path gets time to come back.
BOUNCE_CHECK_AFTER = 60.0

#: Presence stanzas a real full JID may send per second on average, and in
#: a burst (issue 4 limits).
RATE = 5.0
BURST = 20.0

#: The same per bare JID (all its resources together) and per domain (all
#: its accounts together), so that rotating resources or accounts does not
#: escape the limit (issue 4).  The domain's is generous: after a restart
#: every client of a large server answers the start-up probe at once.
BARE_RATE = 10.0
BARE_BURST = 40.0
DOMAIN_RATE = 100.0
DOMAIN_BURST = 500.0

#: Dumps of the current presence (subscriptions, resyncs) a bare JID may
#: get per second, and in a burst: a dump is one stanza per item.
DUMP_RATE = 2.0
DUMP_BURST = 5.0

#: Presence items one bare JID may have in a channel (clients).
MAX_CLIENTS = 10

#: Open Presence guests (bare JIDs) a channel takes, in all and per domain.
MAX_GUESTS = 1000
MAX_GUESTS_PER_DOMAIN = 50

#: A throttled sender (or a full channel) is logged at most once per this
#: many seconds.
THROTTLE_LOG_INTERVAL = 60.0

_NOT_SHARE = "not share"

_NOBODY = {}


@dataclass
class _Check:
    """
    A disco#info query in flight to a client suspected to be a ghost.

    @ivar key: C{(channel, proxyId, resource)} of the item.
    @ivar jid: the real full JID asked; only an answer from it counts.
    @ivar channelJID: the channel JID that asked; the answer must be
        addressed to it.
    @ivar updated: the item's C{updated} when asked: a presence change
        meanwhile proves the client alive.
    """
    key: tuple
    jid: str
    channelJID: str
    updated: float
    timeout: object


def _key(record):
    return (record.channel, record.proxyId, record.resource)


class Presence:
    """
    The presence of the clients of a L{mixtwisted.channels.ChannelService}.

    @param channels: the channel logic.
    @param clock: the reactor (C{callLater}, C{seconds}), a C{Clock} in
        tests.
    @ivar output: the protocol layer's output (see the module
        docstring); set by L{mixtwisted.handlers.presence.PresenceHandler}.
    """

    gracePeriod = GRACE_PERIOD
    ghostAfter = GHOST_AFTER
    ghostTimeout = GHOST_TIMEOUT
    bounceCheckAfter = BOUNCE_CHECK_AFTER
    maxClients = MAX_CLIENTS
    maxGuests = MAX_GUESTS
    maxGuestsPerDomain = MAX_GUESTS_PER_DOMAIN

    def __init__(self, channels, clock, rate=RATE, burst=BURST):
        self.channels = channels
        self.store = channels.store
        self.clock = clock
        self.output = None
        #: The L{mixtwisted.routing.Routing} addressing copies (bare or
        #: full JIDs), or C{None}: to bare JIDs.
        self.routing = None
        #: Channel name -> bare JID -> the real full JIDs of its online
        #: clients (the presence node's items, mirrored in memory for the
        #: fan-out: L{addresses}).
        self.clients = {}
        #: Callable C{(channel name, recipients)} returning the recipients
        #: presence may be sent to now; the others are held after a failed
        #: delivery and get the current presence when released
        #: (L{mixtwisted.delivery.Deliveries.withoutHeld}).  C{None}: all.
        self.holding = None
        self.throttle = Throttle(clock, rate, burst)
        self.bareThrottle = Throttle(clock, BARE_RATE, BARE_BURST)
        self.domainThrottle = Throttle(clock, DOMAIN_RATE, DOMAIN_BURST)
        self.dumpThrottle = Throttle(clock, DUMP_RATE, DUMP_BURST)
        self._throttleLogged = {}
        # (channel, proxyId, resource) -> DelayedCall of the ghost check
        self._ghostTimers = {}
        # iq id -> _Check; (channel, proxyId, resource) -> iq id
        self._pending = {}
        self._checking = {}
        self._graceCall = None
        #: The presence stanzas of one client (channel, real full JID) are
        #: handled one at a time, in arrival order; what changes the
        #: presence node then runs as a change of the channel (D-46).
        #: Client keys are always taken before the channel's key.
        self._clients = KeyedSerializer()
        channels.destructionHooks.append(self._destroying)
        channels.removalHooks.append(self._removed)
        channels.leaveHooks.append(self._left)
        channels.participantHooks.append(self.participantChanged)
        channels.subscriptionHooks.append(self._subscribed)
        channels.configHooks.append(self._configChanged)
        channels.nodeReaders[ns.NODE_PRESENCE] = self.currentItems

    @property
    def domain(self):
        return self.channels.domain

    # Online clients and addressing (issue 6, L{mixtwisted.routing})

    def _online(self, record):
        """
        Index the client of an item as online in its channel.
        """
        bare = record.jid.partition("/")[0]
        clients = self.clients.setdefault(record.channel, {}).setdefault(
            bare, [])
        if record.jid not in clients:
            clients.append(record.jid)

    def _offline(self, record):
        """
        Forget the client of an item removed.
        """
        byBare = self.clients.get(record.channel)
        if not byBare:
            return
        bare = record.jid.partition("/")[0]
        clients = byBare.get(bare)
        if clients and record.jid in clients:
            clients.remove(record.jid)
            if not clients:
                del byBare[bare]
        if not byBare:
            del self.clients[record.channel]

    @defer.inlineCallbacks
    def _reindex(self, name):
        """
        Under the channel's key (a change of the channel, D-46: no item is
        stored or removed between the read and the index): index the
        clients of a channel from its stored items.

        @return: the items.
        """
        records = yield self.store.listPresence(name)
        self.clients.pop(name, None)
        for record in records:
            self._online(record)
        return records

    def addresses(self, name, recipients):
        """
        Return the addresses of the copies for C{recipients} (bare JIDs)
        in channel C{name}: bare JIDs, or the full JIDs of their online
        clients, as L{routing} decides per recipient.
        """
        routing = self.routing
        if routing is None or routing.allBare:
            return recipients
        return routing.addresses(recipients,
                                 self.clients.get(name, _NOBODY))

    # Rate limit

    def admit(self, sender):
        """
        Tell whether a presence from C{sender} (a L{JID}) may be handled
        now: within the rate of its full JID, of its bare JID and of its
        domain.  Past any of them it is dropped, and the drop is logged at
        most once a minute per sender.
        """
        bare = sender.userhost()
        if (sender.resource is None or self.throttle.allow(sender.full())) \
                and self.bareThrottle.allow(bare) and \
                self.domainThrottle.allow(sender.host):
            return True
        self._logRarely(bare, "Presence from %s over the rate limit: "
                        "dropping" % (bare,))
        return False

    def _logRarely(self, key, message):
        """
        Log C{message} unless C{key} was logged less than
        L{THROTTLE_LOG_INTERVAL} ago.
        """
        now = self.clock.seconds()
        last = self._throttleLogged.get(key)
        if last is None or now - last >= THROTTLE_LOG_INTERVAL:
            if len(self._throttleLogged) > 10000:
                self._throttleLogged.clear()
            self._throttleLogged[key] = now
            log.msg(message)

    # What a client's item shows

    @staticmethod
    def _hasNode(channel):
        return ns.NODE_PRESENCE in access.presentNodes(channel)

    @staticmethod
    def shownJID(channel, participant, realJID):
        """
        Return C{realJID} when the participant's JID is visible to the
        other participants (VIS-3), else C{None} (X403-3, AMB-23): in a
        jid-visible channel, and in a jid-maybe-visible one when the
        participant shares it.  A non-participant's (C{participant} is
        C{None}, Open Presence) JID is never shown.
        """
        if participant is None or not views.jidVisible(channel, participant):
            return None
        return realJID

    def _fresh(self, channel, record, participant, seesJIDs=True):
        """
        Return the payload of an item as it is to be shown now: the
        participant's current nick, the real JID only when visible (VIS-3)
        and C{seesJIDs} (the recipient is a participant or higher, VIS-5).
        """
        nick = participant.nick if participant is not None else None
        if nick is None:
            nick = self.output.nickOf(record.xml)
        jid = None
        if seesJIDs:
            jid = self.shownJID(channel, participant, record.jid)
        return self.output.render(record.xml, nick, jid)

    def _privileged(self, channel):
        """
        The bare JIDs that see real JIDs whether participants or not:
        owners, administrators, service operators.
        """
        return self.channels.operators.union(
            channel.config.get("Owner", ()),
            channel.config.get("Administrator", ()))

    @defer.inlineCallbacks
    def _split(self, channel, recipients):
        """
        Split bare JIDs into those whose role is participant or higher,
        who may see a shown C{<jid/>} (VIS-3, VIS-5, X403-3), and the
        others (non-participants reading the presence node).  One read of
        the participants per distribution.

        @return: C{(seeing, blind)} lists.
        """
        privileged = self._privileged(channel)
        participants = {p.jid for p in
                        (yield self.store.listParticipants(channel.name))}
        seeing, blind = [], []
        for bare in recipients:
            if bare in participants or bare in privileged:
                seeing.append(bare)
            else:
                blind.append(bare)
        return seeing, blind

    @defer.inlineCallbacks
    def _seesJIDs(self, channel, bare, role=None):
        """
        Tell whether C{bare} may see shown real JIDs: its role is
        participant or higher (VIS-5).
        """
        if role is None:
            if bare in self._privileged(channel):
                return True
            role = access.PARTICIPANT if (yield self.store.getParticipant(
                channel.name, bare)) is not None else access.ANYONE
        return role >= access.PARTICIPANT

    @staticmethod
    def _sharing(channel, participant):
        return participant.prefs.get("Presence") != _NOT_SHARE or \
            bool(channel.config.get("Participants Must Provide Presence"))

    # Client presence

    def available(self, sender, name, payload):
        """
        Create or update the item of a client (PRES-1, PRES-3, PRES-12)
        and distribute it to the presence node's subscribers.

        Ignored, silently (PRES-2): a channel without presence node; a
        non-participant unless the channel has C{Open Presence} and the
        sender is Allowed; a participant whose C{Presence} preference is
        C{not share}.

        The checks, the write and the distribution run as a change of the
        channel (D-46): a leave or ban is never undone by a presence that
        was under way, and its C{unavailable} is never overtaken by that
        presence.  Presence the channel ignores anyway is told apart
        before, from cached reads, and never waits for the channel.

        @param sender: the client's real full L{JID}.
        @param payload: callable C{(nick, jid)} returning the item payload
            (serialized) for the client's presence.
        """
        if not sender.user or sender.host == self.domain:
            return defer.succeed(None)
        return self._clients.run(self._clientKey(name, sender),
                                 self._availableClient, sender, name,
                                 payload)

    @staticmethod
    def _clientKey(name, sender):
        return "%s %s" % (name, sender.full())

    @defer.inlineCallbacks
    def _availableClient(self, sender, name, payload):
        # A first look, outside the channel's queue: what would be ignored
        # in any case (no channel, no presence node, a non-participant of
        # a channel without Open Presence) is dropped here.
        channel = yield self.store.getChannel(name)
        if channel is None or not self._hasNode(channel):
            return
        if not channel.config.get("Open Presence") and (
                yield self.store.getParticipant(
                    name, sender.userhost())) is None:
            return
        yield self.channels.serial.run(name, self._available, sender, name,
                                       payload)

    @defer.inlineCallbacks
    def _available(self, sender, name, payload):
        """
        L{available} under the channel's key: everything is read again.
        """
        channel = yield self.store.getChannel(name)
        if channel is None or not self._hasNode(channel):
            return
        bare = sender.userhost()
        realJID = sender.full()
        participant = yield self.store.getParticipant(name, bare)
        if participant is None:
            if not channel.config.get("Open Presence"):
                return
            role = access.roleOf(channel, bare, sender.host, False,
                                 self.channels.operators)
            if role < access.ALLOWED:
                return
            proxyId = yield self.store.proxyIdFor(name, bare)
        else:
            if not self._sharing(channel, participant):
                return
            proxyId = participant.proxyId
        records = None
        resource = yield self.store.clientResource(name, realJID)
        if resource is None or proxyId is None or (
                yield self.store.getPresence(name, proxyId, resource)) is None:
            # A new client: within the limits (issue 4), else ignored
            # silently (ERR-4).
            records = yield self.store.listPresence(name)
            if not (yield self._roomFor(channel, sender, proxyId,
                                        participant is None, records)):
                return
        if participant is None:
            if proxyId is None:
                proxyId = yield self.channels.proxyIdFor(name, bare)
            nick = yield self._guestNick(name, proxyId, records)
        else:
            # A nick before presence is shared (NICK-5, AMB-21).
            nick = yield self.channels.ensureNick(channel, participant)
        if resource is None:
            resource = yield self.channels.clientResource(
                name, proxyId, realJID)
        xml = payload(nick, self.shownJID(channel, participant, realJID))
        record = PresenceRecord(
            channel=name, proxyId=proxyId, resource=resource, jid=realJID,
            xml=xml, updated=self.clock.seconds(), confirmed=True)
        yield self.store.setPresence(record)
        self._online(record)
        self._watch(record)
        yield self._broadcast(channel, record, participant)
        if records is not None and self.routing is not None and \
                self.routing.toFullJIDs(bare):
            # A new client of a user reached at full JIDs: the current
            # presence goes to it (a MUC's occupant list on entering).
            yield self._dumpToClient(channel, record, participant)

    @defer.inlineCallbacks
    def _dumpToClient(self, channel, record, participant):
        """
        Send a client that just became known online (and so reachable at
        its full JID) one presence per other item, when its user is
        subscribed to the presence node (JOIN-10, PRES-6 by full JID).
        """
        bare = record.jid.partition("/")[0]
        if ns.NODE_PRESENCE not in (
                yield self.store.getSubscriptions(channel.name, bare)):
            return
        own = views.fullProxyJID(record, self.domain)
        role = access.PARTICIPANT if participant is not None else None
        yield self.sendCurrent(channel, bare, role, to=[record.jid],
                               skip=own)

    @defer.inlineCallbacks
    def _roomFor(self, channel, sender, proxyId, guest, records):
        """
        Tell whether a new client of C{sender}'s bare JID may get an item:
        at most L{maxClients} items per bare JID; an Open Presence guest
        not present yet only while the channel has fewer than
        L{maxGuests} guests, and fewer than L{maxGuestsPerDomain} from its
        domain (issue 4).  A refusal is logged rarely.
        """
        name = channel.name
        own = sum(1 for r in records if r.proxyId == proxyId)
        if proxyId is not None and own >= self.maxClients:
            self._logRarely(("clients", name, proxyId),
                            "Presence of a client in %s over the limit of "
                            "clients per user: ignoring" % (name,))
            return False
        if not guest or own:
            return True
        members = {p.proxyId for p in
                   (yield self.store.listParticipants(name))}
        guests = {}
        for r in records:
            if r.proxyId not in members:
                guests[r.proxyId] = r.jid.partition("/")[0].partition(
                    "@")[2]
        fromDomain = sum(1 for host in guests.values() if host == sender.host)
        if len(guests) >= self.maxGuests or \
                fromDomain >= self.maxGuestsPerDomain:
            self._logRarely(("guests", name),
                            "Presence of a guest in %s over the limit of "
                            "guests: ignoring" % (name,))
            return False
        return True

    @defer.inlineCallbacks
    def _guestNick(self, name, proxyId, records=None):
        """
        The nick of a non-participant registering presence (AMB-43): the
        one its other clients show, or a generated one no participant,
        registrant or other guest holds.
        """
        if records is None:
            records = yield self.store.listPresence(name)
        taken = set()
        for record in records:
            nick = self.output.nickOf(record.xml)
            if record.proxyId == proxyId:
                if nick is not None:
                    return nick
            elif nick is not None:
                taken.add(nickKey(nick))
        while True:
            nick = self._generateNick()
            key = nickKey(nick)
            if key in taken:
                continue
            if (yield self.store.getParticipantByNick(name, key)) is None \
                    and (yield self.store.nickHolder(key)) is None:
                return nick

    #: How guest nicks are made (replaced in tests).
    _generateNick = staticmethod(generateNick)

    @defer.inlineCallbacks
    def _recordOf(self, name, sender):
        """
        The item of the client C{sender} (a full L{JID}), or C{None}.
        """
        resource = yield self.store.clientResource(name, sender.full())
        if resource is None:
            return None
        proxyId = yield self.store.proxyIdFor(name, sender.userhost())
        if proxyId is None:
            return None
        return (yield self.store.getPresence(name, proxyId, resource))

    def unavailable(self, sender, name):
        """
        A client went offline (PRES-5), or its server answered with an
        error (PRES-9): remove its item and send C{unavailable} to the
        presence node's subscribers.  No item: nothing happens.

        Whether the client has an item is looked up outside the channel's
        queue (after the client's earlier presence, in arrival order): a
        client without one, the common case, never waits for the channel.
        The removal and its distribution run as a change of the channel
        (D-46).
        """
        return self._clients.run(self._clientKey(name, sender),
                                 self._unavailableClient, sender, name)

    @defer.inlineCallbacks
    def _unavailableClient(self, sender, name):
        record = yield self._recordOf(name, sender)
        if record is None:
            return
        yield self.channels.serial.run(name, self._unavailable, record)

    @defer.inlineCallbacks
    def _unavailable(self, record):
        """
        Under the channel's key: remove the item if it is still there (its
        channel, proxy id and resource never change), with C{unavailable}.
        """
        channel = yield self.store.getChannel(record.channel)
        if channel is None:
            return
        yield self._removeRecord(channel, record)

    @defer.inlineCallbacks
    def _removeRecord(self, channel, record, participant=False):
        """
        Remove an item and distribute its C{unavailable} (never as a
        PubSub retraction, AMB-18).

        @param participant: the participant record for rendering, or
            C{None} for none; by default looked up.
        """
        removed = yield self.store.removePresence(
            record.channel, record.proxyId, record.resource)
        self._unwatch(_key(record))
        try:
            if removed is None:
                return
            if participant is False:
                participant = yield self.store.getParticipantByProxy(
                    record.channel, record.proxyId)
            # Addressed while the client is still indexed online: reached
            # at full JIDs (issue 6), it gets its own unavailable too.
            yield self._broadcast(channel, removed, participant,
                                  unavailable=True)
        finally:
            self._offline(record)

    @defer.inlineCallbacks
    def _broadcast(self, channel, record, participant, unavailable=False):
        """
        Send the presence of an item to the bare JID of every presence
        node subscriber (PRES-3, PRES-14): presence stanzas, never PubSub
        events (PRES-4).
        """
        recipients = yield self.store.getSubscribers(channel.name,
                                                     ns.NODE_PRESENCE)
        if recipients:
            yield self._distribute(channel, [(record, participant)],
                                   recipients, unavailable)

    @defer.inlineCallbacks
    def _distribute(self, channel, entries, recipients, unavailable=False):
        """
        Send the presence of items to C{recipients} (bare JIDs): an item
        whose real JID is shown (VIS-3) goes with C{<jid/>} to those whose
        role is participant or higher and without it to the others (VIS-5,
        X403-3); the recipients are split once, and only when needed.

        @param entries: C{(record, participant or None)} pairs.
        """
        if self.holding is not None:
            recipients = self.holding(channel.name, recipients)
            if not recipients:
                return
        split = routed = None
        for record, participant in entries:
            fromJID = views.fullProxyJID(record, self.domain)
            blind = self._fresh(channel, record, participant, False)
            if self.shownJID(channel, participant, record.jid) is None:
                if routed is None:
                    routed = self.addresses(channel.name, recipients)
                if routed:
                    self.output.presence(fromJID, blind, routed, unavailable)
                continue
            if split is None:
                # Split on bare JIDs (roles), then addressed.
                seeing, notSeeing = yield self._split(channel, recipients)
                split = (self.addresses(channel.name, seeing),
                         self.addresses(channel.name, notSeeing))
            if split[0]:
                self.output.presence(
                    fromJID, self._fresh(channel, record, participant),
                    split[0], unavailable)
            if split[1]:
                self.output.presence(fromJID, blind, split[1], unavailable)

    # Resync and reads

    @defer.inlineCallbacks
    def resync(self, requester, name):
        """
        Presence from a bare JID (or a probe) asks for the channel's
        presence (PRES-6, AMB-46): send that bare JID one presence per
        item, when it may read the presence node; otherwise nothing.
        """
        channel = yield self.store.getChannel(name)
        if channel is None or not self._hasNode(channel):
            return
        role = yield self.channels.roleOf(channel, requester)
        if not access.mayRead(channel, ns.NODE_PRESENCE, role):
            return
        bare = requester.userhost()
        to = None
        if requester.resource is not None and self.routing is not None \
                and self.routing.toFullJIDs(bare):
            # A client reached at its full JID asks (a probe): it gets
            # the answer, whether it has an item or not.
            to = [requester.full()]
        yield self.sendCurrent(channel, bare, role, to=to)

    @defer.inlineCallbacks
    def sendCurrent(self, channel, bare, role=None, to=None, skip=None):
        """
        Send C{bare} one presence per current item (JOIN-10, PRES-6,
        PRES-7), C{<jid/>} only if C{bare} is a participant or higher
        (VIS-5).  At most L{DUMP_RATE} dumps a second per bare JID (bursts
        of L{DUMP_BURST}); past that nothing is sent.

        @param role: C{bare}'s role, or C{None} to look it up.
        @param to: the addresses of the copies (full JIDs of C{bare}'s
            clients), or C{None} for those L{addresses} gives.
        @param skip: the full proxy JID of an item not to send.
        """
        if self.holding is not None and \
                not self.holding(channel.name, [bare]):
            # Held after a failed delivery: it gets the dump on release.
            return
        if to is None:
            to = self.addresses(channel.name, [bare])
        if not to:
            # Reached at full JIDs and no client online: nothing live.
            return
        if not self.dumpThrottle.allow(bare):
            self._logRarely(("dump", bare), "Presence dumps to %s over the "
                            "rate limit: dropping" % (bare,))
            return
        sees = yield self._seesJIDs(channel, bare, role)
        for item in (yield self.currentItems(
                channel, access.PARTICIPANT if sees else access.ANYONE)):
            if item.id != skip:
                self.output.presence(item.id, item.payload.xml, to)

    @defer.inlineCallbacks
    def currentItems(self, channel, role=access.ANYONE):
        """
        Return the presence node's items as they are shown now to a reader
        of role C{role} (L{mixtwisted.nodes.NodeItem}s, oldest first): what
        an C{items} request reads (CHAN-7) and a resync sends; C{<jid/>}
        only for a participant or higher (VIS-3, VIS-5, X403-3).
        """
        records = yield self.store.listPresence(channel.name)
        if not records:
            return []
        participants = {p.proxyId: p for p in
                        (yield self.store.listParticipants(channel.name))}
        sees = role >= access.PARTICIPANT
        return [views.presenceItem(
                    record, self.domain, self._fresh(
                        channel, record, participants.get(record.proxyId),
                        sees))
                for record in records]

    # Hooks into the channel logic

    def _subscribed(self, channel, bare, nodes):
        """
        Newly subscribing to the presence node (join, update-subscription,
        PubSub) brings the current presence (JOIN-10, PRES-7) -- after the
        response to the request, since the user's server adds the
        channel to the roster on a join's result and might drop presence
        that comes before it.
        """
        routing = self.routing
        if routing is not None and not routing.allBare:
            # Ask the user's domain now, so that its answer is in before
            # the first message to it (issue 6).
            routing.modeOf(bare)
        if ns.NODE_PRESENCE in nodes:
            self.clock.callLater(0, self._dump, channel.name, bare)

    def _dump(self, name, bare):
        d = self._dumpNow(name, bare)
        d.addErrback(log.err, "Could not send the current presence")
        return d

    @defer.inlineCallbacks
    def _dumpNow(self, name, bare):
        channel = yield self.store.getChannel(name)
        if channel is None or not self._hasNode(channel) or \
                ns.NODE_PRESENCE not in (
                    yield self.store.getSubscriptions(name, bare)):
            # Gone, or unsubscribed meanwhile.
            return
        yield self.sendCurrent(channel, bare)

    @defer.inlineCallbacks
    def _itemsOf(self, name, proxyId):
        return [r for r in (yield self.store.listPresence(name))
                if r.proxyId == proxyId]

    @defer.inlineCallbacks
    def _left(self, channel, bare, participant):
        """
        Leave, ban, eviction: every item of the user's clients goes, with
        an C{unavailable} each (JOIN-20, X403-6).  A non-participant's
        (Open Presence) items go too.
        """
        if participant is not None:
            proxyId = participant.proxyId
        else:
            proxyId = yield self.store.proxyIdFor(channel.name, bare)
            if proxyId is None:
                return
        for record in (yield self._itemsOf(channel.name, proxyId)):
            yield self._removeRecord(channel, record, participant)

    @defer.inlineCallbacks
    def participantChanged(self, channel, participant):
        """
        A nick or preference changed: the user's clients' presence is
        distributed again as it now shows (NICK-6: same full proxy JID,
        new nick; VIS-3: C{<jid/>} following the visibility preference);
        a user who stopped sharing presence loses its items.
        """
        records = yield self._itemsOf(channel.name, participant.proxyId)
        if not records:
            return
        if not self._sharing(channel, participant):
            for record in records:
                yield self._removeRecord(channel, record, participant)
            return
        for record in records:
            xml = self._fresh(channel, record, participant)
            if xml == record.xml:
                continue
            record.xml = xml
            yield self.store.setPresence(record)
            yield self._broadcast(channel, record, participant)

    @defer.inlineCallbacks
    def _destroying(self, name):
        """
        Before a channel goes: C{unavailable} for every item to the
        presence subscribers (CRE-10).
        """
        channel = yield self.store.getChannel(name)
        if channel is None:
            return
        records = yield self.store.listPresence(name)
        if not records:
            return
        for record in records:
            self._unwatch(_key(record))
        yield self._unavailableAll(channel, records)

    @defer.inlineCallbacks
    def _unavailableAll(self, channel, records):
        """
        Send C{unavailable} for C{records} to the presence subscribers.
        """
        recipients = yield self.store.getSubscribers(channel.name,
                                                     ns.NODE_PRESENCE)
        if not recipients:
            return
        participants = {p.proxyId: p for p in
                        (yield self.store.listParticipants(channel.name))}
        yield self._distribute(
            channel, [(r, participants.get(r.proxyId)) for r in records],
            recipients, True)

    @defer.inlineCallbacks
    def _configChanged(self, old, updated):
        """
        The presence node taken out of C{Nodes Present} loses its items:
        C{unavailable} for each to the node's subscribers (before their
        subscriptions are pruned), the items deleted, their ghost timers
        and checks cancelled (ADM-5, PRES-5).
        """
        if not self._hasNode(old) or self._hasNode(updated):
            return
        name = updated.name
        records = yield self.store.listPresence(name)
        if not records:
            return
        for record in records:
            yield self.store.removePresence(name, record.proxyId,
                                            record.resource)
            self._unwatch(_key(record))
        try:
            # Addressed before the clients are un-indexed (issue 6).
            yield self._unavailableAll(updated, records)
        finally:
            for record in records:
                self._offline(record)

    def _removed(self, name):
        self.clients.pop(name, None)
        for key in [k for k in self._ghostTimers if k[0] == name]:
            self._unwatch(key)
        for key in [k for k in self._checking if k[0] == name]:
            self._cancelCheck(key)

    # Start-up (PRES-8, AMB-47)

    @defer.inlineCallbacks
    def online(self):
        """
        Run each time the component is online (after start-up, and after
        every reconnection, when presence changes may have been missed):
        mark every stored item unconfirmed, probe every participant who
        shares presence (never those who do not, PREF-5, X403-8), and
        remove the items not refreshed within L{gracePeriod} of the
        probes (PRES-8, AMB-47).

        The probe goes to the bare JID, and only a server that has the
        channel in the user's roster answers it (RFC 6121 §4.3): with MIX
        (PAM) it does, without it -- the user joined directly, the user's
        clients reached at full JIDs (issue 6) -- it does not.  So the
        items of users not known to be reached at bare JIDs are checked
        at once, each with a ghost check (disco#info from the channel JID
        to the client's real full JID, PRES-9): a result confirms the
        item, an error or no answer within L{ghostTimeout} removes it.
        """
        if self._graceCall is not None and self._graceCall.active():
            self._graceCall.cancel()
        self._graceCall = None
        yield self.store.markPresenceUnconfirmed()
        kept = []
        routing = self.routing
        if routing is not None and routing.allBare:
            routing = None
        for channel in (yield self.store.listChannels()):
            name = channel.name
            # Kept until confirmed or expired: their clients count as
            # online meanwhile (issue 6).
            records = yield self.channels.serial.run(name, self._reindex,
                                                     name)
            if records:
                kept.append(name)
            if not self._hasNode(channel) or self.output is None:
                continue
            channelJID = self.channels.channelJID(name)
            for participant in (yield self.store.listParticipants(name)):
                if self._sharing(channel, participant):
                    self.output.probe(channelJID, participant.jid)
            if routing is None:
                continue
            for record in records:
                if routing.toFullJIDs(record.jid.partition("/")[0]):
                    key = _key(record)
                    self._cancelCheck(key)
                    self._ask(record, key)
        if kept:
            self._graceCall = self.clock.callLater(
                self.gracePeriod, self._expireUnconfirmed, kept)

    def _expireUnconfirmed(self, names):
        self._graceCall = None
        d = self._expire(names)
        d.addErrback(log.err, "Could not remove unconfirmed presence")
        return d

    @defer.inlineCallbacks
    def _expire(self, names):
        for name in names:
            # A change of the channel (D-46): a client confirming its item
            # meanwhile keeps it.
            yield self.channels.serial.run(name, self._expireChannel, name)

    @defer.inlineCallbacks
    def _expireChannel(self, name):
        channel = yield self.store.getChannel(name)
        if channel is None:
            return
        for record in (yield self.store.listPresence(name)):
            if not record.confirmed:
                yield self._removeRecord(channel, record)

    # Ghosts (PRES-9)

    def _watch(self, record):
        """
        (Re)start the ghost timer of a client that just sent presence.
        """
        key = _key(record)
        self._cancelCheck(key)
        call = self._ghostTimers.get(key)
        if call is not None and call.active():
            call.reset(self.ghostAfter)
        else:
            self._ghostTimers[key] = self.clock.callLater(
                self.ghostAfter, self._checkGhost, key)

    def _unwatch(self, key):
        call = self._ghostTimers.pop(key, None)
        if call is not None and call.active():
            call.cancel()
        self._cancelCheck(key)

    def _cancelCheck(self, key):
        iqId = self._checking.pop(key, None)
        if iqId is None:
            return
        check = self._pending.pop(iqId, None)
        if check is not None and check.timeout.active():
            check.timeout.cancel()

    def _checkGhost(self, key):
        self._ghostTimers.pop(key, None)
        d = self.store.getPresence(*key)
        d.addCallback(self._ask, key)
        d.addErrback(log.err, "Could not check a presence item")
        return d

    def _ask(self, record, key):
        """
        Ask a client that has not changed its presence for L{ghostAfter}
        whether it is there: disco#info from the channel JID to its real
        full JID, with an unguessable id.
        """
        if record is None or key in self._checking:
            return
        iqId = secrets.token_hex(16)
        channelJID = self.channels.channelJID(record.channel)
        timeout = self.clock.callLater(self.ghostTimeout, self._answered,
                                       iqId, False)
        self._pending[iqId] = _Check(key, record.jid, channelJID,
                                     record.updated, timeout)
        self._checking[key] = iqId
        self.output.discoInfo(channelJID, record.jid, iqId)

    def iqResponse(self, iqId, sender, recipient, isError):
        """
        Take the answer to a ghost check: only with the id we sent, from
        the real full JID we asked, to the channel JID that asked.
        Anything else is not ours and is left to others.

        @param sender, recipient: full JID strings, prepared.
        @return: C{True} when the response was ours.
        """
        check = self._pending.get(iqId)
        if check is None or sender != check.jid or \
                recipient != check.channelJID:
            return False
        check.timeout.cancel()
        self._answered(iqId, not isError)
        return True

    def _answered(self, iqId, alive):
        """
        The ghost check C{iqId} was answered (C{alive}: with a result) or
        failed (an error, or no answer in L{ghostTimeout}).
        """
        check = self._pending.pop(iqId, None)
        if check is None:
            return None
        if self._checking.get(check.key) == iqId:
            del self._checking[check.key]
        if alive:
            if check.key not in self._ghostTimers:
                self._ghostTimers[check.key] = self.clock.callLater(
                    self.ghostAfter, self._checkGhost, check.key)
            # The client is there: its item is confirmed (kept past the
            # start-up grace period, PRES-8).
            d = self.channels.serial.run(check.key[0], self._confirm, check)
            d.addErrback(log.err, "Could not confirm a presence item")
            return d
        d = self._ghost(check)
        d.addErrback(log.err, "Could not remove a ghost")
        return d

    @defer.inlineCallbacks
    def _confirm(self, check):
        """
        Under the channel's key: mark the item of a client that answered
        its check confirmed.
        """
        record = yield self.store.getPresence(*check.key)
        if record is None or record.confirmed or record.jid != check.jid:
            return
        record.confirmed = True
        yield self.store.setPresence(record)

    def bounced(self, sender, name):
        """
        A copy sent to a client's full JID (issue 6) bounced with
        C{remote-server-not-found} or C{remote-server-timeout}: its server
        may be briefly unreachable, the client not gone.  Its item, if
        any, gets a ghost check (PRES-9) after L{bounceCheckAfter} instead
        of being removed at once (D-65).

        @param sender: the client's real full L{JID}.
        """
        return self._clients.run(self._clientKey(name, sender),
                                 self._bouncedClient, sender, name)

    @defer.inlineCallbacks
    def _bouncedClient(self, sender, name):
        record = yield self._recordOf(name, sender)
        if record is None:
            return
        key = _key(record)
        if key in self._checking:
            return
        call = self._ghostTimers.get(key)
        if call is not None and call.active():
            if call.getTime() - self.clock.seconds() > self.bounceCheckAfter:
                call.reset(self.bounceCheckAfter)
        else:
            self._ghostTimers[key] = self.clock.callLater(
                self.bounceCheckAfter, self._checkGhost, key)

    def _ghost(self, check):
        # A change of the channel (D-46): a presence of the client stored
        # meanwhile proves it alive and keeps its item.
        return self.channels.serial.run(check.key[0], self._removeGhost,
                                        check)

    @defer.inlineCallbacks
    def _removeGhost(self, check):
        record = yield self.store.getPresence(*check.key)
        if record is None or record.updated != check.updated:
            # Gone already, or the client spoke meanwhile: alive.
            return
        channel = yield self.store.getChannel(record.channel)
        if channel is None:
            return
        log.msg("Presence of a client in %s did not answer: removing it"
                % (record.channel,))
        yield self._removeRecord(channel, record)
