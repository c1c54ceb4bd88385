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
    Size limits that keep giant values out of the store (issue 2, item 5),
    and the bounds of delivery retries (DLV-1..4).

    Each size limit answers with a stanza error instead of storing the
    value.  The delivery limits answer nobody: past them, the messages
    pending for a recipient are dropped and the drop is logged
    (L{mixtwisted.delivery}).
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
    #: Most messages kept pending for one recipient in one channel after
    #: its server bounced one (DLV-4); past it, all are dropped.
    maxPendingPerRecipient: int = 1000
    #: Seconds after the first bounce when a recipient's pending messages
    #: are dropped if the path to it still fails (DLV-4); also the oldest
    #: archive entry whose bounce is retried, nor retransmitted.
    maxPendingAge: float = 24 * 3600.0
    #: Times one pending message is retransmitted at most; a bounce of it
    #: after that is logged and not retried (D-56).
    maxRetransmissions: int = 10
    #: Seconds from the first bounce of a hold to the first C{<marker/>}
    #: (DLV-2), unless a hold of that recipient ended less than
    #: C{markerMaxDelay} ago (its wait goes on doubling); each marker that
    #: fails doubles the wait ...
    markerDelay: float = 5.0
    #: ... up to this many seconds.
    markerMaxDelay: float = 600.0
    #: Seconds a marker waits for its response before it counts as failed.
    markerTimeout: float = 60.0


@dataclass
class Settings:
    """
    The settings of one MIX service.

    @ivar domain: the component's JID (the MIX service domain).
    @ivar creators: C{None} when anybody may create channels, otherwise a
        tuple of bare JIDs and domains that may.
    @ivar admins: bare JIDs of service operators (owner rights everywhere).
    @ivar mucMirror: domain of a MUC mirror service to advertise, if any.
    @ivar delivery: how channel traffic is addressed to users of domains
        without override (L{mixtwisted.routing}): C{bare} (to the bare
        JID, the user's server fans out, MIX-PAM), C{full} (to the full
        JIDs of the user's online clients, as a MUC does) or C{auto} (ask
        each user domain whether it supports MIX).
    @ivar deliveryDomains: C{(domain, mode)} overrides of L{delivery}.
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
    delivery: str = "auto"
    deliveryDomains: Tuple[Tuple[str, str], ...] = ()
    #: Advertise and answer channel listing (DISCO-2, DISCO-7).
    searchable: bool = True
    limits: Limits = field(default_factory=Limits)
