"""
Nick registration at the service (NICK-9..14).
"""

from twisted.words.xish import domish

from mixtwisted import namespaces as ns
from mixtwisted.errors import ServiceUnavailable
from mixtwisted.handlers.base import MIXIQHandler, payload
from mixtwisted.registration import NickRegistration

REGISTER = '/iq[@type="set"]/register[@xmlns="%s"]' % ns.NS_MIX


class RegistrationHandler(MIXIQHandler):
    """
    Serve C{<register/>} at the service JID.
    """

    iqHandlers = {REGISTER: "_onRegister"}

    def __init__(self, channels):
        MIXIQHandler.__init__(self, channels)
        self.registration = NickRegistration(channels)

    def _onRegister(self, iq):
        register = payload(iq, ns.NS_MIX, "register")
        sender, recipient = self.addresses(iq)
        if not self.isService(recipient):
            # Registration is a service feature; channels do not offer it.
            raise ServiceUnavailable()
        requested = None
        for child in register.elements(ns.NS_MIX, "nick"):
            requested = str(child)
        d = self.registration.register(sender, requested)
        d.addCallback(self._response)
        return d

    @staticmethod
    def _response(nick):
        response = domish.Element((ns.NS_MIX, "register"))
        response.addElement("nick", content=nick)
        return response
