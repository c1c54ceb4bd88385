"""
Operator settings of a MIX service.

L{Settings} is what the twistd plugin (L{mixtwisted.tap}) builds from its
command line and configuration file, and what embedding code passes to
L{mixtwisted.wiring.makeComponent}.  Everything here is plain data.
"""

from dataclasses import dataclass, field
from typing import Optional, Tuple


@dataclass
class Limits:
    """
    Size limits that keep giant values out of the store (issue 2, item 5).

    Each one answers with a stanza error instead of storing the value.
    """

    #: Longest nick, in characters, after PRECIS enforcement.
    maxNickLength: int = 64
    #: Longest channel localpart, in characters.
    maxChannelNameLength: int = 64
    #: Largest serialized groupchat message accepted, in bytes (UTF-8).
    maxMessageBytes: int = 64 * 1024
    #: Most stanzas held while the XMPP server connection is down.
    maxQueuedStanzas: int = 10000
    #: Largest RSM page a MAM query may ask for.
    maxMAMPage: int = 250
    #: Largest item payload users may publish (avatar nodes), in bytes.
    maxItemBytes: int = 256 * 1024


@dataclass
class Settings:
    """
    The settings of one MIX service.

    @ivar domain: the component's JID (the MIX service domain).
    @ivar creators: C{None} when anybody may create channels, otherwise a
        tuple of bare JIDs and domains that may.
    @ivar admins: bare JIDs of service operators (owner rights everywhere).
    @ivar mucMirror: domain of a MUC mirror service to advertise, if any.
    """

    domain: str = "mix.localhost"
    secret: str = ""
    rhost: str = "127.0.0.1"
    rport: int = 5347
    backend: str = "memory"
    dsn: str = ""
    name: str = "MIX channel service"
    creators: Optional[Tuple[str, ...]] = None
    admins: Tuple[str, ...] = ()
    mucMirror: Optional[str] = None
    verbose: bool = False
    #: Advertise and answer channel listing (DISCO-2, DISCO-7).
    searchable: bool = True
    limits: Limits = field(default_factory=Limits)
