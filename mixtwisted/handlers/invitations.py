"""
Invitation requests at a channel (INV-1..3).
"""

from twisted.words.xish import domish

from mixtwisted import namespaces as ns
from mixtwisted.errors import BadRequest
from mixtwisted.handlers.base import MIXIQHandler, payload

# The listing uses type='get'; set is accepted too (AMB-32).
INVITE = '/iq[@type="get" or @type="set"]/invite[@xmlns="%s"]' % ns.NS_MIX

_FIELDS = ("inviter", "invitee", "channel", "token")


def renderInvitation(invitation, parent):
    element = parent.addElement("invitation")
    for name in _FIELDS:
        element.addElement(name, content=getattr(invitation, name))
    return element


class InvitationHandler(MIXIQHandler):
    """
    Serve C{<invite/>} at channel JIDs.
    """

    iqHandlers = {INVITE: "_onInvite"}

    def _onInvite(self, iq):
        invite = payload(iq, ns.NS_MIX, "invite")
        sender, recipient = self.addresses(iq)
        name = self.channelName(recipient)
        invitees = [str(c).strip() for c in invite.elements(ns.NS_MIX,
                                                             "invitee")]
        if len(invitees) != 1 or not invitees[0]:
            raise BadRequest("Expected one invitee")
        d = self.channels.invitations.invite(sender, name, invitees[0])
        d.addCallback(self._response)
        return d

    @staticmethod
    def _response(invitation):
        response = domish.Element((ns.NS_MIX, "invite"))
        renderInvitation(invitation, response)
        return response
