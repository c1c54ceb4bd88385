"""
Channel creation and destruction, addressed to the service (CRE-1..10),
in C{urn:xmpp:mix:1} and in MIX-CORE's C{urn:xmpp:mix:core:1}, answered in
the request's namespace (doc/protocol-revisions.md §3.3).
"""

from twisted.internet import defer

from mixtwisted import namespaces as ns
from mixtwisted.errors import BadRequest
from mixtwisted.handlers.base import (
    MIXIQHandler, answerTo, payload, requestQuery)
from mixtwisted.handlers.render import findForm, readForm

CREATE = requestQuery("create", ns.MIX_REVISIONS)
DESTROY = requestQuery("destroy", ns.MIX_REVISIONS)

#: The FORM_TYPEs a creation form may state, by the request's namespace:
#: only 0.9.5's in a 0.9.5 create (CRE-3); MIX-CORE creates take default
#: parameters, and a form is accepted all the same with the FORM_TYPE of
#: 0.9.5, of MIX-CORE's information node or of MIX-ADMIN's configuration.
CREATE_FORM_TYPES = {
    ns.NS_MIX: (ns.NS_MIX,),
    ns.NS_MIX_CORE: (ns.NS_MIX, ns.NS_MIX_CORE, ns.NS_MIX_ADMIN),
}


class ManagementHandler(MIXIQHandler):
    """
    Serve C{<create/>} and C{<destroy/>} at the service JID.
    """

    iqHandlers = {CREATE: "_onCreate", DESTROY: "_onDestroy"}

    def _channelAttribute(self, element, required):
        """
        Read the C{channel} attribute: a localpart, or a JID on our domain
        (CRE-2, AMB-29), in its prepared form.
        """
        value = element.getAttribute("channel")
        if value is None:
            if required:
                raise BadRequest("Missing channel attribute")
            return None
        return self.channels.prepareChannelName(value)

    def _checkServiceAddress(self, iq):
        sender, recipient = self.addresses(iq)
        if not self.isService(recipient):
            raise BadRequest("Send this request to the service JID")
        return sender

    @defer.inlineCallbacks
    def _onCreate(self, iq):
        sender = self._checkServiceAddress(iq)
        create = payload(iq, ns.MIX_REVISIONS, "create")
        name = self._channelAttribute(create, required=False)
        form = findForm(create)
        submitted = readForm(form, CREATE_FORM_TYPES[create.uri]) \
            if form is not None else None
        created = yield self.channels.create(sender, name, submitted)
        response = answerTo(create)
        response["channel"] = create.getAttribute("channel") or created
        return response

    @defer.inlineCallbacks
    def _onDestroy(self, iq):
        sender = self._checkServiceAddress(iq)
        name = self._channelAttribute(payload(iq, ns.MIX_REVISIONS, "destroy"),
                                      required=True)
        yield self.channels.destroy(sender, name)
        return None
