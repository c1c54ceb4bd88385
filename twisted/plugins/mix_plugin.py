"""
The C{twistd mix} plugin: runs the MIX channel service as an external component.

This file is found by Twisted's plugin system (it lives in a C{twisted/plugins}
directory with no C{__init__.py}).  It stays tiny and imports nothing from
mixtwisted: L{ServiceMaker} imports L{mixtwisted.tap} only when twistd asks
for C{mix}'s options or service, so C{twistd --help} stays fast and a broken
install of mixtwisted cannot break other twistd plugins.
"""

from twisted.application.service import ServiceMaker

mix = ServiceMaker(
    "MIX channel service",
    "mixtwisted.tap",
    "MIX (XEP-0369) group-chat channel service, "
    "run as an XEP-0114 external component of an XMPP server.",
    "mix",
)
