"""
The last resort for IQ requests nobody handled (ERR-6).

Every IQ get or set gets exactly one answer: when no handler took it, it
is C{service-unavailable}.  Results and errors are never answered.
"""

from twisted.words.protocols.jabber.error import StanzaError
from wokkel.subprotocols import XMPPHandler


class FallbackHandler(XMPPHandler):
    """
    Answer unhandled IQ requests with C{service-unavailable}.
    """

    def connectionInitialized(self):
        self.xmlstream.addObserver(
            '/iq[@type="get" or @type="set"]', self.onIQ, priority=-1)

    def onIQ(self, iq):
        if iq.__dict__.get("handled"):
            return
        iq.handled = True
        self.send(StanzaError("service-unavailable").toResponse(iq))
