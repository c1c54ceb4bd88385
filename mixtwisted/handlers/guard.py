"""
The first look at every stanza: addresses must parse (ERR-1).

wokkel's own handlers (disco, PubSub) parse C{from} and C{to} as they go
and would answer a malformed address with C{internal-server-error} and a
logged traceback.  This guard runs before every other observer, answers a
malformed address with C{jid-malformed} (RFC 6120 §8.3.3.8) and marks the
stanza handled so nobody else touches it.  Stanzas without C{from} cannot
be answered and are dropped; presence, results and errors are never
answered (ERR-4, ERR-6).

It also resets C{handled}: domish elements answer unknown attributes with a
child element of that name, so a client-supplied C{<handled/>} child would
otherwise make every handler believe the stanza was already taken care of.

When the service stops (L{AddressGuard.stopAccepting}) the guard takes
every stanza itself, so that no new work starts while the work under way
finishes: requests and messages are answered with a C{service-unavailable}
error of type C{wait} (try again later), the rest is dropped.

Its answers carry C{<error/>} as their only child, as every answer of the
MIX handlers does (L{MIXStanzaError}): no copy of the request's children,
which a MIX-PAM server relaying a join cannot take (REV-6).
"""

from twisted.words.protocols.jabber import jid as jidmodule
from wokkel.subprotocols import XMPPHandler

from mixtwisted.errors import BadRequest
from mixtwisted.handlers.base import MIXStanzaError, parseJID

#: Twisted's cache of interned JIDs (C{jid.internJID}, used by wokkel for
#: every request it parses) never forgets an entry; past this size it is
#: emptied, so that a stream of made-up JIDs cannot grow memory without end.
INTERN_CACHE_LIMIT = 10000

_internCache = vars(jidmodule).get("__internJIDs")


def _parses(text):
    try:
        parseJID(text)
    except BadRequest:
        return False
    return True


class AddressGuard(XMPPHandler):
    """
    Refuse stanzas whose C{from} or C{to} is missing or malformed, and
    every stanza once the service is stopping.

    @ivar accepting: C{False} once L{stopAccepting} was called.
    @ivar refused: how many stanzas were refused since then.
    """

    accepting = True
    refused = 0

    def connectionInitialized(self):
        for kind in ("/iq", "/message", "/presence"):
            self.xmlstream.addObserver(kind, self.onStanza, priority=10)

    def stopAccepting(self):
        """
        Take no new stanza from now on: the service is stopping.
        """
        self.accepting = False

    def onStanza(self, stanza):
        if not self.accepting:
            self._refuse(stanza)
            return
        stanza.handled = False
        if _internCache is not None and \
                len(_internCache) > INTERN_CACHE_LIMIT:
            _internCache.clear()
        sender = stanza.getAttribute("from")
        recipient = stanza.getAttribute("to")
        if sender and recipient and _parses(sender) and _parses(recipient):
            return
        stanza.handled = True
        if not sender or stanza.name == "presence" or \
                stanza.getAttribute("type") in ("result", "error"):
            return
        # Answer even a sender we cannot parse (a JID valid by RFC 7622 may
        # be refused by Twisted's stringprep): the server routes the reply
        # by the address as written.
        self.send(MIXStanzaError("jid-malformed", "modify").toResponse(
            stanza))

    def _refuse(self, stanza):
        stanza.handled = True
        self.refused += 1
        if not stanza.getAttribute("from") or stanza.name == "presence" or \
                stanza.getAttribute("type") in ("result", "error"):
            return
        self.send(MIXStanzaError(
            "service-unavailable", "wait",
            "The service is shutting down").toResponse(stanza))
