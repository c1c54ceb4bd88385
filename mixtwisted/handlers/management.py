"""
Channel creation and destruction, addressed to the service (CRE-1..10).
"""

from twisted.internet import defer
from twisted.words.xish import domish

from mixtwisted import namespaces as ns
from mixtwisted.errors import BadRequest
from mixtwisted.handlers.base import MIXIQHandler, payload
from mixtwisted.handlers.render import findForm, readForm

CREATE = '/iq[@type="set"]/create[@xmlns="%s"]' % ns.NS_MIX
DESTROY = '/iq[@type="set"]/destroy[@xmlns="%s"]' % ns.NS_MIX


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
        create = payload(iq, ns.NS_MIX, "create")
        name = self._channelAttribute(create, required=False)
        form = findForm(create)
        submitted = readForm(form) if form is not None else None
        created = yield self.channels.create(sender, name, submitted)
        response = domish.Element((ns.NS_MIX, "create"))
        response["channel"] = create.getAttribute("channel") or created
        return response

    @defer.inlineCallbacks
    def _onDestroy(self, iq):
        sender = self._checkServiceAddress(iq)
        name = self._channelAttribute(payload(iq, ns.NS_MIX, "destroy"),
                                      required=True)
        yield self.channels.destroy(sender, name)
        return None
