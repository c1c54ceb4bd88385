"""
The contents of the channel nodes, as views over the channel's state.

Nodes are not stored item by item: the participants, jidmap, info and config
items are derived from the channel and participant records whenever they
are read or notified.  Payloads are plain objects; the protocol layer
(L{mixtwisted.handlers.render}) turns them into XML.
"""

from dataclasses import dataclass
from typing import Optional, Tuple

from mixtwisted import config as cfg
from mixtwisted import namespaces as ns
from mixtwisted.proxy import proxyJID


#: A change of the real JID a participants item shows (L{jidVisible},
#: VIS-3) and of nothing else in it, after a change of the channel's JID
#: Visibility or of a participant's sharing preference: what a
#: notification limited to the readers who see it names (the C{changed}
#: of L{mixtwisted.interfaces.INotifier.itemsPublished}).
JID_SHOWN = "jid"

#: The nick of a participant who joined with one, for the readers whose
#: join notification could not carry it (JOIN-7: C{urn:xmpp:mix:1}); the
#: others had it in the join item (REV-8).
NICK_AFTER_JOIN = "nick after join"


@dataclass(frozen=True)
class ParticipantPayload:
    """
    C{<participant><nick/><jid/></participant>} of the participants node.

    @ivar nick: the participant's nick, or C{None}.
    @ivar jid: the participant's real bare JID when the other participants
        may see it (L{jidVisible}, VIS-3), else C{None}: never a proxy
        JID.  Only MIX-CORE readers get it (REV-8).
    @ivar joining: the item announces a join: its C{urn:xmpp:mix:1} form
        carries no nick (JOIN-7), its MIX-CORE form does (REV-8).
    """
    nick: Optional[str] = None
    jid: Optional[str] = None
    joining: bool = False


@dataclass(frozen=True)
class JIDPayload:
    """C{<participant><jid/></participant>} of jidmap and jidmap-visible."""
    jid: str


@dataclass(frozen=True)
class FormPayload:
    """
    A C{result} data form of the information or configuration node; its
    FORM_TYPE depends on the reader's revision (doc/protocol-revisions.md
    §3.17).

    @ivar fields: C{(Field, value)} pairs in form order.
    @ivar node: the node the form is the item of (L{ns.NODE_INFO} or
        L{ns.NODE_CONFIG}), which names its FORM_TYPE.
    """
    fields: Tuple
    node: str = ns.NODE_INFO


@dataclass(frozen=True)
class RawPayload:
    """
    A payload published by a client and kept serialized (the avatar nodes,
    NODE-13): C{xml} is one element.
    """
    xml: str


@dataclass(frozen=True)
class NodeItem:
    """
    One item of a node: its id and payload (C{None}: no payload, as in the
    allowed and banned nodes).

    @ivar id: the item id, as C{urn:xmpp:mix:1} readers know it.
    @ivar stableId: the id MIX-CORE readers know the item by, when it
        differs: the participant's stable participant id in the
        participants, jidmap and jidmap-visible nodes (REV-3, REV-8,
        REV-9); C{None} when every revision uses C{id}.
    """
    id: str
    payload: object = None
    stableId: Optional[str] = None


def participantRef(participant, domain, payload=None):
    """
    The item a participant has in the participants, jidmap and
    jidmap-visible nodes: id its bare proxy JID, stable id its proxy id
    (REV-3), with C{payload}.  Without payload, what a retraction names
    (JOIN-19, JOIN-21).
    """
    return NodeItem(proxyJID(participant.proxyId, participant.channel,
                             domain), payload, participant.proxyId)


def participantItem(channel, participant, domain, joining=False):
    """
    The participants node item of a participant (NODE-3): its nick, and
    its real JID where the channel shows it (VIS-3), for the readers that
    get it (REV-8).  C{joining} marks the join notification, whose
    C{urn:xmpp:mix:1} form carries no nick (JOIN-7).
    """
    visible = participant.jid if jidVisible(channel, participant) else None
    return participantRef(participant, domain, ParticipantPayload(
        participant.nick, visible, joining))


def jidmapItem(participant, domain):
    """
    The jidmap node item: proxy JID (or stable id, REV-9) to real bare JID
    (NODE-5).
    """
    return participantRef(participant, domain, JIDPayload(participant.jid))


def sharesJID(participant):
    """
    Tell whether a participant's preference shows its JID in a
    jid-maybe-visible channel (VIS-3).
    """
    return participant.prefs.get("JID Visibility") in (
        "always", "prefer visible")


def visibility(channel):
    """
    Return the channel's JID Visibility mode (VIS-1; jid-hidden unless
    set).
    """
    return channel.info.get("JID Visibility", cfg.JID_HIDDEN)


def jidVisible(channel, participant):
    """
    Tell whether a participant's real JID is visible to the other
    participants (the VIS-3 table): always in a jid-visible channel, in a
    jid-maybe-visible one when the participant shares it, never in a
    jid-hidden one.  Owners and administrators see it anyway.
    """
    mode = visibility(channel)
    if mode == cfg.JID_VISIBLE:
        return True
    return mode == cfg.JID_MAYBE_VISIBLE and sharesJID(participant)


def jidShownChanged(before, after, participants):
    """
    Return the participants whose real JID the channel record C{after}
    shows where C{before} did not, or the reverse (L{jidVisible}, VIS-3):
    after a change of JID Visibility, those whose participants item
    changed for the readers who see the JID (L{JID_SHOWN}).
    """
    return [p for p in participants
            if jidVisible(before, p) != jidVisible(after, p)]


def jidmapVisibleItem(participant, domain):
    """
    The jidmap-visible item: the real JID when the participant shares it,
    otherwise the proxy JID itself (NODE-7), in every revision (REV-9).
    """
    jid = proxyJID(participant.proxyId, participant.channel, domain)
    return participantRef(participant, domain, JIDPayload(
        participant.jid if sharesJID(participant) else jid))


def fullProxyJID(record, domain):
    """
    The full proxy JID of the client behind a presence record (PJID-6):
    the item id of its presence node item (NODE-8, X403-2).
    """
    return "%s/%s" % (proxyJID(record.proxyId, record.channel, domain),
                      record.resource)


def presenceItem(record, domain, xml=None):
    """
    The presence node item of a client (NODE-8, X403-2): id the full
    proxy JID, payload the C{<presence xmlns='jabber:client'/>} as
    distributed (C{xml}, or the stored one).
    """
    return NodeItem(fullProxyJID(record, domain),
                    RawPayload(record.xml if xml is None else xml))


def infoItem(channel):
    """
    The information node item, every field with its current value (CHAN-5,
    AMB-10).
    """
    fields = tuple((spec, channel.info.get(spec.var, spec.default))
                   for spec in cfg.INFO_FIELDS)
    return NodeItem(channel.infoId, FormPayload(fields, ns.NODE_INFO))


def configItem(channel):
    """
    The configuration node item with every option the channel uses,
    defaults included (NODE-12).
    """
    fields = tuple((spec, channel.config.get(spec.var, spec.default))
                   for spec in cfg.CONFIG_FIELDS)
    return NodeItem(channel.configId, FormPayload(fields, ns.NODE_CONFIG))


def nodeItems(channel, node, participants, domain):
    """
    Return every current item of C{node}.

    Messages hold no PubSub items (NODE-2); presence items are kept by
    L{mixtwisted.presence} (a node reader of the channel logic).
    """
    if node == ns.NODE_PARTICIPANTS:
        return [participantItem(channel, p, domain) for p in participants]
    if node == ns.NODE_JIDMAP:
        return [jidmapItem(p, domain) for p in participants]
    if node == ns.NODE_JIDMAP_VISIBLE:
        return [jidmapVisibleItem(p, domain) for p in participants]
    if node == ns.NODE_INFO:
        return [infoItem(channel)]
    if node == ns.NODE_CONFIG:
        return [configItem(channel)]
    if node == ns.NODE_ALLOWED:
        return [NodeItem(i) for i in channel.allowed]
    if node == ns.NODE_BANNED:
        return [NodeItem(i) for i in channel.banned]
    return []


def selectItems(items, itemIds=None, maxItems=None):
    """
    Apply an items request's selection: only the items named (XEP-0060
    §6.5.8), by either spelling of their id whatever the reader's
    revision (C{id} or C{stableId}, REV-8), then only the last
    C{maxItems} (§6.5.7).
    """
    if itemIds:
        wanted = set(itemIds)
        items = [item for item in items
                 if item.id in wanted or item.stableId in wanted]
    if maxItems is not None:
        items = items[-maxItems:] if maxItems > 0 else []
    return items
