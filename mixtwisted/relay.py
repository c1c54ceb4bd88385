"""
IQ relay through proxy JIDs (RELAY-1..8, X403-7, X403-9, PJID-6, PJID-7,
PJID-9, VIS-6): requests from one participant to another's proxy JID, and
the matching responses.

Plain Python over the channel logic: who may relay what to whom, where it
goes, under which full proxy JID the requester appears, and the table of
relays waiting for their response.  No XML: the protocol layer
(L{mixtwisted.handlers.relay}) parses and builds the stanzas.

A request to a bare proxy JID goes to the target's real bare JID (its
server answers for the user, RELAY-4); a request to a full proxy JID goes
to the real full JID behind it, which must be in the presence node
(RELAY-6, AMB-35).  The forwarded request carries a fresh, unguessable id;
only a response carrying that id, from exactly the JID the request went to
and to exactly the requester's full proxy JID, is routed back (RELAY-8).
"""

import secrets
from dataclasses import dataclass, field

from twisted.internet import defer
from twisted.words.protocols.jabber.jid import JID

from mixtwisted import access
from mixtwisted import namespaces as ns
from mixtwisted.errors import (
    Forbidden, NotFound, ResourceConstraint, ServiceUnavailable)
from mixtwisted.nodes import jidVisible
from mixtwisted.prefs import defaultPrefs
from mixtwisted.proxy import proxyJID, splitProxyLocalpart
from mixtwisted.throttle import Throttle


#: What may be relayed (RELAY-7): C{(namespace, element)} of the one child
#: of an IQ C{get}, exactly RELAY-7's list.  Every one of these is a query
#: protocol; none defines a C{set} addressed to another user, so C{set} is
#: never relayed.
RELAYED = frozenset([
    (ns.NS_VCARD_TEMP, "vCard"),        # XEP-0054
    (ns.NS_VCARD4, "vcard"),            # XEP-0292
    (ns.NS_DISCO_INFO, "query"),        # XEP-0030, §3.6 of XEP-0369
    (ns.NS_DISCO_ITEMS, "query"),
])

#: Diagnostic queries that are B{not} relayed by default: ping tells
#: whether a hidden user is online, version its client and OS, time its
#: timezone, all to an anonymous requester (VIS-6).  A deployment may opt
#: in with C{Relay.relayed = RELAYED | DIAGNOSTICS} (or by setting
#: L{RELAY_DIAGNOSTICS} before the L{Relay} is made).
DIAGNOSTICS = frozenset([
    (ns.NS_PING, "ping"),               # XEP-0199
    (ns.NS_VERSION, "query"),           # XEP-0092
    (ns.NS_TIME, "time"),               # XEP-0202
])

#: Relay L{DIAGNOSTICS} too; off by default.
RELAY_DIAGNOSTICS = False

#: A request whose payload is in a namespace starting with this is a MIX
#: channel request (join, leave, setnick, ...): to a proxy JID, known or
#: not, it is C{item-not-found} (there is no such channel); any other
#: payload that is not relayed is C{service-unavailable}.
CHANNEL_NAMESPACE_PREFIX = "urn:xmpp:mix:"

#: The vCard protocols: relayed only when the target's C{vCard}
#: preference allows (PREF-7, AMB-24).
VCARD_NAMESPACES = frozenset([ns.NS_VCARD_TEMP, ns.NS_VCARD4])


@dataclass
class Route:
    """
    Where one relayed request goes.

    @ivar channel: the channel name.
    @ivar requesterProxy: the requester's full proxy JID, the C{from} of
        the forwarded request and the C{to} its response must carry.
    @ivar responder: the real JID the request goes to (the target's bare
        JID, or the full JID behind a full proxy JID); the response must
        come from exactly this JID.
    @ivar targetBare: the target's real bare JID.
    @ivar hidden: C{True} when the requester may not see the target's real
        JID (VIS-6): a response naming it is not passed on.
    """
    channel: str
    requesterProxy: str
    responder: str
    targetBare: str
    hidden: bool


@dataclass
class Pending:
    """
    A relayed request waiting for its response.

    @ivar requester: the requester's real full JID (where the response
        goes), normalized.
    @ivar addressed: the proxy JID the requester addressed (the C{from} of
        the response it gets).
    @ivar originalId: the id of the requester's request.
    """
    relayId: str
    requester: str
    addressed: str
    originalId: str
    route: Route
    onTimeout: object = None
    timer: object = field(default=None, repr=False)


def _normal(text):
    """
    A JID string in its normalized form, or C{None} if it is not a JID.
    """
    try:
        return JID(text).full()
    except Exception:
        return None


def _increment(counts, key):
    counts[key] = counts.get(key, 0) + 1


def _decrement(counts, key):
    left = counts.get(key, 0) - 1
    if left > 0:
        counts[key] = left
    else:
        counts.pop(key, None)


class Relay:
    """
    Relay IQs between the participants of a
    L{mixtwisted.channels.ChannelService}.

    @ivar relayed: the C{(namespace, element)} pairs relayed (L{RELAYED},
        plus L{DIAGNOSTICS} when L{RELAY_DIAGNOSTICS} is set).
    @ivar timeout: seconds a relayed request waits for its response before
        the requester gets C{remote-server-timeout} (RELAY-8).
    @ivar throttle: relayed requests per requester real full JID: 10 a
        second on average, bursts of 30; past it, C{resource-constraint}.
    @ivar userThrottle: the same per requester real bare JID (20 a second,
        bursts of 60), so that rotating resources gains nothing.
    @ivar domainThrottle: the same per requester domain (100 a second,
        bursts of 300), so that rotating accounts of one server gains
        little.
    @ivar maxPending: relays one requester (real bare JID, all its clients
        together) may have under way at once.
    @ivar maxPendingPerTarget: relays under way to one target (real bare
        JID, from all requesters together).
    @ivar maxPendingTotal: relays under way in all.  Past any of the
        three, C{resource-constraint} (wait).
    """

    timeout = 30
    maxPending = 50
    maxPendingPerTarget = 20
    maxPendingTotal = 10000

    def __init__(self, channels, clock):
        self.channels = channels
        self.clock = clock
        self.store = channels.store
        self.relayed = RELAYED | DIAGNOSTICS if RELAY_DIAGNOSTICS \
            else RELAYED
        self.throttle = Throttle(clock, 10, 30)
        self.userThrottle = Throttle(clock, 20, 60)
        self.domainThrottle = Throttle(clock, 100, 300)
        self._pending = {}
        self._perRequester = {}
        self._perTarget = {}
        channels.stopHooks.append(self.expireAll)

    @defer.inlineCallbacks
    def resolve(self, localpart):
        """
        Tell whether a localpart on the MIX domain is a proxy JID of an
        existing channel (PJID-5, AMB-30): channel names come first.

        @return: C{None} when it names a channel or is no proxy JID of an
            existing channel (the ordinary handlers answer it); otherwise
            C{(channel, participant)}, C{participant} C{None} for an
            identifier the channel never issued.
        """
        if (yield self.store.getChannel(localpart)) is not None:
            return None
        parts = splitProxyLocalpart(localpart)
        if parts is None:
            return None
        proxyId, name = parts
        channel = yield self.store.getChannel(name)
        if channel is None:
            return None
        participant = yield self.store.getParticipantByProxy(name, proxyId)
        return channel, participant

    def _allow(self, requester):
        """
        Take a token from the requester's full JID, bare JID and domain
        buckets; C{False} as soon as one is empty.
        """
        return (self.throttle.allow(requester.full()) and
                self.userThrottle.allow(requester.userhost()) and
                self.domainThrottle.allow(requester.host))

    @defer.inlineCallbacks
    def prepare(self, requester, channel, target, resource, iqType,
                payload):
        """
        Check one request and tell where it goes (RELAY-2..7, X403-7).

        Checks, in order: the requester's rate per full JID, bare JID and
        domain (C{resource-constraint}); a payload that is never relayed
        (or an IQ C{set}) gets C{item-not-found} when it is a MIX channel
        request (a proxy JID is no channel, PJID-5) and
        C{service-unavailable} otherwise (RELAY-7, ERR-6), whoever asks
        and whether or not the proxy JID exists, so that the answer tells
        nobody which proxy JIDs exist.  For a relayed payload, the
        requester must be a participant (C{forbidden}, whether or not the
        proxy JID exists), and then an unknown proxy JID, a target
        blocking vCards (PREF-7) and a full proxy JID that is no client in
        the presence node (RELAY-6) all answer C{service-unavailable}, as
        a missing account does in RFC 6121 §8.5.1: the answer does not
        tell whether the proxy JID exists.  Then the caps on relays under
        way (per requester bare JID, per target, in all:
        C{resource-constraint}).  Only then is the requester's full proxy
        JID allocated, so that a refused request reserves nothing in the
        store.

        @param requester: the real L{JID} the request came from.
        @param channel: the channel record.
        @param target: the participant record addressed, or C{None} for an
            unknown proxy identifier.
        @param resource: the resource of a full proxy JID, or C{None}.
        @param iqType: C{get} or C{set}.
        @param payload: C{(namespace, name)} of the request's child.
        @rtype: L{Route}
        """
        if not self._allow(requester):
            raise ResourceConstraint("Too many requests; slow down")
        if iqType != "get" or payload not in self.relayed:
            if payload[0].startswith(CHANNEL_NAMESPACE_PREFIX):
                raise NotFound("No such channel")
            raise ServiceUnavailable()
        name = channel.name
        participant = yield self.store.getParticipant(
            name, requester.userhost())
        if participant is None:
            raise Forbidden("You are not a participant of this channel")
        if target is None:
            raise ServiceUnavailable()
        if payload[0] in VCARD_NAMESPACES and \
                self._pref(target, "vCard") != "allow":
            raise ServiceUnavailable()
        if resource is None:
            responder = target.jid
        else:
            responder = yield self._client(name, target, resource)
        targetBare = JID(target.jid).userhost()
        self._checkCaps(requester.userhost(), targetBare)
        hidden = yield self._hidden(channel, target, requester)
        own = yield self.channels.clientResource(
            name, participant.proxyId, requester.full())
        requesterProxy = "%s/%s" % (
            proxyJID(participant.proxyId, name, self.channels.domain), own)
        return Route(channel=name, requesterProxy=_normal(requesterProxy),
                     responder=_normal(responder),
                     targetBare=targetBare, hidden=hidden)

    def _checkCaps(self, requesterBare, targetBare):
        """
        Refuse a relay past one of the caps on relays under way.

        @raise ResourceConstraint: the requester's bare JID has
            C{maxPending} relays under way, the target
            C{maxPendingPerTarget}, or the service C{maxPendingTotal}.
        """
        if self._perRequester.get(requesterBare, 0) >= self.maxPending or \
                self._perTarget.get(targetBare, 0) >= \
                self.maxPendingPerTarget or \
                len(self._pending) >= self.maxPendingTotal:
            raise ResourceConstraint("Too many requests under way")

    @staticmethod
    def _pref(participant, var):
        return participant.prefs.get(var, defaultPrefs()[var])

    @defer.inlineCallbacks
    def _client(self, name, target, resource):
        """
        The real full JID behind a full proxy JID: mapped in the store
        (PJID-6) and, as RELAY-6 decides, a client in the presence node.
        """
        real = yield self.channels.clientBehind(name, target, resource)
        item = yield self.store.getPresence(name, target.proxyId, resource)
        if item is None or _normal(item.jid) != _normal(real):
            raise ServiceUnavailable()
        return real

    @defer.inlineCallbacks
    def _hidden(self, channel, target, requester):
        """
        Tell whether the target's real JID is hidden from the requester
        (VIS-6): not in a jid-visible channel, not shared in a
        jid-maybe-visible one, and the requester is no administrator.
        """
        if jidVisible(channel, target):
            return False
        role = yield self.channels.roleOf(channel, requester)
        return role < access.ADMIN

    def register(self, requester, addressed, originalId, route, onTimeout):
        """
        Keep a relay waiting for its response and start its timer.

        @param requester: the requester's real full JID string.
        @param addressed: the proxy JID string it addressed.
        @param onTimeout: called with the L{Pending} when no response came
            in time (the entry is gone by then).
        @raise ResourceConstraint: past one of the caps on relays under
            way (checked again: requests prepared concurrently).
        @return: the fresh id of the forwarded request.
        """
        requester = _normal(requester)
        bare = JID(requester).userhost()
        self._checkCaps(bare, route.targetBare)
        relayId = secrets.token_urlsafe(18)
        while relayId in self._pending:
            relayId = secrets.token_urlsafe(18)
        pending = Pending(relayId=relayId, requester=requester,
                          addressed=addressed, originalId=originalId,
                          route=route, onTimeout=onTimeout)
        pending.timer = self.clock.callLater(
            self.timeout, self._expire, relayId)
        self._pending[relayId] = pending
        _increment(self._perRequester, bare)
        _increment(self._perTarget, route.targetBare)
        return relayId

    def match(self, relayId, sender, recipient):
        """
        Take the relay a response belongs to (RELAY-5, RELAY-8).

        A response belongs to a relay when its id is the relay's, it comes
        from exactly the JID the request went to, and it is addressed to
        exactly the requester's full proxy JID.  Anything else matches
        nothing and leaves the table as it was (a spoofed response cannot
        cancel a relay).

        @param sender: the response's C{from} (a string).
        @param recipient: the response's C{to} (a string).
        @return: the L{Pending} (removed from the table), or C{None}.
        """
        pending = self._pending.get(relayId) if relayId else None
        if pending is None:
            return None
        if _normal(sender) != pending.route.responder or \
                _normal(recipient) != pending.route.requesterProxy:
            return None
        self._remove(pending)
        if pending.timer is not None and pending.timer.active():
            pending.timer.cancel()
        return pending

    def pendingCount(self):
        """
        The number of relays waiting for their response.
        """
        return len(self._pending)

    def _remove(self, pending):
        del self._pending[pending.relayId]
        _decrement(self._perRequester, JID(pending.requester).userhost())
        _decrement(self._perTarget, pending.route.targetBare)

    def expireAll(self):
        """
        End every relay still waiting as if its time were up: at a
        graceful stop each requester gets its C{remote-server-timeout}
        before the connection closes, never silence (RFC 6120 §8.2.3).
        """
        for relayId in list(self._pending):
            pending = self._pending[relayId]
            if pending.timer is not None and pending.timer.active():
                pending.timer.cancel()
            self._expire(relayId)

    def _expire(self, relayId):
        pending = self._pending.get(relayId)
        if pending is None:
            return
        self._remove(pending)
        if pending.onTimeout is not None:
            pending.onTimeout(pending)
