"""
A reflected stanza in each protocol revision (doc/protocol-revisions.md
§3.11 REV-12, §3.15 REV-13, §3.16 REV-14, §4).

A groupchat message is built and serialized once, in its C{urn:xmpp:mix:1}
form (XEP-0369 0.9.5): the form every reader of that revision gets and the
one the archive keeps (REV-14).  A participant whose revision is
C{urn:xmpp:mix:core:1} (MIX-CORE, REV-2) gets a variant of that string,
made by splices rather than a second serialization:

 - head: C{<message from='CHANNEL'} becomes C{<message
   from='CHANNEL/STABLE-ID'}, the sender's stable participant id (REV-3)
   as resource.  The reflection sets C{from} first, so the prefix is fixed;
 - tail: the channel's C{<mix xmlns='urn:xmpp:mix:1'>} -- always the
   stanza's last child, in a tombstone followed only by C{<retracted/>},
   and written as a fixed string (L{reflectionMix}) whatever namespace
   prefixes the client's payload declared, so that a live copy's tail is
   known exactly (L{reflectionTail}) -- becomes
   C{<mix xmlns='urn:xmpp:mix:core:1'><nick>N</nick></mix>}, with
   C{<jid>REAL-BARE-JID</jid>} only in a live copy whose sender's JID is
   visible (VIS-3); never a proxy JID, never C{<submission-id/>} (MIX-CORE
   correlates by the client's own XEP-0359 C{<origin-id/>}, which the
   payload keeps);
 - a retraction notice's C{<retract/>} (its first child) and a tombstone's
   C{<retracted/>} move to C{urn:xmpp:mix:misc:0} (MIX-MISC, REV-13).

A reflection without a sender (a retraction by an owner who is no
participant, ADM-11) has no C{<mix/>}: it keeps the bare channel JID in
both revisions, and only its C{<retract/>} moves.

Archived entries (MAM results, retransmissions after a bounce) are
converted by L{toCore1} from the string alone: the stable id is the
archived proxy JID's localpart before C{#}, and the C{<jid/>} is left out,
as MIX-ANON keeps only the JID-less variant in the archive.  An entry
whose markers are not where mixtwisted puts them (none that mixtwisted
wrote) is parsed and rendered again instead (L{_rerendered}): slower,
same result.

Pure string work: no sockets, no store.
"""

from xml.sax.saxutils import unescape

from twisted.words.xish import domish
from twisted.words.xish.domish import escapeToXml
from wokkel.generic import parseXml

from mixtwisted import namespaces as ns
from mixtwisted.fanout import Template, attribute, serialize

_FROM = "<message from='"
_MESSAGE_END = "</message>"
_MIX = "<mix xmlns='%s'>" % (ns.NS_MIX,)
_MIX_END = "</mix>"
_NICK, _NICK_END = "<nick>", "</nick>"
_JID, _JID_END = "<jid>", "</jid>"
_RETRACT = "<retract xmlns='%s' " % (ns.NS_MIX,)
_RETRACTED = "<retracted xmlns='%s' " % (ns.NS_MIX,)
_STANZA_ID = "<stanza-id xmlns='%s' " % (ns.NS_SID,)
_RETRACT_MISC = "<retract xmlns='%s' " % (ns.NS_MIX_MISC,)
_RETRACTED_MISC = "<retracted xmlns='%s' " % (ns.NS_MIX_MISC,)


def parseArchived(xml, uri):
    """
    Parse a stored reflection (serialized in the stream's default
    namespace, without C{xmlns}, see L{mixtwisted.fanout.serialize}) back
    into an element in C{uri}.
    """
    cut = len("<message")
    return parseXml(xml[:cut] + " xmlns='%s'" % (uri,) + xml[cut:])


def _mix(uri, nick, jid):
    """
    Serialize a channel's C{<mix/>} in C{uri} from escaped C{nick} and
    C{jid} (left out when C{None}).
    """
    parts = ["<mix xmlns='%s'>" % (uri,), _NICK, nick, _NICK_END]
    if jid is not None:
        parts += [_JID, jid, _JID_END]
    parts.append(_MIX_END)
    return "".join(parts)


def core1Mix(nick, jid=None):
    """
    Serialize the channel's C{<mix xmlns='urn:xmpp:mix:core:1'/>}.

    @param nick: the sender's nick, escaped for element content.
    @param jid: the sender's real bare JID, escaped likewise, or C{None}
        to leave C{<jid/>} out (JID hidden, or an archived entry).
    """
    return _mix(ns.NS_MIX_CORE, nick, jid)


def reflectionMix(nick, proxyJID):
    """
    Serialize the channel's C{<mix xmlns='urn:xmpp:mix:1'/>} of a
    reflection: the sender's C{nick} and C{proxyJID}, not yet escaped,
    escaped here as Twisted's serializer would (the same bytes).

    The reflection and the tombstone (L{mixtwisted.handlers.messages})
    write it as this string rather than as an element: Twisted's
    serializer keeps a namespace prefix a client's payload declared for
    C{urn:xmpp:mix:1} for the rest of the stanza, which would make it
    C{<m:mix xmlns:m='urn:xmpp:mix:1'>}.  As a string, the end of every
    reflection is known exactly (L{reflectionTail}), whatever the payload.
    """
    return _mix(ns.NS_MIX, escapeToXml(nick), escapeToXml(proxyJID))


def reflectionTail(reflection):
    """
    How the serialized reflection of a message from a participant ends:
    the channel's C{<mix/>} (L{reflectionMix}), last, then the end of the
    stanza, which the reflection's own start tag, never prefixed, fixes.
    """
    return reflectionMix(reflection.nick, reflection.proxyJID) + \
        _MESSAGE_END


def _startTagEnd(xml):
    """
    Where the stanza's first child starts: just past its start tag (a
    serialized attribute value holds no C{>}).
    """
    return xml.index(">") + 1


def _spliced(xml, channelJID, stableId, mixAt, mix, tail):
    """
    Build a core:1 variant: C{xml} up to C{mixAt} (where the channel's
    C{<mix/>} starts) with C{from} given the resource C{stableId} and a
    notice's C{<retract/>} moved to C{misc:0}, then C{mix} and C{tail}.

    @return: the variant, or C{None} when C{xml} does not start with
        C{<message from='channelJID'}.
    """
    head = _FROM + attribute(channelJID) + "'"
    if not xml.startswith(head):
        return None
    cut = len(head) - 1
    parts = [xml[:cut], "/", attribute(stableId)]
    body = _startTagEnd(xml)
    if xml.startswith(_RETRACT, body):
        parts += [xml[cut:body], _RETRACT_MISC,
                  xml[body + len(_RETRACT):mixAt]]
    else:
        parts.append(xml[cut:mixAt])
    parts += [mix, tail]
    return "".join(parts)


def _retractMoved(xml):
    """
    C{xml} with a first child C{<retract xmlns='urn:xmpp:mix:1'/>} moved
    to C{misc:0}; anything else unchanged.
    """
    body = _startTagEnd(xml)
    if not xml.startswith(_RETRACT, body):
        return xml
    return xml[:body] + _RETRACT_MISC + xml[body + len(_RETRACT):]


def core1Reflection(xml, reflection):
    """
    Return the C{urn:xmpp:mix:core:1} variant of a serialized reflection
    (REV-12; a retraction notice, REV-13).

    @param xml: the reflection as L{mixtwisted.handlers.messages} builds
        and archives it (0.9.5 form, without C{to}).
    @param reflection: its L{mixtwisted.channels.Reflection}: the nick,
        stable id and visible JID of the sender, or no proxy JID for a
        notice the channel sends alone (ADM-11).
    """
    if reflection.proxyJID is None:
        return _retractMoved(xml)
    jid = reflection.visibleJID
    tail = reflectionTail(reflection)
    spliced = None
    if xml.endswith(tail):
        spliced = _spliced(
            xml, reflection.channelJID, reflection.proxyId,
            len(xml) - len(tail),
            core1Mix(escapeToXml(reflection.nick),
                     None if jid is None else escapeToXml(jid)),
            _MESSAGE_END)
    if spliced is None:
        return _rerendered(xml, reflection.channelJID, jid)
    return spliced


def toCore1(xml, channelJID):
    """
    Return an archived stanza of a channel's messages archive as a
    C{urn:xmpp:mix:core:1} reader gets it (REV-14): C{from} the channel
    JID with the sender's stable id, the channel's C{<mix/>} in C{core:1}
    with the nick and without C{<jid/>}, a notice's C{<retract/>} and a
    tombstone's C{<retracted/>} in C{misc:0}.  Nothing else changes: a
    C{<mix xmlns='urn:xmpp:mix:1'/>} inside the client's payload (a
    forwarded message, say) always comes before the channel's own, which
    is the last one.

    @param xml: the archived stanza (0.9.5 form, without C{to}).
    @param channelJID: the channel's bare JID, its C{from}.
    """
    if xml.startswith(_STANZA_ID, xml.rfind("<", 0, -len(_MESSAGE_END))):
        # <stanza-id/> last: a notice the channel sent alone (ADM-11).
        return _retractMoved(xml)
    end = xml.rfind(_MIX_END)
    if end < 0:
        return _rerendered(xml, channelJID)
    tail = xml[end + len(_MIX_END):]
    if tail != _MESSAGE_END:
        # A tombstone: one empty <retracted/> after the channel's <mix/>.
        if not tail.startswith(_RETRACTED) or \
                tail.find("<", 1) != len(tail) - len(_MESSAGE_END):
            return _rerendered(xml, channelJID)
        tail = _RETRACTED_MISC + tail[len(_RETRACTED):]
    start = xml.rfind(_MIX, 0, end)
    if start < 0:
        return _rerendered(xml, channelJID)
    # The channel's <mix/>: <nick>N</nick><jid>PROXY-JID</jid>.
    nick, separator, jid = xml[start + len(_MIX):end].partition(
        _NICK_END + _JID)
    if not separator or not nick.startswith(_NICK) or \
            not jid.endswith(_JID_END):
        return _rerendered(xml, channelJID)
    stableId, sign, _ = unescape(jid[:-len(_JID_END)]).partition("#")
    if not sign:
        return _rerendered(xml, channelJID)
    spliced = _spliced(xml, channelJID, stableId, start,
                       core1Mix(nick[len(_NICK):]), tail)
    if spliced is None:
        return _rerendered(xml, channelJID)
    return spliced


def _is(element, uri, name):
    return element is not None and element.uri == uri and \
        element.name == name


def _moved(parent, element, uri):
    """
    Replace C{element}, a child of C{parent}, by a copy in C{uri}.
    """
    copy = domish.Element((uri, element.name))
    copy.attributes.update(element.attributes)
    for child in element.children:
        copy.addChild(child)
    parent.children[parent.children.index(element)] = copy
    return copy


def _rerendered(xml, channelJID, jid=None):
    """
    The core:1 variant of a serialized reflection or archived entry,
    parsed and rendered again: what L{toCore1} and L{core1Reflection} do
    by splices, for a string whose markers are not where expected.

    @param jid: the sender's real bare JID for the C{core:1} C{<mix/>},
        or C{None}.
    """
    element = parseArchived(xml, ns.NS_CLIENT)
    children = list(element.elements())
    first = children[0] if children else None
    last = children[-1] if children else None
    if _is(first, ns.NS_MIX, "retract"):
        _moved(element, first, ns.NS_MIX_MISC)
    if _is(last, ns.NS_MIX, "retracted"):
        _moved(element, last, ns.NS_MIX_MISC)
        last = children[-2] if len(children) > 1 else None
    if _is(last, ns.NS_MIX, "mix"):
        mix = domish.Element((ns.NS_MIX_CORE, "mix"))
        for nick in last.elements(ns.NS_MIX, "nick"):
            mix.addElement("nick", content=str(nick))
        if jid is not None:
            mix.addElement("jid", content=jid)
        for proxy in last.elements(ns.NS_MIX, "jid"):
            stableId = str(proxy).partition("#")[0]
            element["from"] = channelJID + "/" + stableId
        element.children[element.children.index(last)] = mix
    return serialize(element)


#: How a live reflection is turned into each revision's variant
#: (L{variant}); the default revision is the reflection itself.
_REFLECTED = {ns.NS_MIX_CORE: core1Reflection}

#: How an archived stanza is shown to a reader of each revision
#: (L{archivedFor}); the default revision reads it as stored.
_ARCHIVED = {ns.NS_MIX_CORE: toCore1}


def variant(revision, xml, reflection):
    """
    Return the serialized reflection C{xml} as the participants on
    C{revision} get it (REV-12).
    """
    convert = _REFLECTED.get(revision)
    return xml if convert is None else convert(xml, reflection)


def archivedFor(revision, xml, channelJID):
    """
    Return the archived stanza C{xml} of a channel's messages archive as a
    reader on C{revision} gets it (REV-14): in a MAM result, or
    retransmitted after a bounce (DLV-3).
    """
    convert = _ARCHIVED.get(revision)
    return xml if convert is None else convert(xml, channelJID)


class Variants(dict):
    """
    The L{Template}s of one reflection, per revision: each variant is
    built the first time a recipient of its revision needs it, once.
    """

    def __init__(self, xml, reflection):
        dict.__init__(self)
        self.xml = xml
        self.reflection = reflection

    def __missing__(self, revision):
        template = self[revision] = Template(
            variant(revision, self.xml, self.reflection))
        return template
