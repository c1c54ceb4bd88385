"""
IQ stanzas addressed to proxy JIDs (RELAY-*).
"""

from mixtwisted.handlers.base import MIXHandler


class RelayHandler(MIXHandler):
    """
    Relay IQ requests to participants' proxy JIDs and their responses.
    """

    def __init__(self, channels, relay):
        MIXHandler.__init__(self, channels)
        self.relay = relay
