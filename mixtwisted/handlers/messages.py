"""
Messages to a channel: groupchat reflection and archiving (MSG-1..11).

A groupchat message from a participant is turned into one reflected
stanza: C{from} the channel, C{id} the archive id, with the channel's
C{<mix/>} (nick and bare proxy JID).  It is serialized once, archived
without C{to} (MSG-4) and only then sent to every messages-node subscriber
as addressed copies of that one string (L{mixtwisted.fanout}); the
originator's copy also carries C{<submission-id/>} (MSG-6).

That string is the C{urn:xmpp:mix:1} form (XEP-0369 0.9.5).  Participants
whose revision is C{urn:xmpp:mix:core:1} get a variant of it made by
splices (L{mixtwisted.revisions}, REV-12): still one serialization per
message; a channel where nobody speaks another revision costs nothing
more.  A core:1 originator gets the core:1 copy, without
C{<submission-id/>} (it correlates by its C{<origin-id/>}).

A message with C{<retract/>} (in C{urn:xmpp:mix:1} or MIX-MISC's
C{urn:xmpp:mix:misc:0}, REV-13) asks to retract an archived message
(RET-1..5, L{mixtwisted.retraction}): the original is replaced in the
archive by a tombstone and a retraction notice is reflected like a
message, to each revision in its form.  A message
to a participant's proxy JID is a private message (PM-1..6,
L{mixtwisted.privatemessages}), relayed between real and full proxy JIDs
and never archived.

A message error is never answered (ERR-6).  One to a channel JID may be a
reflection that bounced: it goes to L{mixtwisted.delivery.Deliveries}
(DLV-1..4), which holds the recipient on a transient error; while a
recipient is held, the reflections for it are queued after its pending
messages instead of being sent.  A bounce of a core:1 copy comes back to
the channel's full JID C{<channel>/<stable id>}, with the same rules.

Copies go to bare JIDs, or to the full JIDs of the recipients' online
clients, as L{mixtwisted.routing} decides per user domain (issue 6); a
bounce from such a full JID is that client gone, never a transient failure.
"""

from twisted.internet import defer
from twisted.python import log
from twisted.words.xish import domish
from twisted.words.xish.domish import escapeToXml

from mixtwisted import namespaces as ns
from mixtwisted.errors import (
    BadRequest, MIXError, PolicyViolation, ServiceUnavailable)
from mixtwisted.fanout import Template, attribute, byRevision, serialize
from mixtwisted.handlers.base import MIXHandler, errorResponse
from mixtwisted.delivery import UNREACHABLE
from mixtwisted.handlers.delivery import errorOf
from mixtwisted.privatemessages import PrivateMessages
from mixtwisted.proxy import splitProxyLocalpart
from mixtwisted.records import ArchivedMessage
from mixtwisted.retraction import Retractions
from mixtwisted.revisions import (
    Variants, parseArchived, reflectionMix, reflectionTail)

#: The namespaces of C{<retract/>} and C{<retracted/>}: 0.9.5's and
#: MIX-MISC's, accepted whatever the sender's revision (REV-13).
_RETRACTION_NAMESPACES = (ns.NS_MIX, ns.NS_MIX_MISC)

#: Children a client may not supply: the channel adds its own C{<mix/>}
#: (MSG-3; in either revision, REV-12), archive ids are the channel's to
#: assign, and only the channel marks a message as retracted (RET-5; a
#: forged mark would also make the message impossible to retract).
_STRIPPED = {(ns.NS_MIX, "mix"), (ns.NS_MIX_CORE, "mix"),
             (ns.NS_SID, "stanza-id"), (ns.NS_MIX, "retracted"),
             (ns.NS_MIX_MISC, "retracted")}

#: What a retraction notice may not carry from the client: its own
#: C{<retract/>} is rebuilt from the checked id (RET-4).
_STRIPPED_RETRACT = _STRIPPED | {(ns.NS_MIX, "retract"),
                                 (ns.NS_MIX_MISC, "retract")}

#: How a serialized reflection ends: its last child is the channel's <mix/>
#: (L{mixtwisted.revisions.reflectionTail} gives the whole of it).
_MIX_END = "</mix></message>"

#: How a serialized reflection without C{<mix/>} ends (a retraction notice
#: by an owner or administrator who is no participant, ADM-11).
_MESSAGE_END = "</message>"


def _retractions(element):
    """
    The C{<retract/>} children of a message, in either namespace (REV-13).
    """
    return [child for child in element.elements()
            if child.name == "retract" and
            child.uri in _RETRACTION_NAMESPACES]


def _retractable(element):
    """
    Tell whether an archived stanza is a message that may be retracted:
    not a tombstone and not itself a retraction notice (in either
    namespace, REV-13).
    """
    for child in element.elements():
        if child.name in ("retracted", "retract") and \
                child.uri in _RETRACTION_NAMESPACES:
            return False
    return True


def _stanzaId(archiveId, by):
    """
    Serialize the channel's C{<stanza-id/>} (XEP-0359), as Twisted's
    serializer would write the element.  Written as a string, like the
    channel's C{<mix/>} (L{mixtwisted.revisions.reflectionMix}): a prefix
    the client's payload declared for C{urn:xmpp:sid:0} cannot reach it.
    """
    return "<stanza-id xmlns='%s' id='%s' by='%s'/>" % (
        ns.NS_SID, attribute(archiveId), attribute(by))


def _text(element, uri, name):
    """
    The text of the first child C{(uri, name)} of C{element}, or C{""}.
    """
    for child in element.elements(uri, name):
        return str(child)
    return ""


#: What a tombstone keeps of the original (RET-5): only what identifies
#: the entry and its thread -- the C{<thread/>} (in the stanza's namespace,
#: C{None} below), the channel's C{<stanza-id/>} and C{<mix/>} (the
#: sender's nick and proxy JID), each mapped to how the tombstone writes
#: it.  Everything else goes: bodies, subject, XHTML-IM, out-of-band URLs,
#: references, file-sharing payloads, any other extension, since any of
#: them may hold the retracted content.
_TOMBSTONE_KEPT = {
    (None, "thread"): lambda c: c,
    # The channel's own, written again as strings, so that the tombstone
    # ends as the channel writes it whatever prefixes the kept <thread/>
    # declares (the archived ones, parsed, would keep theirs).
    (ns.NS_SID, "stanza-id"): lambda c: domish.SerializedXML(_stanzaId(
        c.getAttribute("id", ""), c.getAttribute("by", ""))),
    (ns.NS_MIX, "mix"): lambda c: domish.SerializedXML(reflectionMix(
        _text(c, ns.NS_MIX, "nick"), _text(c, ns.NS_MIX, "jid"))),
}

#: The stanza attributes a tombstone keeps.
_TOMBSTONE_ATTRIBUTES = ("from", "id", "type")


def _tombstone(element, by, time):
    """
    Turn an archived stanza into its tombstone (RET-5): only the children
    of L{_TOMBSTONE_KEPT} and the attributes C{from}, C{id} and C{type} are
    kept (a whitelist), and C{<retracted xmlns='urn:xmpp:mix:1' by='…'
    time='…'/>} is added (a string too, after the channel's C{<mix/>}).
    """
    children = []
    for c in element.elements():
        write = _TOMBSTONE_KEPT.get(
            (None if c.uri == element.uri else c.uri, c.name))
        if write is not None:
            children.append(write(c))
    element.children = children
    element.attributes = {
        key: value for key, value in element.attributes.items()
        if key in _TOMBSTONE_ATTRIBUTES}
    element.addRawXml("<retracted xmlns='%s' by='%s' time='%s'/>" % (
        ns.NS_MIX, attribute(by), attribute(time)))
    return element


def _rerenderedOwn(xml, uri, submissionId):
    """
    The originator's 0.9.5 copy of a serialized reflection that does not
    end as L{MessageHandler._reflection} writes it: parsed, given
    C{<submission-id/>} in its last C{<mix xmlns='urn:xmpp:mix:1'/>} child,
    and serialized again (MSG-6).
    """
    element = parseArchived(xml, uri)
    mixes = list(element.elements(ns.NS_MIX, "mix"))
    if mixes:
        mixes[-1].addElement((ns.NS_MIX, "submission-id"),
                             content=submissionId)
    return serialize(element)


class MessageHandler(MIXHandler):
    """
    Handle C{<message/>} stanzas addressed to the service domain.

    @param deliveries: the L{mixtwisted.delivery.Deliveries}, or C{None}
        for none (bounces then go unnoticed).
    @param presence: the L{mixtwisted.presence.Presence}, or C{None}: its
        L{routing<mixtwisted.presence.Presence.routing>} addresses the
        copies (bare JIDs, or the full JIDs of online clients, issue 6),
        and a client reached at its full JID whose copy bounced loses its
        presence item.
    """

    def __init__(self, channels, deliveries=None, presence=None):
        MIXHandler.__init__(self, channels)
        self.retractions = Retractions(channels)
        self.privateMessages = PrivateMessages(channels)
        self.deliveries = deliveries
        self.presence = presence
        routing = presence.routing if presence is not None else None
        self.routing = routing
        # None when every copy goes to bare JIDs: the fan-out then never
        # asks (the spec's case costs nothing).
        self._addresses = None if routing is None or routing.allBare \
            else presence.addresses
        # Channel name -> held recipients (the logic's own table, read on
        # every fan-out: empty unless a delivery failed).
        self._held = deliveries.held if deliveries is not None else {}

    def connectionInitialized(self):
        self.xmlstream.addObserver("/message", self.onMessage)

    def onMessage(self, message):
        if message.__dict__.get("handled"):
            return
        message.handled = True
        if message.getAttribute("type") == "error":
            # Never answer an error (ERR-6); a bounced reflection may be
            # retried (DLV-1).
            if self.deliveries is not None:
                d = defer.maybeDeferred(self._bounced, message)
                d.addErrback(self._bounceFailed)
            return
        d = defer.maybeDeferred(self._route, message)
        d.addErrback(lambda f: self.send(errorResponse(message, f.value)))
        d.addErrback(log.err, "Could not answer a message")

    def _bounced(self, message):
        """
        A message error to a channel JID, from a bare JID, with an id: hand
        it to the delivery logic, which takes only bounces of archived
        messages from their recipients (DLV-1, DLV-4).  Errors to proxy
        JIDs (private messages are never archived) or to the service are
        not ours.  A core:1 copy comes from the channel's full JID
        C{<channel>/<stable id>} (REV-12): its bounce is taken the same
        way, if the message was sent by that participant.

        From a full JID of a user reached at full JIDs (issue 6): the
        client is gone -- never transient, nothing held nor retransmitted;
        its presence item, if it has one in the channel, is removed (as a
        presence error does, PRES-9).  Except after
        C{remote-server-not-found} or C{remote-server-timeout} (the
        client's server briefly unreachable, maybe): its item is then
        ghost-checked (D-65).
        """
        sender, recipient = self.addresses(message)
        archiveId = message.getAttribute("id")
        if recipient.host != self.domain or recipient.user is None or \
                not archiveId or sender.user is None:
            return None
        if recipient.resource is not None and \
                splitProxyLocalpart(recipient.user) is not None:
            # From a full proxy JID: a private message.
            return None
        errorType, condition = errorOf(message)
        if sender.resource is not None and self.presence is not None and \
                self.routing is not None and \
                self.routing.toFullJIDs(sender.userhost(), ask=False):
            # A look-up that never asks the domain: anyone can send
            # errors (only joins and the fan-out ask).
            if condition in UNREACHABLE:
                # Its server briefly unreachable, maybe: checked (D-65).
                return self.presence.bounced(sender, recipient.user)
            return self.presence.unavailable(sender, recipient.user)
        return self.deliveries.messageBounced(
            recipient.user, sender.userhost(), archiveId, errorType,
            condition, senderId=recipient.resource)

    @staticmethod
    def _bounceFailed(failure):
        if not failure.check(MIXError):
            log.err(failure, "Could not handle a bounced message")

    def _route(self, message):
        sender, recipient = self.addresses(message)
        if recipient.host != self.domain or recipient.user is None:
            if message.getAttribute("type") == "headline":
                return None
            raise ServiceUnavailable()
        return self._toChannel(message, sender, recipient)

    @defer.inlineCallbacks
    def _toChannel(self, message, sender, recipient):
        kind = message.getAttribute("type", "normal")
        if kind == "headline":
            # Headlines are never answered nor relayed (MSG-11, RFC 6121
            # §8.5.2: a headline to an unknown address is dropped).
            return
        channel, participant = yield self.channels.resolveProxy(
            recipient.user)
        if participant is not None:
            yield self.relayPrivate(message, sender, channel, participant,
                                    recipient.resource)
            return
        retracts = _retractions(message)
        if retracts:
            # With or without type groupchat (RET-2, MSG-11).
            yield self.retract(message, sender, channel.name, retracts)
            return
        if kind != "groupchat":
            raise BadRequest("Send groupchat messages to a channel")
        yield self.reflect(message, sender, channel)

    @defer.inlineCallbacks
    def reflect(self, message, sender, channel):
        """
        Reflect and archive one groupchat message to C{channel} (the
        record L{_toChannel} looked up).
        """
        def archive(reflection):
            xml = serialize(self._reflection(message, reflection, _STRIPPED))
            self._checkSize(xml)
            return xml, self._archive(channel.name, reflection, xml)

        # Prepared and handed to the archive in arrival order (D-46); sent
        # once stored (MSG-4).
        reflection, (xml, stored) = yield self.channels.sequenceMessage(
            sender, channel, archive)
        yield stored
        self._send(message, channel.name, reflection, xml)

    @defer.inlineCallbacks
    def retract(self, message, sender, name, retracts):
        """
        Retract an archived message (RET-2..5): check, leave a tombstone,
        then reflect and archive the retraction notice like a message.
        """
        if len(retracts) != 1:
            raise BadRequest("Retract one message at a time")
        for body in message.elements(message.uri, "body"):
            raise BadRequest("A retraction has no body")
        originalId = retracts[0].getAttribute("id")
        if not originalId:
            raise BadRequest("Name the message to retract")
        parsed = {}

        def retractable(xml):
            parsed["original"] = parseArchived(xml, message.uri)
            return _retractable(parsed["original"])

        def render(retraction):
            tombstone = serialize(_tombstone(
                parsed["original"], retraction.by, retraction.time))
            notice = serialize(self._reflection(
                message, retraction.reflection, _STRIPPED_RETRACT,
                retracted=retraction.original.archiveId))
            self._checkSize(notice)
            return tombstone, notice

        # Checked, tombstoned and handed to the archive in arrival order,
        # like a message (D-46); sent once stored (MSG-4).
        retraction, notice, stored = yield self.retractions.sequence(
            sender, name, originalId, retractable, render,
            lambda reflection, xml: self._archive(name, reflection, xml))
        yield stored
        self._send(message, name, retraction.reflection, notice)

    @staticmethod
    def _reflection(message, reflection, stripped, retracted=None):
        """
        Build a reflected stanza: C{from} the channel, C{id} the archive id,
        C{<retract/>} first for a retraction notice, the client's payload
        minus C{stripped}, then C{<stanza-id/>} and C{<mix/>} last.  A
        reflection without a proxy JID (a retraction by a non-participant,
        ADM-11) has no C{<mix/>}: the channel alone sends it.

        C{<stanza-id/>} and C{<mix/>} are added as serialized XML: written
        as the channel writes them whatever prefixes the payload declared
        (L{mixtwisted.revisions.reflectionMix}), so that the stanza ends
        with L{mixtwisted.revisions.reflectionTail}, where the variants
        and the originator's copy are spliced.  For a payload without
        prefixes, the bytes are those of the elements.
        """
        reflected = domish.Element((message.uri, "message"))
        reflected["from"] = reflection.channelJID
        reflected["id"] = reflection.archiveId
        reflected["type"] = "groupchat"
        lang = message.getAttribute((ns.NS_XML, "lang"))
        if lang:
            reflected[(ns.NS_XML, "lang")] = lang
        if retracted is not None:
            reflected.addElement((ns.NS_MIX, "retract"))["id"] = retracted
        for child in message.children:
            if isinstance(child, domish.Element) and \
                    (child.uri, child.name) in stripped:
                continue
            reflected.addChild(child)
        tail = _stanzaId(reflection.archiveId, reflection.channelJID)
        if reflection.proxyJID is not None:
            tail += reflectionMix(reflection.nick, reflection.proxyJID)
        reflected.addRawXml(tail)
        return reflected

    def _checkSize(self, xml):
        limit = self.channels.limits.maxMessageBytes
        # A character takes at most 4 bytes in UTF-8: encode only when the
        # message may be too large.
        if len(xml) * 4 > limit and len(xml.encode("utf-8")) > limit:
            raise PolicyViolation("Message larger than %d bytes" % (limit,))

    def _archive(self, name, reflection, xml):
        """
        Start storing a serialized reflection in the archive (MSG-4).

        @return: a Deferred firing once it is stored.
        """
        return self.channels.archive(name, ArchivedMessage(
            archiveId=reflection.archiveId, stamp=reflection.stamp,
            node=ns.NODE_MESSAGES, sender=reflection.proxyJID, xml=xml))

    def _send(self, message, name, reflection, xml):
        """
        Send the copies of an archived reflection: one per messages-node
        subscriber and the originator's own copy with C{<submission-id/>}
        (MSG-6, AMB-53).  Without a C{<mix/>} (a retraction by a
        non-participant, ADM-11) the originator's copy gets a C{<mix/>}
        holding only C{<submission-id/>}.  Recipients held after a bounce
        (DLV-4) get nothing now: the message is queued after their pending
        ones.

        Participants on another revision than the default get that
        revision's variant (REV-12), built once per revision present;
        a core:1 originator gets the core:1 copy as it is, without
        C{<submission-id/>}.  When nobody in the channel is on another
        revision (C{reflection.revisions} empty) nothing is split.
        """
        originator = reflection.originator
        others = [r for r in reflection.recipients if r != originator]
        held = self._held.get(name)
        if held:
            # Recipients whose deliveries failed get this message after
            # their pending ones (DLV-4), rendered for their revision
            # when it is retransmitted.
            others = self.deliveries.divert(
                name, reflection.archiveId, others)
            if originator in held:
                # Its own copy too: retransmitted as archived, without
                # <submission-id/>.
                self.deliveries.divert(
                    name, reflection.archiveId, [originator])
                originator = None
        revisions = reflection.revisions
        own = None
        if not revisions:
            # Everybody on the default revision: one template, no split.
            self._sendCopies(name, Template(xml), others)
        else:
            variants = Variants(xml, reflection)
            for revision, group in byRevision(others, revisions):
                self._sendCopies(name, variants[revision], group)
            revision = revisions.get(originator, ns.DEFAULT_REVISION)
            if originator is not None and revision != ns.DEFAULT_REVISION:
                # Its revision's copy as it is (REV-12).
                own = variants[revision]
        if originator is not None:
            self._sendOwn(message, name, reflection, xml, originator, own)

    def _sendCopies(self, name, template, recipients):
        """
        Send C{template} to C{recipients} (bare JIDs), at the addresses
        the routing gives them (bare or full JIDs, issue 6).
        """
        if self._addresses is not None:
            recipients = self._addresses(name, recipients)
        template.sendTo(self.send, recipients)

    def _sendOwn(self, message, name, reflection, xml, originator,
                 own=None):
        """
        Send the originator its own copy: C{own} (a L{Template}), or when
        C{None} the reflection C{xml} with the C{<submission-id/>} of the
        message's id.
        """
        targets = [originator]
        if self._addresses is not None:
            targets = self._originatorAddresses(message, name, originator)
            if not targets:
                return
        if own is None:
            own = self._withSubmissionId(message, reflection, xml)
        own.sendTo(self.send, targets)

    @staticmethod
    def _withSubmissionId(message, reflection, xml):
        """
        The originator's 0.9.5 copy: the reflection with
        C{<submission-id/>} at the end of its C{<mix/>}, spliced in the
        string rather than serializing the stanza again (MSG-6), at the
        tail L{_reflection} wrote (L{reflectionTail}).  Should C{xml} not
        end so, the stanza is parsed and serialized again instead.
        """
        submissionId = message.getAttribute("id")
        if not submissionId:
            return Template(xml)
        submission = ("<submission-id>" + escapeToXml(submissionId) +
                      "</submission-id>")
        if reflection.proxyJID is None:
            # The stanza's end tag is never prefixed (its start tag comes
            # before any of the payload's declarations).
            return Template(xml[:-len(_MESSAGE_END)] +
                            "<mix xmlns='%s'>" % (ns.NS_MIX,) +
                            submission + "</mix>" + _MESSAGE_END)
        if xml.endswith(reflectionTail(reflection)):
            return Template(xml[:-len(_MIX_END)] + submission + _MIX_END)
        return Template(_rerenderedOwn(xml, message.uri, submissionId))

    def _originatorAddresses(self, message, name, originator):
        """
        The addresses of the originator's own copies: as for any
        recipient, and -- when reached at full JIDs -- the client that sent
        the message too, online even without presence in the channel.
        """
        targets = self._addresses(name, [originator])
        if originator in targets or \
                not self.routing.toFullJIDs(originator):
            return targets
        try:
            sender = self.addresses(message)[0]
        except MIXError:
            return targets
        full = sender.full()
        if sender.resource is not None and full not in targets and \
                sender.userhost() == originator:
            targets = targets + [full]
        return targets

    @defer.inlineCallbacks
    def relayPrivate(self, message, sender, channel, participant, resource):
        """
        Relay a private message to a proxy JID (PM-1..6): never groupchat,
        never archived; C{from} becomes the sender's full proxy JID and
        C{to} the recipient's real JID; payload, type and id unchanged.
        """
        if message.getAttribute("type") == "groupchat":
            raise BadRequest("Private messages are not groupchat")
        delivery = yield self.privateMessages.route(
            sender, channel, participant, resource)
        relayed = domish.Element((message.uri, "message"))
        for key, value in message.attributes.items():
            relayed[key] = value
        relayed["from"] = delivery.sender
        relayed["to"] = delivery.recipient
        for child in message.children:
            relayed.addChild(child)
        self.send(relayed)
