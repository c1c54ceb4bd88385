"""
PubSub on channel nodes (PS-*, CHAN-5..8), on wokkel's C{PubSubService}.

wokkel parses the request and dispatches it by verb to L{ChannelResource},
which calls the channel logic.  Verbs the resource does not define are
answered by wokkel's C{PubSubResource} with C{feature-not-implemented} and
C{<unsupported/>} (PS-7).  The service is used for parsing and dispatch
only: it does not provide disco (a MIX service MUST NOT advertise generic
PubSub, DISCO-4).
"""

from twisted.internet import defer
from twisted.words.protocols.jabber.jid import InvalidFormat
from twisted.words.xish import domish
from wokkel import pubsub
from wokkel.iwokkel import IPubSubService
from zope.interface import implementer_only

from mixtwisted import namespaces as ns
from mixtwisted.errors import BadRequest, Forbidden, MIXError, \
    ServiceUnavailable
from mixtwisted.handlers.base import SkipHandled, toStanzaError
from mixtwisted.handlers.render import renderItem

#: Nodes the service alone writes (PS-2, PS-3).
_SERVICE_WRITTEN = (ns.NODE_PARTICIPANTS, ns.NODE_JIDMAP,
                    ns.NODE_JIDMAP_VISIBLE, ns.NODE_PRESENCE,
                    ns.NODE_MESSAGES)


class ChannelResource(pubsub.PubSubResource):
    """
    The nodes of every channel; the channel is the request's recipient.
    """

    def __init__(self, channels, admin=None):
        self.channels = channels
        self.admin = admin

    def _channel(self, request):
        recipient = request.recipient
        if recipient is None or recipient.host != self.channels.domain:
            raise ServiceUnavailable()
        if recipient.user is None:
            # PubSub on the service JID (AMB-9).
            raise ServiceUnavailable("Address PubSub requests to a channel")
        if not request.nodeIdentifier:
            raise BadRequest("Node required",
                             appCondition=(ns.NS_PUBSUB_ERRORS, "nodeid-required"))
        return recipient.user

    @defer.inlineCallbacks
    def items(self, request):
        name = self._channel(request)
        items = yield self.channels.readItems(
            request.sender, name, request.nodeIdentifier,
            request.itemIdentifiers, request.maxItems)
        return [renderItem(item) for item in items]

    @defer.inlineCallbacks
    def subscribe(self, request):
        name = self._channel(request)
        node = yield self.channels.subscribeNode(
            request.sender, name, request.nodeIdentifier, request.subscriber)
        return pubsub.Subscription(node, request.subscriber.userhostJID(),
                                   "subscribed")

    @defer.inlineCallbacks
    def unsubscribe(self, request):
        name = self._channel(request)
        yield self.channels.unsubscribeNode(
            request.sender, name, request.nodeIdentifier, request.subscriber)
        return None

    def _write(self, request):
        name = self._channel(request)
        node = ns.canonicalNode(request.nodeIdentifier)
        if node in _SERVICE_WRITTEN:
            raise Forbidden("This node is written by the channel only")
        return name

    def publish(self, request):
        self._write(request)
        return pubsub.PubSubResource.publish(self, request)

    def retract(self, request):
        self._write(request)
        return pubsub.PubSubResource.retract(self, request)

    def purge(self, request):
        self._write(request)
        return pubsub.PubSubResource.purge(self, request)

    def delete(self, request):
        self._write(request)
        return pubsub.PubSubResource.delete(self, request)


@implementer_only(IPubSubService)
class ChannelPubSubService(SkipHandled, pubsub.PubSubService):
    """
    wokkel's PubSub request parsing and dispatch, without its disco, and
    with channel-logic errors mapped to stanza errors.
    """

    def __init__(self, channels, admin=None):
        pubsub.PubSubService.__init__(self, ChannelResource(channels, admin))

    def _onPubSubRequest(self, iq):
        d = defer.maybeDeferred(pubsub.PubSubService._onPubSubRequest,
                                self, iq)
        d.addErrback(self._mapError)
        return d

    @staticmethod
    def _mapError(failure):
        """
        Map channel-logic errors, and a malformed C{jid} attribute that
        wokkel failed to parse, to stanza errors (PS-4).
        """
        failure.trap(MIXError, InvalidFormat, UnicodeError, ValueError)
        if not isinstance(failure.value, MIXError):
            raise toStanzaError(BadRequest(
                "Malformed JID",
                appCondition=(ns.NS_PUBSUB_ERRORS, "invalid-jid")))
        raise toStanzaError(failure.value)

    def _toResponse_items(self, result, resource, request):
        response = domish.Element((ns.NS_PUBSUB, "pubsub"))
        items = response.addElement("items")
        items["node"] = ns.canonicalNode(request.nodeIdentifier)
        for item in result:
            items.addChild(item)
        return response
