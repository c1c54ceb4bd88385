"""
Messages to a channel: groupchat reflection and archiving (MSG-1..11).

A groupchat message from a participant is turned into one reflected
stanza: C{from} the channel, C{id} the archive id, with the channel's
C{<mix/>} (nick and bare proxy JID).  It is serialized once, archived
without C{to} (MSG-4) and only then sent to every messages-node subscriber
as addressed copies of that one string (L{mixtwisted.fanout}); the
originator's copy also carries C{<submission-id/>} (MSG-6).
"""

from twisted.internet import defer
from twisted.python import log
from twisted.words.xish import domish
from twisted.words.xish.domish import escapeToXml

from mixtwisted import namespaces as ns
from mixtwisted.errors import (
    BadRequest, FeatureNotImplemented, PolicyViolation, ServiceUnavailable)
from mixtwisted.fanout import Template, serialize
from mixtwisted.handlers.base import MIXHandler, errorResponse
from mixtwisted.records import ArchivedMessage

#: Children a client may not supply: the channel adds its own (MSG-3) and
#: archive ids are the channel's to assign.
_STRIPPED = {(ns.NS_MIX, "mix"), (ns.NS_SID, "stanza-id")}

#: How a serialized reflection ends: its last child is the channel's <mix/>.
_MIX_END = "</mix></message>"


class MessageHandler(MIXHandler):
    """
    Handle C{<message/>} stanzas addressed to the service domain.
    """

    def connectionInitialized(self):
        self.xmlstream.addObserver("/message", self.onMessage)

    def onMessage(self, message):
        if message.__dict__.get("handled"):
            return
        message.handled = True
        if message.getAttribute("type") == "error":
            # Never answer an error (ERR-6); delivery retries come later.
            return
        d = defer.maybeDeferred(self._route, message)
        d.addErrback(lambda f: self.send(errorResponse(message, f.value)))
        d.addErrback(log.err, "Could not answer a message")

    def _route(self, message):
        sender, recipient = self.addresses(message)
        if recipient.host != self.domain or recipient.user is None:
            if message.getAttribute("type") == "headline":
                return None
            raise ServiceUnavailable()
        return self._toChannel(message, sender, recipient)

    @defer.inlineCallbacks
    def _toChannel(self, message, sender, recipient):
        channel, participant = yield self.channels.resolveProxy(
            recipient.user)
        if participant is not None:
            # Private messages through proxy JIDs come with issue 3.
            raise ServiceUnavailable("Private messages are not offered")
        kind = message.getAttribute("type", "normal")
        for retract in message.elements(ns.NS_MIX, "retract"):
            raise FeatureNotImplemented("Retraction is not offered")
        if kind == "headline":
            return
        if kind != "groupchat":
            raise BadRequest("Send groupchat messages to a channel")
        yield self.reflect(message, sender, channel.name)

    @defer.inlineCallbacks
    def reflect(self, message, sender, name):
        """
        Reflect and archive one groupchat message.
        """
        reflection = yield self.channels.prepareMessage(sender, name)
        reflected = domish.Element((message.uri, "message"))
        reflected["from"] = reflection.channelJID
        reflected["id"] = reflection.archiveId
        reflected["type"] = "groupchat"
        lang = message.getAttribute((ns.NS_XML, "lang"))
        if lang:
            reflected[(ns.NS_XML, "lang")] = lang
        for child in message.children:
            if isinstance(child, domish.Element) and \
                    (child.uri, child.name) in _STRIPPED:
                continue
            reflected.addChild(child)
        sid = reflected.addElement((ns.NS_SID, "stanza-id"))
        sid["id"] = reflection.archiveId
        sid["by"] = reflection.channelJID
        mix = reflected.addElement((ns.NS_MIX, "mix"))
        mix.addElement("nick", content=reflection.nick)
        mix.addElement("jid", content=reflection.proxyJID)

        xml = serialize(reflected)
        limit = self.channels.limits.maxMessageBytes
        # A character takes at most 4 bytes in UTF-8: encode only when the
        # message may be too large.
        if len(xml) * 4 > limit and len(xml.encode("utf-8")) > limit:
            raise PolicyViolation("Message larger than %d bytes" % (limit,))
        yield self.channels.archive(name, ArchivedMessage(
            archiveId=reflection.archiveId, stamp=reflection.stamp,
            node=ns.NODE_MESSAGES, sender=reflection.proxyJID, xml=xml))

        originator = reflection.originator
        Template(xml).sendTo(
            self.send, [r for r in reflection.recipients if r != originator])
        submissionId = message.getAttribute("id")
        if submissionId:
            # <mix/> is the last child: put <submission-id/> at its end in
            # the string rather than serializing the stanza again (MSG-6).
            own = Template(xml[:-len(_MIX_END)] + "<submission-id>" +
                           escapeToXml(submissionId) + "</submission-id>" +
                           _MIX_END)
        else:
            own = Template(xml)
        self.send(own.to(originator))

