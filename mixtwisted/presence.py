"""
Presence in channels (MIX-PRESENCE, XEP-0403; XEP-0369 §6.1.7–6.2):
the presence node, distribution, resync, start-up probes and ghosts.
"""


class Presence:
    """
    The presence of the clients of a L{mixtwisted.channels.ChannelService}.

    @param channels: the channel logic.
    @param clock: the reactor (C{callLater}, C{seconds}), a C{Clock} in
        tests.
    """

    def __init__(self, channels, clock):
        self.channels = channels
        self.clock = clock
