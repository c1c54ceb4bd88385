"""
Channel administration: information and configuration updates, the allowed
and banned lists, avatar nodes and End of Life (ADM-1..12, ACL-*, VIS-4,
CRE-11, CRE-12, NODE-13).

Plain Python over the channel logic (L{mixtwisted.channels}) and the store;
the PubSub handler (L{mixtwisted.handlers.pubsub}) calls it for publish and
retract requests.
"""


class Administration:
    """
    Administer the channels of a L{mixtwisted.channels.ChannelService}.

    @param channels: the L{mixtwisted.channels.ChannelService}.
    @param clock: the reactor (C{callLater}, C{seconds}), a C{Clock} in
        tests.
    """

    def __init__(self, channels, clock):
        self.channels = channels
        self.clock = clock
