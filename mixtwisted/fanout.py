"""
Fan-out without waste: serialize a stanza once, address many copies.

A message to N subscribers would cost N element trees and N serializations
if built per recipient.  Instead the stanza is built and serialized once
without a C{to}, and each copy is that string with C{to='…'} spliced in
after the element name: the copies are byte-identical apart from the
address.
"""

import re

from twisted.words.xish.domish import escapeToXml
from zope.interface import implementer

from mixtwisted.interfaces import INotifier
from mixtwisted.namespaces import DEFAULT_REVISION
from mixtwisted.handlers.render import itemsEvent, retractEvent, showsChange


#: Characters an attribute value in single quotes cannot hold as they are.
_UNSAFE = re.compile("[&<>'\"]")

#: The element name at the start of a serialized stanza.
_NAME = re.compile(r"<[^\s/>]+")


def serialize(element):
    """
    Serialize a stanza in the stream's default namespace (no C{xmlns} on
    the stanza element itself).
    """
    return element.toXml(defaultUri=element.uri)


class Template:
    """
    A serialized stanza, ready to be addressed.

    @ivar xml: the stanza without C{to}.
    """

    __slots__ = ("xml", "_head", "_tail")

    def __init__(self, xml):
        self.xml = xml
        cut = _NAME.match(xml).end()
        self._head = xml[:cut] + " to='"
        self._tail = "'" + xml[cut:]

    def to(self, recipient):
        """
        Return the stanza addressed to C{recipient} (a JID string).
        """
        return self._head + attribute(recipient) + self._tail

    def sendTo(self, send, recipients):
        """
        Send one addressed copy per recipient through C{send}.
        """
        head, tail = self._head, self._tail
        for recipient in recipients:
            send(head + attribute(recipient) + tail)


def attribute(value):
    """
    Escape a JID for an attribute in single quotes.  Prepared JIDs never
    hold the characters that need it (nodeprep forbids them), so the common
    case is one scan instead of a chain of replacements.
    """
    if _UNSAFE.search(value) is None:
        return value
    return escapeToXml(value, True)


def byRevision(recipients, revisions, wanted=None):
    """
    Split C{recipients} by protocol revision (REV-2, §4 of
    doc/protocol-revisions.md).

    @param revisions: bare JID to revision of those not on the default
        revision (L{mixtwisted.interfaces.IParticipantStorage.getRevisions});
        when it is empty, as in a channel where nobody speaks another
        revision, nothing is looked up.
    @param wanted: when given, a predicate on a revision: the groups of
        the revisions it refuses are left out (a notification that
        concerns some revisions only, L{render.showsChange}).
    @return: C{(revision, recipients)} pairs, the default revision first,
        recipients in their order.
    """
    if not revisions:
        groups = {DEFAULT_REVISION: recipients}
    else:
        groups = {DEFAULT_REVISION: []}
        for recipient in recipients:
            groups.setdefault(revisions.get(recipient, DEFAULT_REVISION),
                              []).append(recipient)
    return [(revision, group) for revision, group in groups.items()
            if group and (wanted is None or wanted(revision))]


@implementer(INotifier)
class StanzaNotifier:
    """
    Distribute PubSub notifications (PS-5) as addressed copies of one
    serialized event per protocol revision among the recipients: at most
    two serializations, one when everybody speaks the default revision
    (REV-8, REV-9, §4 of doc/protocol-revisions.md).  A notification of a
    change that only some revisions render (C{changed}) goes to their
    subscribers only, and costs nothing where nobody speaks them.

    @param send: callable taking a serialized stanza (the stream manager's
        C{send}).
    """

    def __init__(self, send):
        self.send = send

    def serializeItems(self, channel, node, items):
        return serialize(itemsEvent(channel, node, items))

    def itemsPublished(self, channel, node, items, recipients,
                       revisions=None, changed=None):
        self._distribute(
            lambda revision: itemsEvent(channel, node, items, revision),
            recipients, revisions,
            None if changed is None else showsChange(changed))

    def itemsRetracted(self, channel, node, itemIds, recipients,
                       revisions=None):
        self._distribute(
            lambda revision: retractEvent(channel, node, itemIds, revision),
            recipients, revisions)

    def _distribute(self, build, recipients, revisions, wanted=None):
        """
        Serialize C{build(revision)} once per revision present among
        C{recipients} (and C{wanted}, L{byRevision}) and send each
        recipient its revision's copy.
        """
        for revision, group in byRevision(recipients, revisions, wanted):
            Template(serialize(build(revision))).sendTo(self.send, group)
