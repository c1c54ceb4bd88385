"""
Joining, leaving, changing subscriptions and setting nicks: the requests a
participant (or its server) sends to a channel (JOIN-*, NICK-1..6).
"""

from twisted.internet import defer
from twisted.words.xish import domish

from mixtwisted import namespaces as ns
from mixtwisted.config import Field
from mixtwisted.errors import BadRequest, MIXError
from mixtwisted.handlers.base import MIXIQHandler, payload, toStanzaError
from mixtwisted.handlers.render import findForm, readForm, renderForm
from mixtwisted.invitations import Invitation
from mixtwisted.prefs import PREFERENCES

JOIN = '/iq[@type="set"]/join[@xmlns="%s"]' % ns.NS_MIX
LEAVE = '/iq[@type="set"]/leave[@xmlns="%s"]' % ns.NS_MIX
UPDATE = '/iq[@type="set"]/update-subscription[@xmlns="%s"]' % ns.NS_MIX
SETNICK = '/iq[@type="set"]/setnick[@xmlns="%s"]' % ns.NS_MIX


def prefsFields(values):
    """
    C{(Field-like, value)} pairs of the preference form (JOIN-11, PREF-3).
    """
    return tuple((Field(var, "list-single", default, options, label=label),
                  values.get(var, default))
                 for var, options, default, label in PREFERENCES)


def readInvitation(element):
    """
    Read an C{<invitation/>} element into an
    L{mixtwisted.invitations.Invitation}, fields as received (a missing one
    is C{None}, which makes the invitation invalid).
    """
    values = dict.fromkeys(("inviter", "invitee", "channel", "token"))
    for child in element.elements():
        if child.uri == ns.NS_MIX and child.name in values and \
                values[child.name] is None:
            values[child.name] = str(child).strip()
    return Invitation(**values)


def subscribeElements(parent, nodes, name="subscribe"):
    for node in nodes:
        parent.addElement(name)["node"] = node


class ParticipationHandler(MIXIQHandler):
    """
    Serve join, leave, update-subscription and setnick at channel JIDs.
    """

    iqHandlers = {JOIN: "_onJoin", LEAVE: "_onLeave",
                  UPDATE: "_onUpdateSubscription", SETNICK: "_onSetNick"}

    def _target(self, iq, element):
        """
        Return C{(sender, channel name)}; a C{channel} attribute naming
        another channel is a C{bad-request} (AMB-16).
        """
        sender, recipient = self.addresses(iq)
        name = self.channelName(recipient)
        attribute = element.getAttribute("channel")
        if attribute is not None and \
                self.channels.prepareChannelName(attribute) != name:
            raise BadRequest("channel attribute names another channel")
        return sender, name

    @staticmethod
    def _nodes(element, name="subscribe"):
        nodes = []
        for child in element.elements(ns.NS_MIX, name):
            node = child.getAttribute("node")
            if not node:
                raise BadRequest("%s without node" % (name,))
            nodes.append(node)
        return nodes

    @defer.inlineCallbacks
    def _onJoin(self, iq):
        join = payload(iq, ns.NS_MIX, "join")
        sender, name = self._target(iq, join)
        nodes = self._nodes(join)
        form = findForm(join)
        submitted = readForm(form) if form is not None else None
        # JOIN-12, INV-4: the invitation is a child of <join/> (AMB-28).
        invitation = None
        for element in join.elements(ns.NS_MIX, "invitation"):
            invitation = readInvitation(element)
            break
        try:
            result = yield self.channels.join(sender, name, nodes, submitted,
                                              invitation)
        except MIXError as e:
            if e.payload is None:
                raise
            # JOIN-5: echo the nodes that failed for the first reason.
            failed = domish.Element((ns.NS_MIX, "join"))
            subscribeElements(failed, e.payload)
            raise toStanzaError(e, failed)
        response = domish.Element((ns.NS_MIX, "join"))
        response["jid"] = result.proxyJID
        subscribeElements(response, result.nodes)
        if result.prefs is not None:
            response.addChild(renderForm(prefsFields(result.prefs)))
        return response

    @defer.inlineCallbacks
    def _onLeave(self, iq):
        sender, name = self._target(iq, payload(iq, ns.NS_MIX, "leave"))
        yield self.channels.leave(sender, name)
        return domish.Element((ns.NS_MIX, "leave"))

    @defer.inlineCallbacks
    def _onUpdateSubscription(self, iq):
        update = payload(iq, ns.NS_MIX, "update-subscription")
        sender, name = self._target(iq, update)
        added, removed = yield self.channels.updateSubscription(
            sender, name, self._nodes(update),
            self._nodes(update, "unsubscribe"))
        response = domish.Element((ns.NS_MIX, "update-subscription"))
        response["jid"] = sender.userhost()
        subscribeElements(response, added)
        subscribeElements(response, removed, "unsubscribe")
        return response

    @defer.inlineCallbacks
    def _onSetNick(self, iq):
        setnick = payload(iq, ns.NS_MIX, "setnick")
        sender, name = self._target(iq, setnick)
        requested = None
        for child in setnick.elements(ns.NS_MIX, "nick"):
            requested = str(child)
        nick = yield self.channels.setNick(sender, name, requested)
        response = domish.Element((ns.NS_MIX, "setnick"))
        response.addElement("nick", content=nick)
        return response
