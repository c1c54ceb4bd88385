"""
Ensuring message delivery (XEP-0369 §6.3; DLV-1..4, AMB-36).

When a reflected message bounces with a transient error, the channel takes
responsibility for it: the recipient (a bare JID, in one channel) is
I{held}.  Its undelivered messages are kept in the store, in archive order
(L{mixtwisted.interfaces.IDeliveryStorage}), and every later reflection for
it in that channel is queued after them instead of being sent.  The channel
sends C{<marker/>} IQs to the recipient's bare JID with exponential
back-off until one gets a response that proves the path works; then the
pending messages are retransmitted from the archive -- the stored stanza,
same archive id, in archive order -- before anything newer, and the
recipient is released.

Plain Python over the channel logic and the store: no XML.  What is XML
(the marker IQ, the retransmitted stanza, reading bounces and marker
responses) is done by an I{output} the protocol layer provides
(L{mixtwisted.handlers.delivery.DeliveryOutput}), with these methods:

 - C{marker(fromJID, to, iqId)}: send C{<iq type='get'><marker/></iq>};
 - C{retransmit(xml, to, revision, channelJID)}: send an archived stanza
   (serialized, without C{to}) addressed to C{to}, rendered for the
   recipient's protocol revision (REV-14: the archive keeps the
   C{urn:xmpp:mix:1} form; a C{urn:xmpp:mix:core:1} participant gets the
   core:1 form, as its MAM results).

Rules (AMB-36, the limits in L{mixtwisted.settings.Limits}):

 - A bounce is a message error to the channel JID whose C{id} is an entry
   of the channel's messages archive, from the bare JID of a current
   recipient (a messages-node subscriber or a participant: the
   originator's own copy counts).  An error from one of the recipient's
   full JIDs (a client's) counts as from its bare JID: holds, back-off,
   retransmission counts and limits are all per bare JID, so one user's
   clients can only slow down that user's own deliveries, within the same
   bounds.  Anything else is ignored, silently.  A bounce from a full JID
   of a user whose copies go to its clients' full JIDs
   (L{mixtwisted.routing}, issue 6) never reaches this logic: the
   message handler takes it as that client gone (its presence item is
   removed) -- never transient, never held nor retransmitted.  Nor is
   any other bounce of a user whose domain is not known to deliver to
   bare JIDs (routing mode L{FULL<mixtwisted.routing.FULL>} or
   L{UNKNOWN<mixtwisted.routing.UNKNOWN>}): holds and retransmissions go
   to the bare JID, which such a server bounces; its MAM catch-up covers
   the gap.  A recipient held while its domain was undecided is dropped
   (its pending entries removed) when the domain is found L{FULL}, and at
   start-up when its domain is pinned L{FULL}.
 - Transient errors (L{isTransient}): C{remote-server-not-found},
   C{remote-server-timeout}, or any error of type C{wait}.  Others are
   logged (rarely) and not retried.
 - The first marker goes L{Limits.markerDelay} seconds after the first
   bounce; a marker answered C{remote-server-not-found} or
   C{remote-server-timeout}, or unanswered after L{Limits.markerTimeout},
   doubles the wait, up to L{Limits.markerMaxDelay}.  Any other response
   -- a result, or another error such as C{service-unavailable} from a
   server that does not know C{<marker/>} -- means the path works.  Only a
   response with the marker's id, from exactly the recipient's bare JID,
   to exactly the channel JID counts; anything else changes nothing.
 - Answered markers do not reset the wait: a retransmission that bounces
   again (a bounce while it is under way), or a new hold within
   L{Limits.markerMaxDelay} of a release, doubles it too.  Only a release
   that lasts L{Limits.markerMaxDelay} brings the next hold back to
   L{Limits.markerDelay}.  So a server that answers markers but keeps
   bouncing messages (C{resource-constraint}, rate limiting) gets one
   retransmission of the queue per wait, the wait growing to the cap.
 - Each pending message is retransmitted at most
   L{Limits.maxRetransmissions} times (counted in memory, across the holds
   of one such series); a bounce of a copy retransmitted that often is not
   retried.
 - Retransmission sends first and removes after: what was sent is removed
   from the store only once it is out, and only if it was not made
   pending again meanwhile (C{removePending(..., upTo=...)}); a crash in
   between sends it again after the restart (a duplicate, no loss).
   Nothing is sent -- neither markers nor retransmissions -- while the
   component's stream is down: they resume L{Limits.markerDelay} after it
   is back (L{Deliveries.connected}).
 - More than L{Limits.maxPendingPerRecipient} pending messages, or a hold
   older than L{Limits.maxPendingAge}: every pending message of the
   recipient is dropped, once logged, and the recipient released (its
   MAM catch-up covers the gap).  An archive entry older than
   L{Limits.maxPendingAge} is neither retried when it bounces nor
   retransmitted.
 - A recipient that leaves (or is banned, evicted) or whose channel goes
   is forgotten: its pending entries and timers go.  Retransmission goes
   only to a bare JID that is still a recipient.
 - Presence: a bounced presence (from the bare JID of a presence-node
   subscriber) holds the recipient too; while held, no presence is sent to
   it, and on release it gets the channel's current presence (one dump)
   instead.  That flag is kept in memory only.
 - At start-up every recipient with pending entries in the store is held
   again and its markers resume; the hold counts as begun at its oldest
   entry's stamp.
"""

import math
import secrets
from collections import OrderedDict

from twisted.internet import defer
from twisted.python import log

from mixtwisted import namespaces as ns
from mixtwisted.proxy import splitProxyLocalpart
from mixtwisted.routing import FULL, domainOf
# Responses are matched on the prepared forms of their addresses, as the
# relay matches relayed responses (RELAY-8).
from mixtwisted.relay import _normal

#: Error conditions that say the recipient's server could not be reached
#: (DLV-4); with any error of type C{wait}, a bounce is retried.  Only
#: these two make a marker response count as "still down".
UNREACHABLE = frozenset(("remote-server-not-found", "remote-server-timeout"))

#: A refused bounce (permanent error) is logged at most once per this many
#: seconds per channel and recipient.
LOG_INTERVAL = 60.0

#: Keys remembered for rare logging; past that the table is emptied.
_LOG_KEYS = 10000

#: Releases remembered for the back-off (L{Deliveries._recent}); past that
#: the oldest are forgotten.
_RECENT_KEYS = 10000


def _sentBy(entry, stableId):
    """
    Tell whether an archived entry was sent by the participant whose
    stable id (proxy identifier) is C{stableId}.
    """
    return entry.sender is not None and \
        entry.sender.startswith(stableId + "#")


def isTransient(errorType, condition):
    """
    Tell whether a bounce with this error is retried (DLV-4, AMB-36):
    C{remote-server-not-found}, C{remote-server-timeout}, or any error of
    type C{wait}.
    """
    return condition in UNREACHABLE or errorType == "wait"


class _Held:
    """
    A recipient held in one channel.

    @ivar oldest: when the hold began (seconds since the epoch); the
        L{Limits.maxPendingAge} counts from it.
    @ivar delay: the current back-off step, in seconds.
    @ivar counts: archive id -> how many times it was retransmitted.
    @ivar timer: the C{DelayedCall} of the next marker, or C{None}.
    @ivar markerId: the id of the marker waiting for its response.
    @ivar markerTimer: its timeout C{DelayedCall}.
    @ivar presence: presence was bounced or withheld: a presence dump is
        due on release.
    @ivar retransmitting: the path was found up; pending messages are
        being sent.
    @ivar failedAgain: a bounce came while retransmitting: back to markers
        (with twice the wait) before the next batch.
    @ivar adding: C{addPending} calls not finished yet (their Deferreds).
    @ivar active: C{False} once released, dropped or forgotten.
    """

    __slots__ = ("channel", "recipient", "channelJID", "oldest", "delay",
                 "counts", "timer", "markerId", "markerTimer", "presence",
                 "retransmitting", "failedAgain", "adding", "active")

    def __init__(self, channel, recipient, channelJID, oldest, delay,
                 counts=None):
        self.channel = channel
        self.recipient = recipient
        self.channelJID = channelJID
        self.oldest = oldest
        self.delay = delay
        self.counts = {} if counts is None else counts
        self.timer = None
        self.markerId = None
        self.markerTimer = None
        self.presence = False
        self.retransmitting = False
        self.failedAgain = False
        self.adding = set()
        self.active = True


class Deliveries:
    """
    Retransmission of bounced messages for a
    L{mixtwisted.channels.ChannelService} (DLV-1..4).

    @param channels: the channel logic.
    @param clock: the reactor (C{callLater}, C{seconds}), a C{Clock} in
        tests.
    @param presence: the L{mixtwisted.presence.Presence}, or C{None}: its
        distributions skip held recipients, and released ones get a dump.
    @ivar output: the protocol layer's output (see the module docstring);
        set by L{mixtwisted.handlers.delivery.DeliveryHandler}.
    @ivar online: the component's stream is up (L{connected},
        L{disconnected}); nothing is sent while it is not.
    @ivar held: channel name -> recipient bare JID -> L{_Held}.  A channel
        with nobody held has no entry, so the fan-out's check is one
        dictionary look-up.
    """

    def __init__(self, channels, clock, presence=None):
        self.channels = channels
        self.store = channels.store
        self.clock = clock
        self.limits = channels.limits
        self.presence = presence
        self.output = None
        self.online = False
        self.held = {}
        # marker iq id -> _Held
        self._markers = {}
        self._logged = {}
        # (channel, recipient) -> (delay, released at, counts) of the
        # recipients released (or dropped) lately, oldest first.
        self._recent = OrderedDict()
        # The last stamp given to the store: stamps only grow (see _stamp).
        self._lastStamp = 0.0
        channels.startHooks.append(self.resume)
        channels.leaveHooks.append(self._left)
        channels.removalHooks.append(self._removed)
        #: The L{mixtwisted.routing.Routing}, or C{None} (bare JIDs).
        self.routing = presence.routing if presence is not None else None
        if presence is not None:
            presence.holding = self.withoutHeld
        if self.routing is not None:
            self.routing.changeHooks.append(self._modeChanged)

    # Delivery routing (issue 6)

    def _notBare(self, name, recipient, what):
        """
        Tell whether C{recipient}'s copies may not be going to its bare
        JID (L{mixtwisted.routing}): it is then never held (logged
        rarely).
        """
        routing = self.routing
        if routing is None or not routing.toFullJIDs(recipient):
            return False
        self._logRarely(
            (name, recipient), "%s in %s to %s bounced: its server is not "
            "known to deliver to bare JIDs, not retried" % (
                what, name, recipient))
        return True

    def _modeChanged(self, domain, mode):
        """
        A domain was found not to deliver to bare JIDs: its users held
        (while it was undecided) are dropped -- retransmissions to their
        bare JIDs would bounce.
        """
        if mode != FULL:
            return
        for held in list(self.held.values()):
            for state in list(held.values()):
                if domainOf(state.recipient) == domain:
                    self._drop(state, "its server delivers to full JIDs "
                               "only")

    # What the fan-out asks

    def divert(self, name, archiveId, recipients):
        """
        Queue C{archiveId} for the held recipients among C{recipients}
        (after their pending messages, DLV-4) and return the others, to be
        sent now.
        """
        return self._split(name, recipients,
                           lambda state: self._add(state, archiveId))

    def withoutHeld(self, name, recipients):
        """
        Return the recipients of a presence distribution that are not
        held; the held ones get the channel's current presence on release
        instead.
        """
        def later(state):
            state.presence = True
        return self._split(name, recipients, later)

    def _split(self, name, recipients, held):
        """
        Return the recipients not held in channel C{name}; call C{held}
        with the state of each held one.
        """
        states = self.held.get(name)
        if not states:
            return recipients
        kept = []
        for recipient in recipients:
            state = states.get(recipient)
            if state is None:
                kept.append(recipient)
            else:
                held(state)
        return kept

    # The component's stream

    def connected(self):
        """
        The component's stream is up: the held recipients that were
        waiting for it get a marker after L{Limits.markerDelay} (their
        back-off step is kept: the stream going down says nothing about
        their paths).
        """
        self.online = True
        for held in list(self.held.values()):
            for state in list(held.values()):
                if state.timer is None and state.markerId is None and \
                        not state.retransmitting:
                    self._schedule(state, self.limits.markerDelay)

    def disconnected(self):
        """
        The component's stream is down: nothing is sent until it is back.
        Outstanding markers are abandoned (their responses cannot come):
        neither a failure nor a success.
        """
        self.online = False
        for held in list(self.held.values()):
            for state in list(held.values()):
                self._cancelMarker(state)

    # Bounces

    @defer.inlineCallbacks
    def messageBounced(self, name, recipient, archiveId, errorType,
                       condition, senderId=None):
        """
        A message error came to channel C{name} from C{recipient} (a bare
        JID string: the bare JID of the error's sender, a full JID
        counting as its bare JID) with C{id} C{archiveId}.  Only a bounce
        of an entry of the channel's messages archive, from a current
        recipient, is taken (DLV-1); a transient one holds the recipient,
        any other is logged.

        @param senderId: the resource of the channel JID the error was
            sent to, if any: a core:1 copy comes from C{<channel>/<stable
            id of its sender>} (REV-12), so only an entry sent by that
            participant can have bounced.
        """
        entry = yield self.store.getArchived(name, archiveId)
        if entry is None or entry.node != ns.NODE_MESSAGES:
            return
        if senderId is not None and not _sentBy(entry, senderId):
            return
        if not (yield self._isRecipient(name, recipient)):
            return
        if self._notBare(name, recipient, "Message %s" % (archiveId,)):
            return
        if not isTransient(errorType, condition):
            self._logRarely(
                (name, recipient), "Message %s in %s to %s bounced with %s "
                "(%s): not retried" % (archiveId, name, recipient,
                                       condition, errorType))
            return
        now = self.clock.seconds()
        if now - entry.stamp > self.limits.maxPendingAge:
            self._logRarely(
                (name, recipient), "Message %s in %s to %s bounced after "
                "%.0f s: too old to retry" % (archiveId, name, recipient,
                                              now - entry.stamp))
            return
        count = self._counts(name, recipient).get(archiveId, 0)
        if count >= self.limits.maxRetransmissions:
            state = self.held.get(name, {}).get(recipient)
            if state is not None and state.retransmitting:
                state.failedAgain = True
            self._logRarely(
                (name, recipient), "Message %s in %s to %s bounced again "
                "after %d retransmissions: not retried" % (
                    archiveId, name, recipient, count))
            return
        state = self._hold(name, recipient, reason="message %s bounced "
                           "with %s" % (archiveId, condition))
        if state.retransmitting:
            state.failedAgain = True
        self._add(state, archiveId)

    @defer.inlineCallbacks
    def presenceBounced(self, localpart, recipient, errorType, condition):
        """
        A presence error came from C{recipient} (a bare JID string) to a
        JID of the channel (its own or a proxy JID, C{localpart}).  From a
        subscriber of the presence node, a transient one holds the
        recipient with a presence dump due; others are logged.
        """
        channel = yield self.store.getChannel(localpart)
        if channel is None:
            parts = splitProxyLocalpart(localpart)
            if parts is None:
                return
            channel = yield self.store.getChannel(parts[1])
            if channel is None:
                return
        name = channel.name
        if ns.NODE_PRESENCE not in (
                yield self.store.getSubscriptions(name, recipient)):
            return
        if self._notBare(name, recipient, "Presence"):
            return
        if not isTransient(errorType, condition):
            self._logRarely(
                (name, recipient), "Presence in %s to %s bounced with %s "
                "(%s): not retried" % (name, recipient, condition,
                                       errorType))
            return
        state = self._hold(name, recipient, reason="presence bounced with %s"
                           % (condition,))
        state.presence = True
        if state.retransmitting:
            state.failedAgain = True

    @defer.inlineCallbacks
    def _isRecipient(self, name, recipient):
        """
        Tell whether C{recipient} gets the channel's messages: a subscriber
        of the messages node, or a participant (the originator's own copy,
        AMB-53).
        """
        if ns.NODE_MESSAGES in (
                yield self.store.getSubscriptions(name, recipient)):
            return True
        return (yield self.store.getParticipant(name, recipient)) is not None

    def _counts(self, name, recipient):
        """
        The retransmission counts of a recipient: those of its hold, or of
        its recent release.
        """
        state = self.held.get(name, {}).get(recipient)
        if state is not None:
            return state.counts
        self._pruneRecent()
        recent = self._recent.get((name, recipient))
        return recent[2] if recent is not None else {}

    # Holding

    def _hold(self, name, recipient, oldest=None, reason=None):
        """
        Return the held state of C{recipient} in C{name}, holding it (with
        its first marker scheduled) if it was not.

        A recipient released (or dropped) less than L{Limits.markerMaxDelay}
        ago is still failing: its first marker comes after twice the wait
        of its last hold (at most L{Limits.markerMaxDelay}), and its
        retransmission counts go on.

        @param reason: logged when the recipient was not held yet.
        """
        held = self.held.setdefault(name, {})
        state = held.get(recipient)
        if state is None:
            if oldest is None:
                oldest = self.clock.seconds()
            self._pruneRecent()
            recent = self._recent.pop((name, recipient), None)
            if recent is None:
                delay, counts = self.limits.markerDelay, None
            else:
                delay = min(recent[0] * 2, self.limits.markerMaxDelay)
                counts = recent[2]
            state = _Held(name, recipient, self.channels.channelJID(name),
                          oldest, delay, counts)
            held[recipient] = state
            self._schedule(state, state.delay)
            if reason is not None:
                log.msg("Delivery to %s in %s failed (%s): holding its "
                        "messages until a marker is answered (next marker "
                        "in %.0f s)" % (recipient, name, reason, delay))
        return state

    def _remember(self, state):
        """
        Keep the back-off step and the retransmission counts of a
        recipient that is no longer held, for L{Limits.markerMaxDelay}.
        """
        key = (state.channel, state.recipient)
        self._recent.pop(key, None)
        self._recent[key] = (state.delay, self.clock.seconds(), state.counts)
        self._pruneRecent()

    def _pruneRecent(self):
        """
        Forget the releases older than L{Limits.markerMaxDelay} (the table
        is in release order), and the oldest past L{_RECENT_KEYS}.
        """
        limit = self.clock.seconds() - self.limits.markerMaxDelay
        recent = self._recent
        while recent:
            key, (_, released, _) = next(iter(recent.items()))
            if released >= limit and len(recent) <= _RECENT_KEYS:
                break
            del recent[key]

    def _stamp(self):
        """
        The stamp of an entry made pending now: the time, or just past the
        last stamp given or read if the clock is behind it, so that an
        entry made pending after a retransmission's batch was read has a
        later stamp than all of that batch (C{removePending} with
        C{upTo}).
        """
        now = self.clock.seconds()
        if now <= self._lastStamp:
            now = math.nextafter(self._lastStamp, math.inf)
        self._lastStamp = now
        return now

    def _add(self, state, archiveId):
        """
        Store C{archiveId} as pending for a held recipient; past the limits
        everything pending for it is dropped.
        """
        d = self.store.addPending(state.channel, state.recipient, archiveId,
                                  self._stamp())
        state.adding.add(d)

        def added(count):
            state.adding.discard(d)
            if state.active:
                self._checkLimits(state, count)

        def failed(failure):
            state.adding.discard(d)
            log.err(failure, "Could not keep a message pending for %s in %s"
                    % (state.recipient, state.channel))

        d.addCallbacks(added, failed)

    def _checkLimits(self, state, count=None):
        """
        Drop a held recipient's pending messages when there are more than
        L{Limits.maxPendingPerRecipient}, or its hold is older than
        L{Limits.maxPendingAge}.

        @return: C{True} when dropped.
        """
        if count is not None and count > self.limits.maxPendingPerRecipient:
            self._drop(state, "more than %d pending"
                       % (self.limits.maxPendingPerRecipient,))
            return True
        age = self.clock.seconds() - state.oldest
        if age > self.limits.maxPendingAge:
            self._drop(state, "undelivered for %.0f s" % (age,))
            return True
        return False

    def _stop(self, state):
        """
        Take a recipient out of the held table and stop its timers and
        marker.
        """
        state.active = False
        held = self.held.get(state.channel)
        if held is not None and held.get(state.recipient) is state:
            del held[state.recipient]
            if not held:
                del self.held[state.channel]
        if state.timer is not None and state.timer.active():
            state.timer.cancel()
        state.timer = None
        self._cancelMarker(state)

    def _cancelMarker(self, state):
        if state.markerId is not None:
            self._markers.pop(state.markerId, None)
            state.markerId = None
        if state.markerTimer is not None and state.markerTimer.active():
            state.markerTimer.cancel()
        state.markerTimer = None

    def _drop(self, state, reason):
        """
        Give up on a held recipient (the limits): forget its pending
        messages, release it, log once with the count.  Its back-off step
        is remembered: a new hold soon after goes on from it.
        """
        if not state.active:
            return
        self._stop(state)
        self._remember(state)
        d = self._discard(state)

        def logged(count):
            log.msg("Delivery to %s in %s given up (%s): %d pending "
                    "messages dropped; the recipient's archive catch-up "
                    "covers them" % (state.recipient, state.channel, reason,
                                     count))
        d.addCallback(logged)
        d.addErrback(log.err, "Could not drop pending messages")

    @defer.inlineCallbacks
    def _discard(self, state):
        """
        Once the C{addPending} calls under way are done, remove everything
        pending for a recipient that is no longer held.

        @return: Deferred firing with the number of entries removed.
        """
        while state.adding:
            yield defer.DeferredList(list(state.adding))
        ids = yield self.store.listPending(state.channel, state.recipient)
        if ids:
            yield self.store.removePending(state.channel, state.recipient)
        return len(ids)

    # Markers

    def _schedule(self, state, delay):
        state.timer = self.clock.callLater(delay, self._sendMarker, state)

    def _sendMarker(self, state):
        """
        Send the next marker (DLV-2): from the channel JID to the
        recipient's bare JID, with a fresh unguessable id.  While the
        component is offline the recipient waits for L{connected}.
        """
        state.timer = None
        if not state.active or self._checkLimits(state):
            return
        if not self.online or self.output is None:
            return
        iqId = secrets.token_urlsafe(18)
        while iqId in self._markers:
            iqId = secrets.token_urlsafe(18)
        state.markerId = iqId
        self._markers[iqId] = state
        state.markerTimer = self.clock.callLater(
            self.limits.markerTimeout, self._markerTimedOut, state, iqId)
        self.output.marker(state.channelJID, state.recipient, iqId)

    def _markerTimedOut(self, state, iqId):
        state.markerTimer = None
        if state.markerId != iqId:
            return
        self._cancelMarker(state)
        self._backOff(state)

    def _backOff(self, state):
        """
        The path is still down: the next marker after twice the wait, at
        most L{Limits.markerMaxDelay}.
        """
        if not state.active:
            return
        state.delay = min(state.delay * 2, self.limits.markerMaxDelay)
        self._schedule(state, state.delay)

    def markerResponse(self, iqId, sender, recipient, condition):
        """
        Take a response to a marker: only with the marker's id, from
        exactly the recipient's bare JID, to exactly the channel JID.

        @param sender, recipient: the response's C{from} and C{to}.
        @param condition: the error condition, or C{None} for a result.
        @return: C{True} when the response was to one of our markers
            (matched and consumed); C{False} changes nothing.
        """
        state = self._markers.get(iqId) if iqId else None
        if state is None or _normal(sender) != state.recipient or \
                _normal(recipient) != state.channelJID:
            return False
        self._cancelMarker(state)
        if condition in UNREACHABLE:
            self._backOff(state)
        else:
            d = self._recover(state)
            d.addErrback(self._recoveryFailed, state)
        return True

    # Recovery

    @defer.inlineCallbacks
    def _recover(self, state):
        """
        The path works (DLV-3): send every pending message in archive
        order, the ones queued meanwhile after them, then release the
        recipient and send it the channel's presence if due.

        Each batch is sent first and removed from the store after, and
        only the entries not made pending again since it was read: a
        crash in between means a duplicate after the restart, never a
        loss.  A bounce while retransmitting stops before the next batch
        and resumes markers with twice the wait; the stream going down
        stops before the next batch too, until L{connected}.
        """
        name, recipient = state.channel, state.recipient
        state.retransmitting = True
        state.failedAgain = False
        if not (yield self._isRecipient(name, recipient)):
            # Left or unsubscribed meanwhile.
            yield self.forget(name, recipient)
            return
        sent = dropped = 0
        done = set()
        first = True
        while state.active:
            if state.adding:
                yield defer.DeferredList(list(state.adding))
                continue
            rows = yield self.store.listPendingEntries(name, recipient)
            if not state.active:
                return
            if not rows:
                if state.adding:
                    continue
                break
            ids = [archiveId for archiveId, _ in rows]
            # Everything made pending from now on has a later stamp.
            upTo = max(stamp for _, stamp in rows)
            self._lastStamp = max(self._lastStamp, upTo)
            if first:
                # Counts of messages no longer pending are not needed.
                state.counts = {i: state.counts[i] for i in ids
                                if i in state.counts}
                first = False
            # An id sent in this round and pending again bounced again.
            if state.failedAgain or not done.isdisjoint(ids):
                self._failedAgain(state)
                return
            entries = []
            for archiveId in ids:
                entries.append((yield self.store.getArchived(name,
                                                             archiveId)))
            # Rendered for the recipient's revision of now, not of when
            # the copies bounced (REV-14).
            revision = yield self.channels.revisionOf(name, recipient)
            if not state.active:
                return
            if state.failedAgain:
                self._failedAgain(state)
                return
            if not self.online or self.output is None:
                # Wait for the stream: nothing is removed.
                state.retransmitting = False
                return
            now = self.clock.seconds()
            for archiveId, entry in zip(ids, entries):
                if entry is None:
                    # Gone from the archive (the channel with it).
                    continue
                if now - entry.stamp > self.limits.maxPendingAge:
                    dropped += 1
                    continue
                self.output.retransmit(entry.xml, recipient, revision,
                                       state.channelJID)
                state.counts[archiveId] = state.counts.get(archiveId, 0) + 1
                sent += 1
            done.update(ids)
            yield self.store.removePending(name, recipient, ids, upTo=upTo)
            if not state.active:
                return
            if state.failedAgain:
                self._failedAgain(state)
                return
        if not state.active:
            return
        self._stop(state)
        self._remember(state)
        if sent or dropped:
            log.msg("Delivered %d pending messages to %s in %s%s"
                    % (sent, recipient, name,
                       "; %d older than %.0f s dropped"
                       % (dropped, self.limits.maxPendingAge)
                       if dropped else ""))
        if state.presence and self.presence is not None:
            yield self._sendPresence(name, recipient)

    def _failedAgain(self, state):
        """
        The path failed again while retransmitting: what is pending stays,
        and markers resume with twice the wait.
        """
        state.retransmitting = False
        state.failedAgain = False
        self._backOff(state)

    @defer.inlineCallbacks
    def _sendPresence(self, name, recipient):
        channel = yield self.store.getChannel(name)
        if channel is None or ns.NODE_PRESENCE not in (
                yield self.store.getSubscriptions(name, recipient)):
            return
        yield self.presence.sendCurrent(channel, recipient)

    def _recoveryFailed(self, failure, state):
        """
        The store failed while retransmitting: try again after the next
        marker (nothing is forgotten before it is sent).
        """
        log.err(failure, "Could not retransmit to %s in %s"
                % (state.recipient, state.channel))
        if state.active:
            state.retransmitting = False
            if state.timer is None and state.markerId is None:
                self._schedule(state, state.delay)

    # Forgetting

    def forget(self, name, recipient):
        """
        Forget a recipient of a channel: its pending messages, timers and
        marker.

        A recipient that is not held has nothing pending: every one with
        entries in the store is held from start-up on (L{resume}).

        @return: Deferred firing once its pending entries are removed.
        """
        self._recent.pop((name, recipient), None)
        state = self.held.get(name, {}).get(recipient)
        if state is None:
            return defer.succeed(0)
        self._stop(state)
        return self._discard(state)

    def _left(self, channel, bare, participant):
        """
        Leave, ban, eviction: nothing more is delivered to that bare JID.
        """
        d = self.forget(channel.name, bare)
        d.addErrback(log.err, "Could not forget pending messages")
        return d

    def _removed(self, name):
        """
        The channel is gone (its pending entries went with it): stop the
        timers and markers of its held recipients.
        """
        for state in list(self.held.get(name, {}).values()):
            self._stop(state)
            if state.adding:
                # An entry stored after the channel was deleted.
                d = self._discard(state)
                d.addErrback(log.err, "Could not forget pending messages")

    # Start-up

    @defer.inlineCallbacks
    def resume(self):
        """
        At start-up, hold again every recipient with pending messages in
        the store: markers resume (once the component is online), and on
        recovery they get the messages and the channel's presence (DLV-1).
        The hold counts as begun at the oldest stamp of its entries.
        """
        rows = yield self.store.pendingRecipients()
        for name, recipient, oldest in rows:
            state = self._hold(name, recipient, oldest)
            state.presence = True
            if self.routing is not None and \
                    self.routing.peek(recipient) is FULL:
                self._drop(state, "its server delivers to full JIDs only")
        if rows:
            log.msg("Resuming delivery of pending messages to %d "
                    "recipients" % (len(rows),))

    # Introspection

    def pendingMarkers(self):
        """
        The number of markers waiting for their response.
        """
        return len(self._markers)

    def _logRarely(self, key, message):
        now = self.clock.seconds()
        last = self._logged.get(key)
        if last is None or now - last >= LOG_INTERVAL:
            if len(self._logged) > _LOG_KEYS:
                self._logged.clear()
            self._logged[key] = now
            log.msg(message)
