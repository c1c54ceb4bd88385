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
 - C{retransmit(xml, to)}: send an archived stanza (serialized, without
   C{to}) addressed to C{to}.

Rules (AMB-36, the limits in L{mixtwisted.settings.Limits}):

 - A bounce is a message error to the channel JID whose C{id} is an entry
   of the channel's messages archive, from the bare JID of a current
   recipient (a messages-node subscriber or a participant: the
   originator's own copy counts).  Anything else is ignored, silently.
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
 - More than L{Limits.maxPendingPerRecipient} pending messages, or a first
   failure older than L{Limits.maxPendingAge}: every pending message of
   the recipient is dropped, once logged, and the recipient released (its
   MAM catch-up covers the gap).  A bounce for an archive entry older than
   L{Limits.maxPendingAge} is not retried.
 - A recipient that leaves (or is banned, evicted) or whose channel goes
   is forgotten: its pending entries and timers go.  Retransmission goes
   only to a bare JID that is still a recipient.
 - Presence: a bounced presence (from the bare JID of a presence-node
   subscriber) holds the recipient too; while held, no presence is sent to
   it, and on release it gets the channel's current presence (one dump)
   instead.  That flag is kept in memory only.
 - At start-up every recipient with pending entries in the store is held
   again and its markers resume.
"""

import secrets

from twisted.internet import defer
from twisted.python import log

from mixtwisted import namespaces as ns
from mixtwisted.proxy import splitProxyLocalpart
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

    @ivar oldest: when the first failure was noticed (seconds since the
        epoch); L{Limits.maxPendingAge} counts from it.
    @ivar delay: the current back-off step, in seconds.
    @ivar timer: the C{DelayedCall} of the next marker, or C{None}.
    @ivar markerId: the id of the marker waiting for its response.
    @ivar markerTimer: its timeout C{DelayedCall}.
    @ivar presence: presence was bounced or withheld: a presence dump is
        due on release.
    @ivar retransmitting: the path was found up; pending messages are
        being sent.
    @ivar failedAgain: a bounce came while retransmitting: back to markers
        once the current batch is out.
    @ivar adding: C{addPending} calls not finished yet (their Deferreds).
    @ivar active: C{False} once released, dropped or forgotten.
    """

    __slots__ = ("channel", "recipient", "channelJID", "oldest", "delay",
                 "timer", "markerId", "markerTimer", "presence",
                 "retransmitting", "failedAgain", "adding", "active")

    def __init__(self, channel, recipient, channelJID, oldest, delay):
        self.channel = channel
        self.recipient = recipient
        self.channelJID = channelJID
        self.oldest = oldest
        self.delay = delay
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
        self.held = {}
        # marker iq id -> _Held
        self._markers = {}
        self._logged = {}
        channels.startHooks.append(self.resume)
        channels.leaveHooks.append(self._left)
        channels.removalHooks.append(self._removed)
        if presence is not None:
            presence.holding = self.withoutHeld

    # What the fan-out asks

    def divert(self, name, archiveId, recipients):
        """
        Queue C{archiveId} for the held recipients among C{recipients}
        (after their pending messages, DLV-4) and return the others, to be
        sent now.
        """
        held = self.held.get(name)
        if not held:
            return recipients
        kept = []
        for recipient in recipients:
            state = held.get(recipient)
            if state is None:
                kept.append(recipient)
            else:
                self._add(state, archiveId)
        return kept

    def withoutHeld(self, name, recipients):
        """
        Return the recipients of a presence distribution that are not
        held; the held ones get the channel's current presence on release
        instead.
        """
        held = self.held.get(name)
        if not held:
            return recipients
        kept = []
        for recipient in recipients:
            state = held.get(recipient)
            if state is None:
                kept.append(recipient)
            else:
                state.presence = True
        return kept

    # Bounces

    @defer.inlineCallbacks
    def messageBounced(self, name, recipient, archiveId, errorType,
                       condition):
        """
        A message error came to channel C{name} from C{recipient} (a bare
        JID string) with C{id} C{archiveId}.  Only a bounce of an entry of
        the channel's messages archive, from a current recipient, is taken
        (DLV-1); a transient one holds the recipient, any other is logged.
        """
        entry = yield self.store.getArchived(name, archiveId)
        if entry is None or entry.node != ns.NODE_MESSAGES:
            return
        if not (yield self._isRecipient(name, recipient)):
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

    # Holding

    def _hold(self, name, recipient, oldest=None, reason=None):
        """
        Return the held state of C{recipient} in C{name}, holding it (with
        its first marker scheduled) if it was not.

        @param reason: logged when the recipient was not held yet.
        """
        held = self.held.setdefault(name, {})
        state = held.get(recipient)
        if state is None:
            if oldest is None:
                oldest = self.clock.seconds()
            state = _Held(name, recipient, self.channels.channelJID(name),
                          oldest, self.limits.markerDelay)
            held[recipient] = state
            self._schedule(state, state.delay)
            if reason is not None:
                log.msg("Delivery to %s in %s failed (%s): holding its "
                        "messages until a marker is answered"
                        % (recipient, name, reason))
        return state

    def _add(self, state, archiveId):
        """
        Store C{archiveId} as pending for a held recipient; past the limits
        everything pending for it is dropped.
        """
        d = self.store.addPending(state.channel, state.recipient, archiveId,
                                  self.clock.seconds())
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
        L{Limits.maxPendingPerRecipient}, or its first failure is older
        than L{Limits.maxPendingAge}.

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
        messages, release it, log once with the count.
        """
        if not state.active:
            return
        self._stop(state)
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
        recipient's bare JID, with a fresh unguessable id.
        """
        state.timer = None
        if not state.active or self._checkLimits(state):
            return
        iqId = secrets.token_urlsafe(18)
        while iqId in self._markers:
            iqId = secrets.token_urlsafe(18)
        state.markerId = iqId
        self._markers[iqId] = state
        state.markerTimer = self.clock.callLater(
            self.limits.markerTimeout, self._markerTimedOut, state, iqId)
        if self.output is not None:
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
        """
        name, recipient = state.channel, state.recipient
        state.retransmitting = True
        state.failedAgain = False
        state.delay = self.limits.markerDelay
        if not (yield self._isRecipient(name, recipient)):
            # Left or unsubscribed meanwhile.
            yield self.forget(name, recipient)
            return
        sent = 0
        while state.active:
            if state.adding:
                yield defer.DeferredList(list(state.adding))
                continue
            ids = yield self.store.listPending(name, recipient)
            if not state.active:
                return
            if not ids:
                if state.adding:
                    continue
                break
            entries = []
            for archiveId in ids:
                entries.append((yield self.store.getArchived(name,
                                                             archiveId)))
            # Forgotten before sending: a bounce of a copy sent now puts it
            # back.
            yield self.store.removePending(name, recipient, ids)
            if not state.active:
                return
            for entry in entries:
                if entry is not None and self.output is not None:
                    self.output.retransmit(entry.xml, recipient)
                    sent += 1
            if state.failedAgain:
                state.retransmitting = False
                state.failedAgain = False
                self._schedule(state, state.delay)
                return
        if not state.active:
            return
        self._stop(state)
        if sent:
            log.msg("Delivered %d pending messages to %s in %s"
                    % (sent, recipient, name))
        if state.presence and self.presence is not None:
            yield self._sendPresence(name, recipient)

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
        the store: markers resume, and on recovery they get the messages
        and the channel's presence (DLV-1).
        """
        rows = yield self.store.pendingRecipients()
        for name, recipient, oldest in rows:
            self._hold(name, recipient, oldest).presence = True
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
