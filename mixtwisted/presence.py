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
change of mode or preference can never expose an old C{<jid/>}.
"""

import secrets
from dataclasses import dataclass

from twisted.internet import defer
from twisted.python import log

from mixtwisted import access
from mixtwisted import config as cfg
from mixtwisted import namespaces as ns
from mixtwisted import nodes as views
from mixtwisted.nicks import generateNick, nickKey
from mixtwisted.proxy import generateResource
from mixtwisted.records import PresenceRecord
from mixtwisted.throttle import Throttle

#: Seconds an item kept from before a restart may wait for its client's
#: answer to the start-up probe before it is removed (PRES-8, AMB-47).
GRACE_PERIOD = 120.0

#: Seconds without a presence change after which a client is asked, with
#: disco#info, whether it is still there (PRES-9).
GHOST_AFTER = 3600.0

#: Seconds to wait for the answer to that query.
GHOST_TIMEOUT = 30.0

#: Presence stanzas a real full JID may send per second on average, and in
#: a burst (issue 4 limits).
RATE = 5.0
BURST = 20.0

#: A throttled sender is logged at most once per this many seconds.
THROTTLE_LOG_INTERVAL = 60.0

_NOT_SHARE = "not share"


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

    def __init__(self, channels, clock, rate=RATE, burst=BURST):
        self.channels = channels
        self.store = channels.store
        self.clock = clock
        self.output = None
        self.throttle = Throttle(clock, rate, burst)
        self._throttleLogged = {}
        # (channel, proxyId, resource) -> DelayedCall of the ghost check
        self._ghostTimers = {}
        # iq id -> _Check; (channel, proxyId, resource) -> iq id
        self._pending = {}
        self._checking = {}
        self._graceCall = None
        channels.startHooks.append(self.start)
        channels.destructionHooks.append(self._destroying)
        channels.removalHooks.append(self._removed)
        channels.leaveHooks.append(self._left)
        channels.participantHooks.append(self._participantChanged)
        channels.subscriptionHooks.append(self._subscribed)
        channels.nodeReaders[ns.NODE_PRESENCE] = self.currentItems

    @property
    def domain(self):
        return self.channels.domain

    # Rate limit

    def admit(self, realJID):
        """
        Tell whether a presence from C{realJID} (a full JID string) may be
        handled now; past the rate it is dropped, and the drop is logged
        at most once a minute per sender.
        """
        if self.throttle.allow(realJID):
            return True
        now = self.clock.seconds()
        last = self._throttleLogged.get(realJID)
        if last is None or now - last >= THROTTLE_LOG_INTERVAL:
            if len(self._throttleLogged) > 10000:
                self._throttleLogged.clear()
            self._throttleLogged[realJID] = now
            log.msg("Presence from %s over the rate limit: dropping"
                    % (realJID,))
        return False

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
        if participant is None:
            return None
        mode = channel.info.get("JID Visibility", cfg.JID_HIDDEN)
        if mode == cfg.JID_VISIBLE:
            return realJID
        if mode == cfg.JID_MAYBE_VISIBLE and views.sharesJID(participant):
            return realJID
        return None

    def _fresh(self, channel, record, participant):
        """
        Return the payload of an item as it is to be shown now: the
        participant's current nick, the real JID only when visible.
        """
        nick = participant.nick if participant is not None else None
        if nick is None:
            nick = self.output.nickOf(record.xml)
        return self.output.render(
            record.xml, nick, self.shownJID(channel, participant, record.jid))

    @staticmethod
    def _sharing(channel, participant):
        return participant.prefs.get("Presence") != _NOT_SHARE or \
            bool(channel.config.get("Participants Must Provide Presence"))

    # Client presence

    @defer.inlineCallbacks
    def available(self, sender, name, payload):
        """
        Create or update the item of a client (PRES-1, PRES-3, PRES-12)
        and distribute it to the presence node's subscribers.

        Ignored, silently (PRES-2): a channel without presence node; a
        non-participant unless the channel has C{Open Presence} and the
        sender is Allowed; a participant whose C{Presence} preference is
        C{not share}.

        @param sender: the client's real full L{JID}.
        @param payload: callable C{(nick, jid)} returning the item payload
            (serialized) for the client's presence.
        """
        channel = yield self.store.getChannel(name)
        if channel is None or not self._hasNode(channel) or \
                not sender.user or sender.host == self.domain:
            return
        bare = sender.userhost()
        participant = yield self.store.getParticipant(name, bare)
        if participant is None:
            if not channel.config.get("Open Presence"):
                return
            role = access.roleOf(channel, bare, sender.host, False,
                                 self.channels.operators)
            if role < access.ALLOWED:
                return
            proxyId = yield self.channels.proxyIdFor(name, bare)
            nick = yield self._guestNick(name, proxyId)
        else:
            if not self._sharing(channel, participant):
                return
            proxyId = participant.proxyId
            # A nick before presence is shared (NICK-5, AMB-21).
            nick = yield self.channels.ensureNick(channel, participant)
        realJID = sender.full()
        resource = yield self._resourceFor(name, proxyId, realJID)
        xml = payload(nick, self.shownJID(channel, participant, realJID))
        record = PresenceRecord(
            channel=name, proxyId=proxyId, resource=resource, jid=realJID,
            xml=xml, updated=self.clock.seconds(), confirmed=True)
        yield self.store.setPresence(record)
        self._watch(record)
        yield self._broadcast(name, record, xml)

    @defer.inlineCallbacks
    def _guestNick(self, name, proxyId):
        """
        The nick of a non-participant registering presence (AMB-43): the
        one its other clients show, or a generated one no participant or
        registrant holds.
        """
        for record in (yield self.store.listPresence(name)):
            if record.proxyId == proxyId:
                nick = self.output.nickOf(record.xml)
                if nick is not None:
                    return nick
        while True:
            nick = generateNick()
            key = nickKey(nick)
            if (yield self.store.getParticipantByNick(name, key)) is None \
                    and (yield self.store.nickHolder(key)) is None:
                return nick

    @defer.inlineCallbacks
    def _resourceFor(self, name, proxyId, realJID):
        """
        The resource of a client's full proxy JID: the one it had (stable
        per real full JID, so it never changes while the client is in the
        presence node, PJID-6), or a fresh random one (PJID-7), shared with
        private messages and relays.
        """
        resource = yield self.store.clientResource(name, realJID)
        while resource is None:
            candidate = generateResource()
            if (yield self.store.reserveClientResource(
                    name, realJID, proxyId, candidate)):
                resource = candidate
        return resource

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

    @defer.inlineCallbacks
    def unavailable(self, sender, name):
        """
        A client went offline (PRES-5), or its server answered with an
        error (PRES-9): remove its item and send C{unavailable} to the
        presence node's subscribers.  No item: nothing happens.
        """
        record = yield self._recordOf(name, sender)
        if record is None:
            return
        channel = yield self.store.getChannel(name)
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
        if removed is None:
            return
        if participant is False:
            participant = yield self.store.getParticipantByProxy(
                record.channel, record.proxyId)
        yield self._broadcast(record.channel, removed,
                              self._fresh(channel, removed, participant),
                              unavailable=True)

    @defer.inlineCallbacks
    def _broadcast(self, name, record, xml, unavailable=False):
        """
        Send the presence of an item to the bare JID of every presence
        node subscriber (PRES-3, PRES-14): presence stanzas, never PubSub
        events (PRES-4).
        """
        recipients = yield self.store.getSubscribers(name, ns.NODE_PRESENCE)
        if recipients:
            self.output.presence(views.fullProxyJID(record, self.domain), xml,
                                 recipients, unavailable)

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
        yield self.sendCurrent(channel, requester.userhost())

    @defer.inlineCallbacks
    def sendCurrent(self, channel, bare):
        """
        Send C{bare} one presence per current item (JOIN-10, PRES-6,
        PRES-7).
        """
        for item in (yield self.currentItems(channel)):
            self.output.presence(item.id, item.payload.xml, [bare])

    @defer.inlineCallbacks
    def currentItems(self, channel):
        """
        Return the presence node's items as they are shown now
        (L{mixtwisted.nodes.NodeItem}s, oldest first): what an C{items}
        request reads (CHAN-7) and a resync sends.
        """
        records = yield self.store.listPresence(channel.name)
        if not records:
            return []
        participants = {p.proxyId: p for p in
                        (yield self.store.listParticipants(channel.name))}
        return [views.presenceItem(
                    record, self.domain, self._fresh(
                        channel, record, participants.get(record.proxyId)))
                for record in records]

    # Hooks into the channel logic

    @defer.inlineCallbacks
    def _subscribed(self, channel, bare, nodes):
        """
        Subscribing to the presence node (join, update-subscription,
        PubSub) brings the current presence (JOIN-10, PRES-7).
        """
        if ns.NODE_PRESENCE in nodes:
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
    def _participantChanged(self, channel, participant):
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
            yield self._broadcast(channel.name, record, xml)

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
        participants = {p.proxyId: p for p in
                        (yield self.store.listParticipants(name))}
        recipients = yield self.store.getSubscribers(name, ns.NODE_PRESENCE)
        for record in records:
            self._unwatch(_key(record))
            if recipients:
                self.output.presence(
                    views.fullProxyJID(record, self.domain),
                    self._fresh(channel, record,
                                participants.get(record.proxyId)),
                    recipients, True)

    def _removed(self, name):
        for key in [k for k in self._ghostTimers if k[0] == name]:
            self._unwatch(key)
        for key in [k for k in self._checking if k[0] == name]:
            self._cancelCheck(key)

    # Start-up (PRES-8, AMB-47)

    @defer.inlineCallbacks
    def start(self):
        """
        Mark every stored item unconfirmed, probe every participant who
        shares presence (never those who do not, PREF-5, X403-8), and
        remove the items not refreshed within L{gracePeriod}.
        """
        yield self.store.markPresenceUnconfirmed()
        kept = []
        for channel in (yield self.store.listChannels()):
            name = channel.name
            if (yield self.store.listPresence(name)):
                kept.append(name)
            if not self._hasNode(channel) or self.output is None:
                continue
            channelJID = self.channels.channelJID(name)
            for participant in (yield self.store.listParticipants(name)):
                if self._sharing(channel, participant):
                    self.output.probe(channelJID, participant.jid)
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
            channel = yield self.store.getChannel(name)
            if channel is None:
                continue
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
            return None
        d = self._ghost(check)
        d.addErrback(log.err, "Could not remove a ghost")
        return d

    @defer.inlineCallbacks
    def _ghost(self, check):
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
