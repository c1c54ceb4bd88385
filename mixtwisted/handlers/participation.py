"""
Joining, leaving, changing subscriptions and setting nicks: the requests a
participant (or its server) sends to a channel (JOIN-*, NICK-1..6).

Each request is served in C{urn:xmpp:mix:1} and in MIX-CORE's
C{urn:xmpp:mix:core:1}, and answered in the namespace it was sent in
(doc/protocol-revisions.md §3.4-3.7, §4).  A join also keeps that
namespace as the participant's revision (REV-2); what else differs
between the revisions of a join is in L{JOIN_RULES}.
"""

from dataclasses import dataclass

from twisted.internet import defer

from mixtwisted import namespaces as ns
from mixtwisted.config import Field
from mixtwisted.errors import BadRequest, MIXError
from mixtwisted.handlers.base import (
    MIXIQHandler, answerTo, payload, requestQuery, toStanzaError)
from mixtwisted.handlers.invitations import findInvitation
from mixtwisted.handlers.render import (
    findForm, formTypeOf, readForm, renderForm)
from mixtwisted.prefs import FORM_TYPES, PREFERENCES

JOIN = requestQuery("join", ns.MIX_REVISIONS)
LEAVE = requestQuery("leave", ns.MIX_REVISIONS)
UPDATE = requestQuery("update-subscription", ns.MIX_REVISIONS)
SETNICK = requestQuery("setnick", ns.MIX_REVISIONS)


@dataclass(frozen=True)
class JoinRules:
    """
    How a join of one revision is read and answered.

    @ivar nestedSubscribe: a C{<subscribe/>} without C{node} whose children
        are C{<subscribe node=…/>} stands for those children, as slixmpp
        1.17 sends them (REV-7); otherwise it is a C{bad-request}.
    @ivar echoFailed: a join refused because no node could be subscribed
        echoes the failed nodes in a C{<join/>} before C{<error/>}
        (JOIN-5).  Not for MIX-CORE: ejabberd 23.01's MIX-PAM needs the
        answer to have exactly one child (REV-6).
    @ivar reportsParticipant: the result carries the stable participant
        id (C{id}) and the nick (REV-4, REV-5).
    """
    nestedSubscribe: bool
    echoFailed: bool
    reportsParticipant: bool


#: The rules of a join, by its namespace.
JOIN_RULES = {
    ns.NS_MIX: JoinRules(nestedSubscribe=False, echoFailed=True,
                         reportsParticipant=False),
    ns.NS_MIX_CORE: JoinRules(nestedSubscribe=True, echoFailed=False,
                              reportsParticipant=True),
}


def prefsFields(values):
    """
    C{(Field-like, value)} pairs of the preference form (JOIN-11, PREF-3).
    """
    return tuple((Field(var, "list-single", default, options, label=label),
                  values.get(var, default))
                 for var, options, default, label in PREFERENCES)


def subscribeElements(parent, nodes, name="subscribe"):
    for node in nodes:
        parent.addElement(name)["node"] = node


def _nodeOf(element, name):
    node = element.getAttribute("node")
    if not node:
        raise BadRequest("%s without node" % (name,))
    return node


def requestedNick(join):
    """
    Return the nick a join asks for (REV-5), or C{None} when it asks for
    none: no C{<nick/>}, or an empty one (the channel then generates one,
    as for an empty setnick, NICK-5).
    """
    for child in join.elements(join.uri, "nick"):
        text = str(child)
        return text if text.strip() else None
    return None


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
    def _nodes(element, name="subscribe", nested=False):
        """
        Return the nodes named by the C{<name node=…/>} children of
        C{element}, in its namespace.

        @param nested: read a node-less C{<name/>} whose children are
            C{<name node=…/>} as those children, one level deep (REV-7).
        """
        nodes = []
        for child in element.elements(element.uri, name):
            inner = list(child.elements(element.uri, name)) \
                if nested and not child.getAttribute("node") else ()
            nodes.extend(_nodeOf(c, name) for c in (inner or (child,)))
        return nodes

    @defer.inlineCallbacks
    def _onJoin(self, iq):
        join = payload(iq, ns.MIX_REVISIONS, "join")
        rules = JOIN_RULES[join.uri]
        sender, name = self._target(iq, join)
        nodes = self._nodes(join, nested=rules.nestedSubscribe)
        form = findForm(join)
        submitted = readForm(form, FORM_TYPES) if form is not None else None
        try:
            result = yield self.channels.join(
                sender, name, nodes, submitted, findInvitation(join),
                revision=join.uri, nick=requestedNick(join))
        except MIXError as e:
            if e.payload is None or not rules.echoFailed:
                raise
            # JOIN-5: echo the nodes that failed for the first reason.
            failed = answerTo(join)
            subscribeElements(failed, e.payload)
            raise toStanzaError(e, failed)
        response = answerTo(join)
        if rules.reportsParticipant:
            response["id"] = result.proxyId
        response["jid"] = result.proxyJID
        subscribeElements(response, result.nodes)
        if rules.reportsParticipant and result.nick is not None:
            response.addElement("nick", content=result.nick)
        if result.prefs is not None:
            # In the FORM_TYPE the join's form was sent with (REV-11).
            response.addChild(renderForm(prefsFields(result.prefs),
                                         formNamespace=formTypeOf(form)))
        return response

    @defer.inlineCallbacks
    def _onLeave(self, iq):
        leave = payload(iq, ns.MIX_REVISIONS, "leave")
        sender, name = self._target(iq, leave)
        yield self.channels.leave(sender, name)
        return answerTo(leave)

    @defer.inlineCallbacks
    def _onUpdateSubscription(self, iq):
        update = payload(iq, ns.MIX_REVISIONS, "update-subscription")
        sender, name = self._target(iq, update)
        added, removed = yield self.channels.updateSubscription(
            sender, name, self._nodes(update),
            self._nodes(update, "unsubscribe"))
        response = answerTo(update)
        # Kept in both revisions: MIX-CORE 0.14.x has it, 0.15.0 dropped
        # it, and clients ignore it (doc/protocol-revisions.md §3.6).
        response["jid"] = sender.userhost()
        subscribeElements(response, added)
        subscribeElements(response, removed, "unsubscribe")
        return response

    @defer.inlineCallbacks
    def _onSetNick(self, iq):
        setnick = payload(iq, ns.MIX_REVISIONS, "setnick")
        sender, name = self._target(iq, setnick)
        requested = None
        for child in setnick.elements(setnick.uri, "nick"):
            requested = str(child)
        nick = yield self.channels.setNick(sender, name, requested)
        response = answerTo(setnick)
        response.addElement("nick", content=nick)
        return response
