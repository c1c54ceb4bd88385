"""
Nick registration at the service (NICK-9..14), in C{urn:xmpp:mix:1} and in
MIX-MISC's C{urn:xmpp:mix:misc:0}, answered in the request's namespace
(REV-15).
"""

from mixtwisted import namespaces as ns
from mixtwisted.errors import ServiceUnavailable
from mixtwisted.handlers.base import (
    MIXIQHandler, answerTo, payload, requestQuery)
from mixtwisted.registration import NickRegistration

#: The namespaces of C{<register/>} (REV-15); the service advertises the
#: nick-register feature of each (L{mixtwisted.handlers.disco}).
NAMESPACES = (ns.NS_MIX, ns.NS_MIX_MISC)

REGISTER = requestQuery("register", NAMESPACES)


class RegistrationHandler(MIXIQHandler):
    """
    Serve C{<register/>} at the service JID.
    """

    iqHandlers = {REGISTER: "_onRegister"}

    def __init__(self, channels):
        MIXIQHandler.__init__(self, channels)
        self.registration = NickRegistration(channels)

    def _onRegister(self, iq):
        register = payload(iq, NAMESPACES, "register")
        sender, recipient = self.addresses(iq)
        if not self.isService(recipient):
            # Registration is a service feature; channels do not offer it.
            raise ServiceUnavailable()
        requested = None
        for child in register.elements(register.uri, "nick"):
            requested = str(child)
        d = self.registration.register(sender, requested)
        d.addCallback(self._response, register)
        return d

    @staticmethod
    def _response(nick, register):
        response = answerTo(register)
        response.addElement("nick", content=nick)
        return response
