"""
Rendering of node items, data forms and PubSub events into XML, and
reading of submitted data forms.

The channel logic hands out plain payloads (L{mixtwisted.nodes}); this is
where they become elements.
"""

import uuid
from dataclasses import dataclass
from operator import attrgetter

from twisted.words.xish import domish
from wokkel import data_form
from wokkel.generic import parseXml

from mixtwisted import namespaces as ns
from mixtwisted.errors import BadRequest
from mixtwisted.nodes import (
    JID_SHOWN, NICK_AFTER_JOIN, FormPayload, JIDPayload, ParticipantPayload,
    RawPayload)


@dataclass(frozen=True)
class NodeSpelling:
    """
    How one protocol revision spells the items of the channel's nodes
    (doc/protocol-revisions.md §3.9, §3.10, §3.17).

    @ivar participant: namespace of the participants node's
        C{<participant/>}.
    @ivar jidmap: namespace of the jidmap and jidmap-visible nodes'
        C{<participant/>}.
    @ivar stableIds: participant items are named by the stable
        participant id rather than the bare proxy JID (REV-8, REV-9).
    @ivar jids: the participants node's items carry the real JID where
        it is visible (REV-8).
    @ivar nickOnJoin: the join notification carries the nick (REV-8;
        JOIN-7 forbids it in C{urn:xmpp:mix:1}).
    @ivar formTypes: node to the FORM_TYPE of its data form item.
    """
    participant: str
    jidmap: str
    stableIds: bool
    jids: bool
    nickOnJoin: bool
    formTypes: dict


#: The spelling of each revision (REV-2): 0.9.5's, and MIX-CORE's with
#: MIX-ANON's jidmap and MIX-ADMIN's configuration form.
SPELLINGS = {
    ns.NS_MIX: NodeSpelling(
        participant=ns.NS_MIX, jidmap=ns.NS_MIX, stableIds=False,
        jids=False, nickOnJoin=False,
        formTypes={ns.NODE_INFO: ns.NS_MIX, ns.NODE_CONFIG: ns.NS_MIX}),
    ns.NS_MIX_CORE: NodeSpelling(
        participant=ns.NS_MIX_CORE, jidmap=ns.NS_MIX_ANON, stableIds=True,
        jids=True, nickOnJoin=True,
        formTypes={ns.NODE_INFO: ns.NS_MIX_CORE,
                   ns.NODE_CONFIG: ns.NS_MIX_ADMIN}),
}


def spelling(revision):
    """
    Return the L{NodeSpelling} of C{revision} (the default revision's for
    one not known, REV-16).
    """
    return SPELLINGS.get(revision) or SPELLINGS[ns.DEFAULT_REVISION]


#: The changes a notification may be limited to (the C{changed} of
#: L{mixtwisted.interfaces.INotifier.itemsPublished}), each with the
#: L{NodeSpelling} flag that tells whether a revision renders what
#: changed: the real JID in participants items (VIS-3, REV-8), or the nick
#: of a new participant that the join item did not carry (JOIN-7).
CHANGES = {
    JID_SHOWN: attrgetter("jids"),
    NICK_AFTER_JOIN: lambda spelling: not spelling.nickOnJoin,
}


def showsChange(changed):
    """
    Return a predicate on revisions: whether readers on a revision see
    C{changed} (a key of L{CHANGES}), and so have something new in a
    notification of it.
    """
    shows = CHANGES[changed]
    return lambda revision: shows(spelling(revision))


def formTypes(node):
    """
    Return the FORM_TYPEs a form published to C{node} (info or config)
    may state: each revision's (doc/protocol-revisions.md §3.17).
    """
    return tuple(dict.fromkeys(
        s.formTypes[node] for s in SPELLINGS.values()))


def renderForm(fields, formType="result", formNamespace=ns.NS_MIX):
    """
    Render C{(Field, value)} pairs as a data form with FORM_TYPE
    C{formNamespace}.  Every field is rendered, those without a value as
    empty fields: the config and info items list every option (NODE-12,
    AMB-10).
    """
    form = data_form.Form(formType, formNamespace=formNamespace)
    for spec, value in fields:
        if spec.kind == "boolean":
            values = [value] if value is not None else []
        elif isinstance(value, (tuple, list)):
            values = list(value)
        elif value is None:
            values = []
        else:
            values = [value]
        options = [data_form.Option(o) for o in spec.options] \
            if formType == "form" else None
        form.addField(data_form.Field(
            spec.kind, var=spec.var, values=values,
            label=spec.label if formType == "form" else None,
            options=options))
    return form.toElement()


def _participant(uri, nick=None, jid=None):
    """
    A C{<participant/>} in C{uri} with C{<nick/>} and C{<jid/>} children
    (child elements, as the XEPs and slixmpp have them, §3.9).
    """
    element = domish.Element((uri, "participant"))
    if nick is not None:
        element.addElement("nick", content=nick)
    if jid is not None:
        element.addElement("jid", content=jid)
    return element


def renderPayload(payload, revision=ns.DEFAULT_REVISION):
    """
    Render an item payload (L{mixtwisted.nodes}) as an element for a
    reader on C{revision}, or C{None}.
    """
    spelt = spelling(revision)
    if isinstance(payload, ParticipantPayload):
        showNick = spelt.nickOnJoin or not payload.joining
        return _participant(spelt.participant,
                            payload.nick if showNick else None,
                            payload.jid if spelt.jids else None)
    if isinstance(payload, JIDPayload):
        return _participant(spelt.jidmap, jid=payload.jid)
    if isinstance(payload, FormPayload):
        return renderForm(payload.fields,
                          formNamespace=spelt.formTypes[payload.node])
    if isinstance(payload, RawPayload):
        # Wrapped: a top-level element parsed alone loses its text.
        element = parseXml("<w>%s</w>" % (payload.xml,)).firstChildElement()
        element.parent = None
        return element
    return None


def itemId(item, revision=ns.DEFAULT_REVISION):
    """
    Return the id of C{item} as a reader on C{revision} knows it: the
    stable participant id for MIX-CORE where the item has one (REV-8,
    REV-9).  C{item} may also be a plain id, the same in every revision
    (as retractions of the allowed, banned and avatar nodes name them).
    """
    if isinstance(item, str):
        return item
    if item.stableId is not None and spelling(revision).stableIds:
        return item.stableId
    return item.id


def renderItem(item, uri=ns.NS_PUBSUB, revision=ns.DEFAULT_REVISION):
    """
    Render a L{mixtwisted.nodes.NodeItem} as a PubSub C{<item/>} for a
    reader on C{revision} (never with C{xmlns='urn:xmpp:mix:1'}, AMB-27).
    """
    element = domish.Element((uri, "item"))
    element["id"] = itemId(item, revision)
    payload = renderPayload(item.payload, revision)
    if payload is not None:
        element.addChild(payload)
    return element


def _event(channelJID, node):
    """
    Return C{(message, <items/>)}: the body of a PubSub notification
    about C{node}, to be addressed per recipient.
    """
    message = domish.Element((None, "message"))
    message["from"] = channelJID
    message["id"] = uuid.uuid4().hex
    event = message.addElement((ns.NS_PUBSUB_EVENT, "event"))
    itemsElement = event.addElement("items")
    itemsElement["node"] = node
    return message, itemsElement


def itemsEvent(channelJID, node, items, revision=ns.DEFAULT_REVISION):
    """
    Build the body of a PubSub notification of published items (PS-5) for
    subscribers on C{revision}, to be addressed per recipient.
    """
    message, itemsElement = _event(channelJID, node)
    for item in items:
        itemsElement.addChild(
            renderItem(item, ns.NS_PUBSUB_EVENT, revision))
    return message


def retractEvent(channelJID, node, items, revision=ns.DEFAULT_REVISION):
    """
    Build a PubSub retract notification (JOIN-19, JOIN-21) for
    subscribers on C{revision}.

    @param items: L{mixtwisted.nodes.NodeItem}s (payloads unused) or
        plain ids; each is named as C{revision} knows it (L{itemId}).
    """
    message, itemsElement = _event(channelJID, node)
    for item in items:
        itemsElement.addElement("retract")["id"] = itemId(item, revision)
    return message


def readForm(element, formType=ns.NS_MIX, required=True):
    """
    Read a submitted data form into C{(var, [values])} pairs, repeated
    fields kept (AMB-8).

    @param element: the C{<x xmlns='jabber:x:data'/>} element.
    @param formType: the FORM_TYPE expected, or a tuple of those accepted
        (the revisions name the same form differently, REV-11).
    @raise BadRequest: when it is not a C{submit} form of C{formType}.
    """
    if element.getAttribute("type", "submit") != "submit":
        raise BadRequest("Expected a submit form")
    fields = []
    formTypes = []
    for child in element.elements(ns.NS_DATA, "field"):
        var = child.getAttribute("var")
        if not var:
            raise BadRequest("Form field without var")
        values = [str(v) for v in child.elements(ns.NS_DATA, "value")]
        if var == "FORM_TYPE":
            formTypes.extend(v.strip() for v in values)
            continue
        fields.append((var, values))
    accepted = (formType,) if isinstance(formType, str) else formType
    if formTypes and (len(formTypes) != 1 or formTypes[0] not in accepted):
        raise BadRequest("Unexpected FORM_TYPE")
    if required and not formTypes:
        raise BadRequest("Form without FORM_TYPE")
    return fields


def formTypeOf(element):
    """
    Return the FORM_TYPE a data form states, or C{None}.
    """
    for child in element.elements(ns.NS_DATA, "field"):
        if child.getAttribute("var") == "FORM_TYPE":
            for value in child.elements(ns.NS_DATA, "value"):
                return str(value).strip()
    return None


def findForm(element):
    """
    Return the first data form child of C{element}, or C{None}.
    """
    for child in element.elements(ns.NS_DATA, "x"):
        return child
    return None


def publishedForm(publish):
    """
    Return the data form of a PubSub C{<publish/>} to the info or config
    node: directly in C{<publish/>} (as in XEP-0369 §6.5.7) or wrapped in
    an C{<item/>} (XEP-0060) (ADM-2, AMB-9).

    @raise BadRequest: when there is none.
    """
    form = findForm(publish)
    if form is None:
        for item in publish.elements(ns.NS_PUBSUB, "item"):
            form = findForm(item)
            if form is not None:
                break
    if form is None:
        raise BadRequest("Publish a data form",
                         appCondition=(ns.NS_PUBSUB_ERRORS,
                                       "invalid-payload"))
    return form


def itemPayload(item):
    """
    Return C{(uri, name, serialized xml)} of the one payload element of a
    published C{<item/>}, or C{None} when it has none.

    @raise BadRequest: for more than one payload element.
    """
    children = list(item.elements())
    if not children:
        return None
    if len(children) > 1:
        raise BadRequest("One payload per item",
                         appCondition=(ns.NS_PUBSUB_ERRORS,
                                       "invalid-payload"))
    payload = children[0]
    return payload.uri, payload.name, payload.toXml()


def publishResult(node, itemId):
    """
    The result of a publish: C{<pubsub><publish node='N'><item id='I'/>
    </publish></pubsub>} (ADM-2, ADM-4).
    """
    response = domish.Element((ns.NS_PUBSUB, "pubsub"))
    publish = response.addElement("publish")
    publish["node"] = node
    publish.addElement("item")["id"] = itemId
    return response


def emptyPubSub():
    """
    The empty C{<pubsub/>} result of allowed/banned changes (ADM-7, ADM-8).
    """
    return domish.Element((ns.NS_PUBSUB, "pubsub"))
