"""
The XML of delivery routing (L{mixtwisted.routing}): the disco#info query
to a user's domain, and its answer.

The query goes from the service domain to the user's domain with a fresh
unguessable id.  An answer is matched strictly, as marker responses are:
its id, from exactly the domain asked, to exactly the service domain; only
a match is consumed (marked handled).  Anything else is left to the other
handlers and, a response, never answered (ERR-6).
"""


from mixtwisted import namespaces as ns
from mixtwisted.fanout import attribute
from mixtwisted.handlers.base import MIXHandler


class RoutingOutput:
    """
    The XML side of L{mixtwisted.routing.Routing}.

    @param send: callable taking a stanza (element or string).
    """

    def __init__(self, send):
        self.send = send

    def discoInfo(self, fromJID, to, iqId):
        self.send("<iq type='get' id='%s' from='%s' to='%s'>"
                  "<query xmlns='%s'/></iq>"
                  % (attribute(iqId), attribute(fromJID), attribute(to),
                     ns.NS_DISCO_INFO))


def features(iq):
    """
    The C{var}s of the C{<feature/>}s of a disco#info result, or C{None}
    when it holds no C{<query/>}.
    """
    for query in iq.elements(ns.NS_DISCO_INFO, "query"):
        return {f.getAttribute("var") for f in
                query.elements(ns.NS_DISCO_INFO, "feature")
                if f.getAttribute("var")}
    return None


class RoutingHandler(MIXHandler):
    """
    Take the answers to the domain queries of a
    L{mixtwisted.routing.Routing}.
    """

    def __init__(self, channels, routing):
        MIXHandler.__init__(self, channels)
        self.routing = routing
        routing.output = RoutingOutput(self._send)

    def _send(self, stanza):
        self.send(stanza)

    def connectionInitialized(self):
        self.xmlstream.addObserver(
            '/iq[@type="result" or @type="error"]', self.onResponse)

    def onResponse(self, iq):
        def match(iqId, sender, recipient, iq):
            found = None
            if iq.getAttribute("type") == "result":
                found = features(iq)
                if found is None:
                    found = set()
            return self.routing.discoResponse(iqId, sender, recipient, found)
        self.takeResponse(iq, match, "a domain disco")
