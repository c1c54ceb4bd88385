"""
Invitation requests at a channel (INV-1..3), and the invitation a join
carries (JOIN-12, INV-4).

Both are read in C{urn:xmpp:mix:1} and in MIX-MISC's
C{urn:xmpp:mix:misc:0}, and an C{<invite/>} is answered in its own
namespace (REV-15).
"""

from mixtwisted import namespaces as ns
from mixtwisted.errors import BadRequest
from mixtwisted.handlers.base import (
    MIXIQHandler, answerTo, payload, requestQuery)
from mixtwisted.invitations import Invitation

#: The namespaces of C{<invite/>} and C{<invitation/>} (REV-15).
NAMESPACES = (ns.NS_MIX, ns.NS_MIX_MISC)

# The listing uses type='get'; set is accepted too (AMB-32).
INVITE = requestQuery("invite", NAMESPACES, ("get", "set"))

_FIELDS = ("inviter", "invitee", "channel", "token")


def renderInvitation(invitation, parent):
    element = parent.addElement("invitation")
    for name in _FIELDS:
        element.addElement(name, content=getattr(invitation, name))
    return element


def readInvitation(element):
    """
    Read an C{<invitation/>} element into an
    L{mixtwisted.invitations.Invitation}, fields as received (a missing one
    is C{None}, which makes the invitation invalid).  The fields are read
    in the namespace of the element itself.
    """
    values = dict.fromkeys(_FIELDS)
    for child in element.elements(element.uri):
        if child.name in values and values[child.name] is None:
            values[child.name] = str(child).strip()
    return Invitation(**values)


def findInvitation(join):
    """
    Return the invitation a C{<join/>} carries, read, or C{None} (JOIN-12,
    INV-4; a child of C{<join/>}, AMB-28).

    It may be in C{urn:xmpp:mix:1}, in C{urn:xmpp:mix:misc:0}, or in the
    join's own namespace, which is where an C{<invitation/>} written
    without C{xmlns} inside a MIX-CORE join ends up (REV-15).
    """
    accepted = NAMESPACES + (join.uri,)
    for element in join.elements():
        if element.name == "invitation" and element.uri in accepted:
            return readInvitation(element)
    return None


class InvitationHandler(MIXIQHandler):
    """
    Serve C{<invite/>} at channel JIDs.
    """

    iqHandlers = {INVITE: "_onInvite"}

    def _onInvite(self, iq):
        invite = payload(iq, NAMESPACES, "invite")
        sender, recipient = self.addresses(iq)
        name = self.channelName(recipient)
        invitees = [str(c).strip()
                    for c in invite.elements(invite.uri, "invitee")]
        if len(invitees) != 1 or not invitees[0]:
            raise BadRequest("Expected one invitee")
        d = self.channels.invitations.invite(sender, name, invitees[0])
        d.addCallback(self._response, invite)
        return d

    @staticmethod
    def _response(invitation, invite):
        response = answerTo(invite)
        renderInvitation(invitation, response)
        return response
