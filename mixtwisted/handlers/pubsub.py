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
from mixtwisted.handlers.render import (
    emptyPubSub, formTypes, itemPayload, publishedForm, publishResult,
    readForm, renderItem)

#: Nodes the service alone writes (PS-2, PS-3).
_SERVICE_WRITTEN = (ns.NODE_PARTICIPANTS, ns.NODE_JIDMAP,
                    ns.NODE_JIDMAP_VISIBLE, ns.NODE_PRESENCE,
                    ns.NODE_MESSAGES)


_AVATAR = (ns.NODE_AVATAR_DATA, ns.NODE_AVATAR_METADATA)


def _verbElement(request):
    """
    Return the verb element (C{<publish/>}, C{<retract/>}) of a parsed
    PubSub request.
    """
    for child in request.element.elements(ns.NS_PUBSUB, "pubsub"):
        for verb in child.elements(ns.NS_PUBSUB, request.verb):
            return verb
    raise BadRequest("Missing %s" % (request.verb,))


def _oneItem(request):
    """
    Return the one C{<item/>} of a publish request (ADM-7: one item per
    request).
    """
    if len(request.items) != 1:
        raise BadRequest("Publish exactly one item",
                         appCondition=(ns.NS_PUBSUB_ERRORS,
                                       "item-required"))
    return request.items[0]


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
                             appCondition=(ns.NS_PUBSUB_ERRORS,
                                           "nodeid-required"))
        return recipient.user

    @defer.inlineCallbacks
    def items(self, request):
        """
        Read a node's items, rendered in the requester's protocol revision
        (REV-8, REV-9, REV-16); C{<item id/>} selections may name an item
        by either spelling of its id.
        """
        name = self._channel(request)
        node = ns.canonicalNode(request.nodeIdentifier)
        if node in _AVATAR and self.admin is not None:
            items = yield self.admin.readAvatar(
                request.sender, name, node, request.itemIdentifiers,
                request.maxItems)
            return [renderItem(item) for item in items]
        items = yield self.channels.readItems(
            request.sender, name, request.nodeIdentifier,
            request.itemIdentifiers, request.maxItems)
        revision = yield self.channels.revisionOf(
            name, request.sender.userhost())
        return [renderItem(item, revision=revision) for item in items]

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

    @defer.inlineCallbacks
    def publish(self, request):
        """
        Publish to the info and config nodes (a data form, ADM-2, ADM-4),
        the allowed and banned nodes (one JID or domain as item id, ADM-7)
        and the avatar nodes (NODE-13).  The rights are checked before the
        payload is looked at.  A form may state the FORM_TYPE of either
        revision (doc/protocol-revisions.md §3.17).
        """
        name = self._write(request)
        if self.admin is None:
            return (yield pubsub.PubSubResource.publish(self, request))
        node = ns.canonicalNode(request.nodeIdentifier)
        sender = request.sender
        yield self.admin.writableNode(sender, name, node)
        if node in (ns.NODE_INFO, ns.NODE_CONFIG):
            submitted = readForm(publishedForm(_verbElement(request)),
                                 formTypes(node))
            if node == ns.NODE_INFO:
                itemId = yield self.admin.publishInfo(sender, name, submitted)
            else:
                itemId = yield self.admin.publishConfig(
                    sender, name, submitted)
            return publishResult(node, itemId)
        item = _oneItem(request)
        if node in (ns.NODE_ALLOWED, ns.NODE_BANNED):
            yield self.admin.addListItem(sender, name, node,
                                         item.getAttribute("id"))
            return emptyPubSub()
        itemId = yield self.admin.publishAvatar(
            sender, name, node, item.getAttribute("id"), itemPayload(item))
        return publishResult(node, itemId)

    @defer.inlineCallbacks
    def retract(self, request):
        """
        Retract from the allowed and banned nodes (ADM-8) and the avatar
        nodes (NODE-13); the info and config nodes always hold their one
        item (C{feature-not-implemented}, C{retract-items}).
        """
        name = self._write(request)
        node = ns.canonicalNode(request.nodeIdentifier)
        if self.admin is None or node in (ns.NODE_INFO, ns.NODE_CONFIG):
            return (yield pubsub.PubSubResource.retract(self, request))
        sender = request.sender
        yield self.admin.writableNode(sender, name, node)
        if node in (ns.NODE_ALLOWED, ns.NODE_BANNED):
            yield self.admin.retractListItems(sender, name, node,
                                              request.itemIdentifiers)
            return emptyPubSub()
        yield self.admin.retractAvatar(sender, name, node,
                                       request.itemIdentifiers)
        return None

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
