"""
Invitation requests at a channel (INV-1..3).
"""

from mixtwisted.handlers.base import MIXIQHandler


class InvitationHandler(MIXIQHandler):
    """
    Serve C{<invite/>} at channel JIDs.
    """

    iqHandlers = {}
