"""
The XML of ensuring message delivery (DLV-1..4, AMB-36): reading bounces,
sending C{<marker/>} IQs and retransmissions, taking marker responses.

The logic is L{mixtwisted.delivery.Deliveries}.  Bounces arrive as message
and presence errors and are read by the message and presence handlers
with L{errorOf}; this handler takes the responses to markers and is the
logic's output.

Marker responses are matched as relayed responses are
(L{mixtwisted.relay.Relay.match}, RELAY-8): on the marker's fresh random
id, from exactly the JID it went to (the recipient's bare JID) and to
exactly the channel JID that sent it; only a match is consumed (marked
handled).  Anything else -- spoofed, late or unexpected -- is left to the
other handlers and, a response, never answered (ERR-6).

The handler also tells the logic when the component's stream is up
(C{connectionInitialized}) and down (C{connectionLost}): while it is down
nothing is sent -- a retransmission queued by wokkel's stream manager could
be dropped past the component's bound (C{maxQueuedStanzas}) after it was
removed from the store.
"""


from mixtwisted import namespaces as ns
from mixtwisted.fanout import Template, attribute
from mixtwisted.handlers.base import MIXHandler
from mixtwisted.revisions import archivedFor


def errorOf(stanza):
    """
    Return C{(type, condition)} of the C{<error/>} of an error stanza,
    C{(None, None)} when there is none.
    """
    for error in stanza.elements():
        if error.name != "error" or error.uri != stanza.uri:
            continue
        for condition in error.elements(ns.NS_STANZAS):
            if condition.name != "text":
                return error.getAttribute("type"), condition.name
        return error.getAttribute("type"), None
    return None, None


class DeliveryOutput:
    """
    The XML side of L{mixtwisted.delivery.Deliveries}.

    @param send: callable taking a stanza (element or string).
    """

    def __init__(self, send):
        self.send = send

    def marker(self, fromJID, to, iqId):
        """
        Send C{<iq type='get'><marker xmlns='urn:xmpp:mix:1'/></iq>}
        (DLV-2).
        """
        self.send("<iq type='get' id='%s' from='%s' to='%s'>"
                  "<marker xmlns='%s'/></iq>"
                  % (attribute(iqId), attribute(fromJID), attribute(to),
                     ns.NS_MIX))

    def retransmit(self, xml, to, revision, channelJID):
        """
        Send an archived stanza (DLV-3): as stored -- same id, same
        payload -- addressed to C{to}, in the form of C{to}'s protocol
        revision: a C{urn:xmpp:mix:core:1} participant gets it as its MAM
        results show it (REV-14; C{channelJID} is the stanza's C{from}).
        """
        self.send(Template(archivedFor(revision, xml, channelJID)).to(to))


class DeliveryHandler(MIXHandler):
    """
    Take the responses to the channel's markers.

    @ivar deliveries: the L{mixtwisted.delivery.Deliveries}.
    """

    def __init__(self, channels, deliveries):
        MIXHandler.__init__(self, channels)
        self.deliveries = deliveries
        deliveries.output = DeliveryOutput(self._send)

    def _send(self, stanza):
        self.send(stanza)

    def connectionInitialized(self):
        self.xmlstream.addObserver(
            '/iq[@type="result" or @type="error"]', self.onResponse)
        self.deliveries.connected()

    def connectionLost(self, reason):
        self.deliveries.disconnected()

    def onResponse(self, iq):
        def match(iqId, sender, recipient, iq):
            condition = None
            if iq.getAttribute("type") == "error":
                condition = errorOf(iq)[1] or "undefined-condition"
            return self.deliveries.markerResponse(
                iqId, sender, recipient, condition)
        self.takeResponse(iq, match, "a marker")
