"""
Errors raised by the channel logic.

The channel logic knows nothing of XML: it raises these exceptions, and the
protocol layer maps them to stanza errors in one place
(L{mixtwisted.handlers.base.toStanzaError}).  Each class names the RFC 6120
condition it stands for (requirements.md ERR-7); C{pubsubCondition} adds the
XEP-0060 application condition where one applies (ERR-5).
"""


class MIXError(Exception):
    """
    A request the service refuses.

    @cvar condition: RFC 6120 defined condition.
    @cvar errorType: RFC 6120 error type.
    @ivar text: optional human-readable text for the error's C{<text/>}.
    @ivar appCondition: optional C{(namespace, name, attributes)} of an
        application-specific condition element.
    @ivar payload: optional object the protocol layer echoes before the
        error (the failed C{<subscribe/>} list of a join, JOIN-5).
    """

    condition = "undefined-condition"
    errorType = "cancel"

    def __init__(self, text=None, appCondition=None, payload=None):
        Exception.__init__(self, text or self.condition)
        self.text = text
        self.appCondition = appCondition
        self.payload = payload


class NotFound(MIXError):
    """Channel, proxy JID, node or item does not exist."""
    condition = "item-not-found"


class BadRequest(MIXError):
    """Missing or invalid element or attribute, malformed form."""
    condition = "bad-request"
    errorType = "modify"


class NotAcceptable(MIXError):
    """Value understood but refused by policy (bad nick, limits)."""
    condition = "not-acceptable"
    errorType = "modify"


class Forbidden(MIXError):
    """The requester lacks the right."""
    condition = "forbidden"
    errorType = "auth"


class NotAuthorized(MIXError):
    """Channel discovery by a requester not allowed to see the channel."""
    condition = "not-authorized"
    errorType = "auth"


class Conflict(MIXError):
    """Name or nick already taken, channel exists."""
    condition = "conflict"


class NotAllowed(MIXError):
    """Action disabled by configuration."""
    condition = "not-allowed"


class ServiceUnavailable(MIXError):
    """Payload not handled by the addressed entity."""
    condition = "service-unavailable"


class UnexpectedRequest(MIXError):
    """Request out of place (unsubscribe while not subscribed)."""
    condition = "unexpected-request"


class PolicyViolation(MIXError):
    """A size limit was exceeded."""
    condition = "policy-violation"
    errorType = "modify"


class ResourceConstraint(MIXError):
    """The requester has too much under way, or sends too fast."""
    condition = "resource-constraint"
    errorType = "wait"


class RemoteServerTimeout(MIXError):
    """No answer from the other side in time (RELAY-8)."""
    condition = "remote-server-timeout"
    errorType = "wait"
