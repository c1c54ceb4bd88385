"""
Presence stanzas to channels (PRES-*, X403-*), and the XML of the
presence node.

Presence is never answered with an error (ERR-4): what the channel does
not take is dropped.  From a client's full JID, available presence creates
or updates its item, C{unavailable} or C{error} removes it; from a bare JID
(or a probe) it asks for the channel's presence (PRES-6).  An C{error}
from a bare JID is presence the channel sent that bounced: it goes to the
delivery logic (DLV-4, L{mixtwisted.delivery}).

An item payload is kept serialized, laid out as the channel writes it:

    <presence xmlns='jabber:client'>
      <nick xmlns='http://jabber.org/protocol/nick'>NICK</nick>
      <mix xmlns='urn:xmpp:mix:presence:0'><jid>REAL</jid><nick>NICK</nick></mix>
      ...the client's show, status, priority and extensions...
    </presence>

(without the white space).  The channel's part ends at the first
C{</mix>}: the client's C{<mix/>} and C{<nick/>} are removed and text is
escaped, so that string occurs nowhere before.  Re-rendering (a new nick,
another visibility) and distributing are string operations on it: a
distribution to N subscribers is one string built once and N addressed
copies (L{mixtwisted.fanout}), each with its own id (PRES-13).
"""

import secrets
from xml.sax.saxutils import unescape

from twisted.internet import defer
from twisted.python import log
from twisted.words.xish.domish import escapeToXml

from mixtwisted import namespaces as ns
from mixtwisted.errors import MIXError
from mixtwisted.fanout import attribute
from mixtwisted.handlers.base import MIXHandler
from mixtwisted.delivery import UNREACHABLE
from mixtwisted.handlers.delivery import errorOf
from mixtwisted.proxy import splitProxyLocalpart

#: How a stored item payload starts and ends.
HEAD = "<presence xmlns='%s'>" % (ns.NS_CLIENT,)
END = "</presence>"
_MIX_END = "</mix>"
_MIX_NICK = "<nick>"

#: Children of the stanza's own namespace that are copied (PRES-13).
_COPIED = frozenset(("show", "status", "priority"))

#: Extension children that are copied, C{(namespace, name)}: entity
#: capabilities (XEP-0115) and last user interaction (XEP-0319).  Every
#: other extension is dropped: the channel's own elements are replaced
#: (PRES-13), and extensions in general may name the sender's account or
#: server -- delays, stanza ids, addresses, MUC C{<item jid/>}, reachability
#: addresses, signatures, vCard photo hashes -- which would betray a
#: hidden JID (VIS-6).
_COPIED_EXTENSIONS = frozenset((
    ("http://jabber.org/protocol/caps", "c"),
    ("urn:xmpp:idle:1", "idle"),
))

_UNESCAPE = {"&apos;": "'", "&quot;": '"'}


def channelPart(nick, jid):
    """
    Serialize the channel's part of a presence: the XEP-0172 nick and the
    XEP-0403 C{<mix/>} (AMB-39), C{<jid/>} only when given (X403-3).
    """
    parts = []
    if nick is not None:
        nick = escapeToXml(nick)
        parts.append("<nick xmlns='%s'>%s</nick>" % (ns.NS_NICK, nick))
    parts.append("<mix xmlns='%s'>" % (ns.NS_MIX_PRESENCE,))
    if jid is not None:
        parts.append("<jid>%s</jid>" % (escapeToXml(jid),))
    if nick is not None:
        parts.append("<nick>%s</nick>" % (nick,))
    parts.append(_MIX_END)
    return "".join(parts)


def clientPart(presence, sender=None):
    """
    Serialize what is copied of a client's presence (PRES-13): C{<show/>},
    every C{<status/>} (with its C{xml:lang}, the stanza's when it has
    none), C{<priority/>}, caps and idle (L{_COPIED_EXTENSIONS}); nothing
    else.  As a second guard (VIS-6), a child whose serialization names
    the sender's bare JID or domain is dropped too.

    @param sender: the sender's L{JID}, or C{None} for no second guard.
    """
    lang = presence.getAttribute((ns.NS_XML, "lang"))
    names = ()
    if sender is not None and sender.host:
        names = tuple(n.lower() for n in (sender.userhost(), sender.host))
    parts = []
    for child in presence.elements():
        if child.uri == presence.uri:
            if child.name not in _COPIED:
                continue
            if child.name == "status" and lang and \
                    not child.hasAttribute((ns.NS_XML, "lang")):
                child[(ns.NS_XML, "lang")] = lang
        elif (child.uri, child.name) not in _COPIED_EXTENSIONS:
            continue
        xml = child.toXml(defaultUri=presence.uri)
        if names:
            folded = xml.lower()
            if any(name in folded for name in names):
                continue
        parts.append(xml)
    return "".join(parts)


def itemPayload(nick, jid, client):
    """
    The stored item payload (X403-2): C{<presence xmlns='jabber:client'>}
    with the channel's part and the client's.
    """
    return HEAD + channelPart(nick, jid) + client + END


class PresenceOutput:
    """
    The XML side of L{mixtwisted.presence.Presence}: rendering item
    payloads and sending presence, probes and disco queries.

    @param send: callable taking a stanza (element or string).
    """

    def __init__(self, send):
        self.send = send

    @staticmethod
    def render(xml, nick, jid):
        cut = xml.index(_MIX_END) + len(_MIX_END)
        return HEAD + channelPart(nick, jid) + xml[cut:]

    @staticmethod
    def nickOf(xml):
        end = xml.index(_MIX_END)
        start = xml.rfind(_MIX_NICK, 0, end)
        if start < 0:
            return None
        text = xml[start + len(_MIX_NICK):end - len("</nick>")]
        return unescape(text, _UNESCAPE)

    def presence(self, fromJID, xml, recipients, unavailable=False):
        """
        Send the presence of an item from the client's full proxy JID to
        each recipient (bare JIDs), each copy with its own id (PRES-13):
        a random prefix per distribution and a counter.  C{unavailable}
        carries only the channel's part (X403-6).
        """
        if unavailable:
            inner = xml[len(HEAD):xml.index(_MIX_END) + len(_MIX_END)]
            kind = " type='unavailable'"
        else:
            inner = xml[len(HEAD):-len(END)]
            kind = ""
        tail = "' from='%s'%s>%s%s" % (attribute(fromJID), kind, inner, END)
        prefix = "<presence id='%s-" % (secrets.token_hex(6),)
        send = self.send
        for number, recipient in enumerate(recipients):
            send(prefix + str(number) + "' to='" + attribute(recipient) +
                 tail)

    def probe(self, fromJID, to):
        self.send("<presence type='probe' from='%s' to='%s'/>"
                  % (attribute(fromJID), attribute(to)))

    def discoInfo(self, fromJID, to, iqId):
        self.send("<iq type='get' id='%s' from='%s' to='%s'>"
                  "<query xmlns='%s'/></iq>"
                  % (attribute(iqId), attribute(fromJID), attribute(to),
                     ns.NS_DISCO_INFO))


class PresenceHandler(MIXHandler):
    """
    Handle C{<presence/>} addressed to the service domain, and the answers
    to the channel's ghost checks.

    @param deliveries: the L{mixtwisted.delivery.Deliveries}, or C{None}:
        presence errors from bare JIDs (bounces) go to it.
    """

    def __init__(self, channels, presence, deliveries=None):
        MIXHandler.__init__(self, channels)
        self.presence = presence
        self.deliveries = deliveries
        presence.output = PresenceOutput(self._send)

    def _send(self, stanza):
        self.send(stanza)

    def connectionInitialized(self):
        self.xmlstream.addObserver("/presence", self.onPresence)
        self.xmlstream.addObserver('/iq[@type="result"]', self.onResponse)
        self.xmlstream.addObserver('/iq[@type="error"]', self.onResponse)
        # Probes go out once the server can route them, after start-up and
        # after every reconnection (PRES-8, D-45).
        d = self.presence.online()
        d.addErrback(log.err, "Presence start-up failed")

    def onResponse(self, iq):
        """
        Take a disco#info answer to a ghost check (PRES-9) -- only one that
        L{mixtwisted.presence.Presence.iqResponse} recognises; other
        responses are left to other handlers.
        """
        self.takeResponse(
            iq, lambda iqId, sender, recipient, iq: self.presence.iqResponse(
                iqId, sender, recipient, iq.getAttribute("type") == "error"),
            "a ghost check")

    def onPresence(self, presence):
        if presence.__dict__.get("handled"):
            return
        presence.handled = True
        d = defer.maybeDeferred(self._dispatch, presence)
        d.addErrback(self._failed)

    @staticmethod
    def _failed(failure):
        # Never answered (ERR-4): refusals are silent, the rest logged.
        if not failure.check(MIXError):
            log.err(failure, "Could not handle a presence")

    def _dispatch(self, presence):
        sender, recipient = self.addresses(presence)
        kind = presence.getAttribute("type")
        if kind == "error" and sender.resource is None:
            # From a bare JID: presence the channel sent (from its own or
            # a proxy JID) bounced (DLV-4).
            if recipient.host == self.domain and recipient.user and \
                    sender.user and self.deliveries is not None:
                errorType, condition = errorOf(presence)
                return self.deliveries.presenceBounced(
                    recipient.user, sender.userhost(), errorType, condition)
            return None
        if kind == "error" and recipient.host == self.domain and \
                recipient.user and recipient.resource is not None:
            # From a client's full JID to a full proxy JID: presence the
            # channel sent to that client (reached at its full JID, issue
            # 6) bounced -- the client is gone (PRES-9): its item goes.
            parts = splitProxyLocalpart(recipient.user)
            if parts is not None:
                if errorOf(presence)[1] in UNREACHABLE:
                    # Its server briefly unreachable, maybe: the client is
                    # ghost-checked instead (D-65).
                    return self.presence.bounced(sender, parts[1])
                return self.presence.unavailable(sender, parts[1])
            return None
        if recipient.host != self.domain or recipient.user is None or \
                recipient.resource is not None:
            return None
        name = recipient.user
        if sender.resource is None:
            # From a bare JID: a resync request (PRES-6, AMB-46).
            if kind in (None, "probe") and self.presence.admit(sender):
                return self.presence.resync(sender, name)
            return None
        if kind in ("unavailable", "error"):
            # Only ever removes state: not throttled (PRES-5, PRES-9).
            return self.presence.unavailable(sender, name)
        if not self.presence.admit(sender):
            return None
        if kind == "probe":
            return self.presence.resync(sender, name)
        if kind is not None:
            # subscribe, subscribed, ...: the roster is the servers' affair.
            return None
        client = clientPart(presence, sender)
        limit = self.channels.limits.maxMessageBytes
        if len(client) > limit:
            return None
        return self.presence.available(
            sender, name, lambda nick, jid: itemPayload(nick, jid, client))
