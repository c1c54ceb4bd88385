"""
Nick registration at the service (NICK-9..14).
"""

from mixtwisted.handlers.base import MIXIQHandler


class RegistrationHandler(MIXIQHandler):
    """
    Serve C{<register/>} at the service JID.
    """

    iqHandlers = {}
