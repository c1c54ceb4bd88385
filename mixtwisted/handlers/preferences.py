"""
User preferences at a channel: the template and updates (PREF-1..9).
"""

from mixtwisted.handlers.base import MIXIQHandler


class PreferencesHandler(MIXIQHandler):
    """
    Serve C{<user-preference/>} get and set at channel JIDs.
    """

    iqHandlers = {}
