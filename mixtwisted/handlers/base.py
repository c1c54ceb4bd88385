"""
What every MIX protocol handler shares: the mapping from channel-logic
errors to stanza errors, the IQ dispatch, and addressing helpers.
"""

from functools import lru_cache

from twisted.internet import defer
from twisted.python import log
from twisted.words.protocols.jabber.error import StanzaError
from twisted.words.protocols.jabber.jid import InvalidFormat, JID
from twisted.words.protocols.jabber.xmlstream import toResponse
from twisted.words.xish import domish, xpath
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler

from mixtwisted.errors import BadRequest, MIXError, ServiceUnavailable


class MIXStanzaError(StanzaError):
    """
    A stanza error whose response carries a chosen payload (or none)
    instead of a copy of the request's children.

    @ivar payload: element to put before C{<error/>}, or C{None}.
    """

    def __init__(self, condition, type=None, text=None, appCondition=None,
                 payload=None):
        StanzaError.__init__(self, condition, type=type, text=text,
                             appCondition=appCondition)
        self.payload = payload

    def toResponse(self, stanza):
        response = toResponse(stanza, stanzaType="error")
        if self.payload is not None:
            response.addChild(self.payload)
        response.addChild(self.getElement())
        return response


def toStanzaError(exc, payload=None):
    """
    Map a L{MIXError} to the stanza error it stands for (ERR-7): the one
    place where channel-logic errors meet XML.
    """
    appCondition = None
    if exc.appCondition is not None:
        uri, name = exc.appCondition[:2]
        appCondition = domish.Element((uri, name))
        for key, value in (exc.appCondition[2:3] or [{}])[0].items():
            appCondition[key] = value
    return MIXStanzaError(exc.condition, exc.errorType, exc.text,
                          appCondition, payload)


def errorResponse(stanza, exc):
    """
    Build the error response to C{stanza} for any exception: L{MIXError}
    and L{StanzaError} map to their conditions, anything else becomes
    C{internal-server-error} without details (no traceback on the wire)
    and is logged.
    """
    if isinstance(exc, MIXError):
        return toStanzaError(exc).toResponse(stanza)
    if isinstance(exc, StanzaError):
        return exc.toResponse(stanza)
    log.err(exc, "Unexpected error handling a stanza")
    return MIXStanzaError("internal-server-error", "wait").toResponse(stanza)


@lru_cache(maxsize=4096)
def _cachedJID(text):
    return JID(text)


def parseJID(text):
    """
    Parse a JID attribute; a missing or malformed one is a C{bad-request}.

    Parsed JIDs are kept in a bounded cache: stringprep is the most costly
    step of handling a stanza, and the same few addresses recur.
    """
    if not text:
        raise BadRequest("Missing JID")
    try:
        return _cachedJID(text)
    except (InvalidFormat, UnicodeError, ValueError):
        raise BadRequest("Malformed JID")


def requestQuery(name, uris, types=("set",)):
    """
    The XPath of an IQ request of one of C{types} whose child C{<name/>}
    is in one of the namespaces C{uris}: one observer per request element,
    whatever the revision it is sent in (doc/protocol-revisions.md §4).
    """
    def anyOf(attribute, values):
        return " or ".join('@%s="%s"' % (attribute, v) for v in values)
    return "/iq[%s]/%s[%s]" % (anyOf("type", types), name,
                               anyOf("xmlns", uris))


def payload(stanza, uri, name):
    """
    Return the child C{(uri, name)} an observer matched, or raise
    C{bad-request}; never just the first child, which may be another one.

    @param uri: the namespace, or a tuple of the namespaces the request is
        served in: the element's own C{uri} then tells which one it was
        sent in, and the response is built in it (answered per request,
        doc/protocol-revisions.md §4).
    """
    uris = (uri,) if isinstance(uri, str) else uri
    for child in stanza.elements():
        if child.name == name and child.uri in uris:
            return child
    raise BadRequest("Missing %s" % (name,))


def answerTo(request):
    """
    Return a new, empty element of the same name and namespace as the
    request element C{request}: the answer of a request served in several
    namespaces is in the one it was sent in.
    """
    return domish.Element((request.uri, request.name))


class SkipHandled:
    """
    Mixin for wokkel's C{IQHandlerMixin} handlers (disco, PubSub), whose
    C{handleRequest} does not look at C{handled}: leave alone a request
    another handler (the address guard) already answered.
    """

    def handleRequest(self, iq):
        if iq.__dict__.get("handled"):
            return
        return super().handleRequest(iq)


class MIXHandler(XMPPHandler):
    """
    Base of the MIX handlers.

    @ivar channels: the L{mixtwisted.channels.ChannelService}.
    """

    def __init__(self, channels):
        XMPPHandler.__init__(self)
        self.channels = channels

    @property
    def domain(self):
        return self.channels.domain

    def addresses(self, stanza):
        """
        Return C{(sender, recipient)} JIDs of a stanza.

        @raise BadRequest: for malformed addresses.
        """
        return parseJID(stanza.getAttribute("from")), \
            parseJID(stanza.getAttribute("to"))

    def takeResponse(self, iq, match, description):
        """
        Offer an IQ response to the table of requests this handler sent,
        and mark it handled when it belongs there.

        Responses without an id or with malformed addresses belong to
        nobody and are left alone; a response is never answered (ERR-6).
        Errors of C{match} are logged, not raised: a response must not
        break the stream's dispatch.

        @param match: called with C{(id, from, to, iq)} (C{from} and C{to}
            as full JID strings); returns whether the response was one of
            the handler's and was taken.
        @param description: what the responses answer, for the log.
        """
        if iq.__dict__.get("handled"):
            return
        iqId = iq.getAttribute("id")
        if not iqId:
            return
        try:
            sender, recipient = self.addresses(iq)
        except MIXError:
            return
        try:
            matched = match(iqId, sender.full(), recipient.full(), iq)
        except Exception:
            log.err(None, "Could not take a response to %s" % (description,))
            return
        if matched:
            iq.handled = True

    def isService(self, recipient):
        return recipient.user is None and recipient.host == self.domain

    def channelName(self, recipient):
        """
        Return the channel localpart a stanza is addressed to, or raise the
        error for a stanza addressed elsewhere.
        """
        if recipient.host != self.domain:
            raise ServiceUnavailable()
        if recipient.user is None:
            raise BadRequest("Address this request to a channel")
        return recipient.user


class MIXIQHandler(MIXHandler, IQHandlerMixin):
    """
    A handler of IQ requests, dispatched by C{iqHandlers} as in wokkel.

    Handler methods may raise (or fail with) L{MIXError}; the mapping to a
    stanza error happens here, once.  A handler method returns the
    element(s) for the result, or C{None} for an empty result.
    """

    iqHandlers = {}

    def connectionInitialized(self):
        for query in self.iqHandlers:
            self.xmlstream.addObserver(query, self.handleRequest)

    def handleRequest(self, iq):
        if iq.__dict__.get("handled"):
            return
        for query, method in self.iqHandlers.items():
            if xpath.internQuery(query).matches(iq):
                break
        else:
            return
        iq.handled = True
        d = defer.maybeDeferred(getattr(self, method), iq)
        d.addCallback(self._toResult, iq)
        d.addErrback(lambda failure: errorResponse(iq, failure.value))
        d.addCallback(self.send)
        d.addErrback(log.err, "Could not send a response")

    @staticmethod
    def _toResult(result, iq):
        response = toResponse(iq, "result")
        if result is not None:
            if domish.IElement.providedBy(result):
                response.addChild(result)
            else:
                for element in result:
                    response.addChild(element)
        return response
