"""
The first look at every stanza: addresses must parse (ERR-1).

wokkel's own handlers (disco, PubSub) parse C{from} and C{to} as they go
and would answer a malformed address with C{internal-server-error} and a
logged traceback.  This guard runs before every other observer, answers a
malformed address with C{jid-malformed} (RFC 6120 §8.3.3.8) and marks the
stanza handled so nobody else touches it.  Stanzas without C{from} cannot
be answered and are dropped; presence, results and errors are never
answered (ERR-4, ERR-6).
"""

from twisted.words.protocols.jabber.error import StanzaError
from twisted.words.protocols.jabber.jid import InvalidFormat, JID
from wokkel.subprotocols import XMPPHandler


def _parses(text):
    try:
        JID(text)
    except (InvalidFormat, UnicodeError, ValueError):
        return False
    return True


class AddressGuard(XMPPHandler):
    """
    Refuse stanzas whose C{from} or C{to} is missing or malformed.
    """

    def connectionInitialized(self):
        for kind in ("/iq", "/message", "/presence"):
            self.xmlstream.addObserver(kind, self.onStanza, priority=10)

    def onStanza(self, stanza):
        sender = stanza.getAttribute("from")
        recipient = stanza.getAttribute("to")
        if sender and recipient and _parses(sender) and _parses(recipient):
            return
        stanza.handled = True
        if not sender or not _parses(sender):
            return
        if stanza.name == "presence" or \
                stanza.getAttribute("type") in ("result", "error"):
            return
        self.send(StanzaError("jid-malformed", "modify").toResponse(stanza))
