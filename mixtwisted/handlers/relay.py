"""
IQ stanzas addressed to proxy JIDs (RELAY-1..8, X403-7, PJID-5, AMB-30).

Requests: an IQ C{get} or C{set} to C{<id>#<channel>@<mix domain>} (bare
or with a resource) is claimed here before any channel handler sees it
(priority 5; the address guard runs at 10).  Whether the localpart really
is a proxy JID is decided from the store (AMB-30: a channel may be called
C{x#y}); when it names a channel, or no channel C{<channel>} exists, the
request is given back to the ordinary handlers by dispatching it once more
(this handler skips it on the second pass).

Responses: IQ results and errors are matched here against the relays
under way, on id, sender and recipient together; only a match is consumed
(marked handled) and routed back.  wokkel's C{StreamManager} matches
responses to its own requests on the id alone: relayed requests carry
fresh random ids it never issued, so it never takes one of ours, and we
never take one of its.  Responses to proxy JIDs that match no relay are
not routed anywhere and never answered (ERR-6).
"""

from twisted.internet import defer
from twisted.python import log
from twisted.words.xish import domish

from mixtwisted import namespaces as ns
from mixtwisted.errors import BadRequest, ServiceUnavailable
from mixtwisted.handlers.base import MIXHandler, errorResponse, parseJID
from mixtwisted.errors import RemoteServerTimeout

#: Set on a request given back to the ordinary handlers, so that this
#: handler lets it pass on the second dispatch.
_PASSED = "_mixRelayPassed"


def _copy(stanza, relayId, sender, recipient):
    """
    A copy of an IQ with new id and addresses and the same payload.
    """
    copy = domish.Element((stanza.uri, "iq"))
    copy["type"] = stanza["type"]
    copy["id"] = relayId
    copy["from"] = sender
    copy["to"] = recipient
    lang = stanza.getAttribute((ns.NS_XML, "lang"))
    if lang:
        copy[(ns.NS_XML, "lang")] = lang
    for child in stanza.children:
        copy.addChild(child)
    return copy


class RelayHandler(MIXHandler):
    """
    Relay IQ requests to participants' proxy JIDs and their responses.

    @ivar relay: the L{mixtwisted.relay.Relay}.
    """

    def __init__(self, channels, relay):
        MIXHandler.__init__(self, channels)
        self.relay = relay

    def connectionInitialized(self):
        self.xmlstream.addObserver(
            '/iq[@type="get" or @type="set"]', self.onRequest, priority=5)
        self.xmlstream.addObserver(
            '/iq[@type="result" or @type="error"]', self.onResponse,
            priority=5)

    # Requests

    def onRequest(self, iq):
        if iq.__dict__.get("handled") or iq.__dict__.get(_PASSED):
            return
        recipient = parseJID(iq.getAttribute("to"))
        if recipient.host != self.domain or recipient.user is None or \
                "#" not in recipient.user:
            return
        iq.handled = True
        d = defer.maybeDeferred(self._relay, iq, recipient)
        d.addErrback(lambda f: self.send(errorResponse(iq, f.value)))
        d.addErrback(log.err, "Could not answer a relayed request")

    @defer.inlineCallbacks
    def _relay(self, iq, recipient):
        resolved = yield self.relay.resolve(recipient.user)
        if resolved is None:
            self._giveBack(iq)
            return
        channel, target = resolved
        sender = parseJID(iq.getAttribute("from"))
        if sender.host == self.domain:
            raise ServiceUnavailable()
        payload = list(iq.elements())
        if len(payload) != 1 or not iq.getAttribute("id"):
            # RFC 6120 §8.2.3: exactly one payload, and an id.
            raise BadRequest("An IQ request has an id and one payload")
        route = yield self.relay.prepare(
            sender, channel, target, recipient.resource, iq["type"],
            (payload[0].uri, payload[0].name))
        relayId = self.relay.register(
            sender.full(), recipient.full(), iq["id"], route,
            lambda pending: self._timedOut(iq))
        self.send(_copy(iq, relayId, route.requesterProxy, route.responder))

    def _giveBack(self, iq):
        """
        Dispatch a request that is not for a proxy JID once more, for the
        ordinary handlers (the address guard resets C{handled}).
        """
        iq.handled = False
        setattr(iq, _PASSED, True)
        if self.xmlstream is not None:
            self.xmlstream.dispatch(iq)

    def _timedOut(self, iq):
        self.send(errorResponse(iq, RemoteServerTimeout(
            "No response from the participant")))

    # Responses

    def onResponse(self, iq):
        if iq.__dict__.get("handled"):
            return
        pending = self.relay.match(iq.getAttribute("id"),
                                   iq.getAttribute("from"),
                                   iq.getAttribute("to"))
        if pending is None:
            return
        iq.handled = True
        if pending.route.hidden and self._names(iq, pending.route.targetBare):
            # VIS-6: the response would show the target's real JID to a
            # requester from whom the channel hides it.
            response = domish.Element((iq.uri, "iq"))
            response["type"] = "error"
            response["id"] = pending.originalId
            response["from"] = pending.addressed
            response["to"] = pending.requester
            error = response.addElement("error")
            error["type"] = "cancel"
            error.addElement((ns.NS_STANZAS, "service-unavailable"))
            self.send(response)
            return
        self.send(_copy(iq, pending.originalId, pending.addressed,
                        pending.requester))

    @staticmethod
    def _names(iq, bare):
        """
        Tell whether the payload of a response names the target (VIS-6).

        Best effort, not a proof: it looks for the target's bare JID in the
        serialized payload (any case), also with the C{@} escaped (C{%40},
        XEP-0106 C{\\40}, C{&#64;}, C{&#x40;}), and for any C{jid}
        attribute whose domain is the target's (a server listing the
        user's nodes, or the server itself, under C{jid='<domain>'}).  A
        payload naming the target in another encoding still gets through;
        one naming another user of the same server is refused too.
        """
        bare = bare.lower()
        local, _, domain = bare.rpartition("@")
        text = "".join(child.toXml() for child in iq.elements()).lower()
        needles = [bare]
        if local:
            needles.extend(local + escaped + domain for escaped in
                           ("%40", "\\40", "&#64;", "&#x40;", "&amp;#64;",
                            "&amp;#x40;"))
        if any(needle in text for needle in needles):
            return True
        return any(_domainOf(value) == domain
                   for value in _jidAttributes(iq))


def _jidAttributes(element):
    """
    The values of every C{jid} attribute below C{element}.
    """
    for child in element.elements():
        value = child.attributes.get("jid")
        if value is not None:
            yield value
        yield from _jidAttributes(child)


def _domainOf(value):
    """
    The domain part of a JID-like string, lower case, without a trailing
    dot.
    """
    value = value.strip().lower().split("/", 1)[0]
    return value.rpartition("@")[2].rstrip(".")
