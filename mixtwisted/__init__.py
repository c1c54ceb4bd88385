"""
mixtwisted: a MIX (XEP-0369) channel service for XMPP, on Twisted and wokkel.

Importing the package installs the small wokkel compatibility shim in
L{mixtwisted._compat} first, so that wokkel can be imported afterwards.
"""

from mixtwisted import _compat  # noqa: F401  (must come before wokkel)

__version__ = "0.1.0"
