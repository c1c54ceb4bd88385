"""
The last resort for IQ requests nobody handled (ERR-6).

Every IQ get or set gets exactly one answer: when no handler took it, it
is C{service-unavailable}, with C{<error/>} as its only child: a request
in a namespace the service does not serve may come from ejabberd's MIX-PAM
(a join of a later revision), which needs exactly one child in the answer
to pass the error on to its client (REV-6, D-70).  Results and errors are
never answered.
"""

from wokkel.subprotocols import XMPPHandler

from mixtwisted.handlers.base import MIXStanzaError


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
        self.send(MIXStanzaError("service-unavailable").toResponse(iq))
