"""
Rendering of node items, data forms and PubSub events into XML, and
reading of submitted data forms.

The channel logic hands out plain payloads (L{mixtwisted.nodes}); this is
where they become elements.
"""

import uuid

from twisted.words.xish import domish
from wokkel import data_form
from wokkel.generic import parseXml

from mixtwisted import namespaces as ns
from mixtwisted.errors import BadRequest
from mixtwisted.nodes import (
    FormPayload, JIDPayload, ParticipantPayload, RawPayload)


def renderForm(fields, formType="result", formNamespace=ns.NS_MIX):
    """
    Render C{(Field, value)} pairs as a data form with FORM_TYPE
    C{urn:xmpp:mix:1}.  Every field is rendered, those without a value as
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


def renderPayload(payload):
    """
    Render an item payload (L{mixtwisted.nodes}) as an element, or C{None}.
    """
    if isinstance(payload, ParticipantPayload):
        element = domish.Element((ns.NS_MIX, "participant"))
        if payload.nick is not None:
            element.addElement("nick", content=payload.nick)
        return element
    if isinstance(payload, JIDPayload):
        element = domish.Element((ns.NS_MIX, "participant"))
        element.addElement("jid", content=payload.jid)
        return element
    if isinstance(payload, FormPayload):
        return renderForm(payload.fields)
    if isinstance(payload, RawPayload):
        # Wrapped: a top-level element parsed alone loses its text.
        element = parseXml("<w>%s</w>" % (payload.xml,)).firstChildElement()
        element.parent = None
        return element
    return None


def renderItem(item, uri=ns.NS_PUBSUB):
    """
    Render a L{mixtwisted.nodes.NodeItem} as a PubSub C{<item/>} (never
    with C{xmlns='urn:xmpp:mix:1'}, AMB-27).
    """
    element = domish.Element((uri, "item"))
    element["id"] = item.id
    payload = renderPayload(item.payload)
    if payload is not None:
        element.addChild(payload)
    return element


def itemsEvent(channelJID, node, items):
    """
    Build the body of a PubSub notification of published items (PS-5), to
    be addressed per recipient.
    """
    message = domish.Element((None, "message"))
    message["from"] = channelJID
    message["id"] = uuid.uuid4().hex
    event = message.addElement((ns.NS_PUBSUB_EVENT, "event"))
    itemsElement = event.addElement("items")
    itemsElement["node"] = node
    for item in items:
        itemsElement.addChild(renderItem(item, ns.NS_PUBSUB_EVENT))
    return message


def retractEvent(channelJID, node, itemIds):
    """
    Build a PubSub retract notification (JOIN-19, JOIN-21).
    """
    message = domish.Element((None, "message"))
    message["from"] = channelJID
    message["id"] = uuid.uuid4().hex
    event = message.addElement((ns.NS_PUBSUB_EVENT, "event"))
    itemsElement = event.addElement("items")
    itemsElement["node"] = node
    for itemId in itemIds:
        itemsElement.addElement("retract")["id"] = itemId
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
