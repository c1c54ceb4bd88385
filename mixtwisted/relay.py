"""
IQ relay through proxy JIDs (RELAY-1..8, X403-7): requests from one
participant to another's proxy JID, and the matching responses.
"""


class Relay:
    """
    Relay IQs between the participants of a
    L{mixtwisted.channels.ChannelService}.
    """

    def __init__(self, channels, clock):
        self.channels = channels
        self.clock = clock
