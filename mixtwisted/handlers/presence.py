"""
Presence stanzas to channels (PRES-*, X403-*).
"""

from mixtwisted.handlers.base import MIXHandler


class PresenceHandler(MIXHandler):
    """
    Handle C{<presence/>} addressed to the service domain.
    """

    def __init__(self, channels, presence):
        MIXHandler.__init__(self, channels)
        self.presence = presence
