"""
Channel creation and destruction, addressed to the service (CRE-1..10).
"""

from twisted.internet import defer
from twisted.words.xish import domish

from mixtwisted import namespaces as ns
from mixtwisted.errors import BadRequest
from mixtwisted.handlers.base import MIXIQHandler
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
        (CRE-2, AMB-29).
        """
        value = element.getAttribute("channel")
        if value is None:
            if required:
                raise BadRequest("Missing channel attribute")
            return None
        if "@" in value:
            local, _, domain = value.rpartition("@")
            if domain != self.domain or not local:
                raise BadRequest("Channel on another domain")
            value = local
        if not value:
            raise BadRequest("Empty channel name")
        return value

    def _checkServiceAddress(self, iq):
        sender, recipient = self.addresses(iq)
        if not self.isService(recipient):
            raise BadRequest("Send this request to the service JID")
        return sender

    @defer.inlineCallbacks
    def _onCreate(self, iq):
        sender = self._checkServiceAddress(iq)
        create = iq.firstChildElement()
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
        name = self._channelAttribute(iq.firstChildElement(), required=True)
        yield self.channels.destroy(sender, name)
        return None
