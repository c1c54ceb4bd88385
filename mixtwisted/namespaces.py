"""
Namespaces, feature strings and node names used on the wire.

Kept in one table so a spelling decision (requirements.md §0.4, AMB-1, AMB-2)
can be changed in one place.
"""

NS_MIX = "urn:xmpp:mix:1"
NS_MIX_SEARCHABLE = NS_MIX + "#searchable"
NS_MIX_CREATE = NS_MIX + "#create-channel"
NS_MIX_SERVICEINFO = NS_MIX + "#serviceinfo"
NS_MIX_MUC_MIRROR = "urn:xmpp:mix:muc:0#muc-mirror"
NS_MIX_PRESENCE = "urn:xmpp:mix:presence:0"
#: The disco feature of nick registration with the service (DISCO-5).
NS_MIX_NICK_REGISTER = NS_MIX + "#nick-register"

# The current MIX family (doc/protocol-revisions.md): MIX-CORE, and the
# parts of MIX-ANON, MIX-MISC and MIX-ADMIN that took over 0.9.5's
# elements and form types.
NS_MIX_CORE = "urn:xmpp:mix:core:1"
NS_MIX_CORE_SEARCHABLE = NS_MIX_CORE + "#searchable"
NS_MIX_CORE_CREATE = NS_MIX_CORE + "#create-channel"
NS_MIX_ANON = "urn:xmpp:mix:anon:0"
NS_MIX_MISC = "urn:xmpp:mix:misc:0"
NS_MIX_MISC_NICK_REGISTER = NS_MIX_MISC + "#nick-register"
NS_MIX_ADMIN = "urn:xmpp:mix:admin:0"
#: MIX-PAM: never addressed to a channel (a user's server unwraps its
#: C{<client-join/>}), named for documentation and tests.
NS_MIX_PAM2 = "urn:xmpp:mix:pam:2"

#: The protocol revisions a participant may speak (REV-2): the namespace
#: of its last join.
MIX_REVISIONS = (NS_MIX, NS_MIX_CORE)
#: The revision of whoever never joined with another one: non-participant
#: readers, and participants stored before revisions were kept (REV-16).
DEFAULT_REVISION = NS_MIX

NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
NS_PUBSUB = "http://jabber.org/protocol/pubsub"
NS_PUBSUB_EVENT = "http://jabber.org/protocol/pubsub#event"
NS_PUBSUB_ERRORS = "http://jabber.org/protocol/pubsub#errors"
NS_PUBSUB_OWNER = "http://jabber.org/protocol/pubsub#owner"
NS_MAM1 = "urn:xmpp:mam:1"
NS_MAM2 = "urn:xmpp:mam:2"
NS_MAM = (NS_MAM2, NS_MAM1)
NS_RSM = "http://jabber.org/protocol/rsm"
NS_FORWARD = "urn:xmpp:forward:0"
NS_DELAY = "urn:xmpp:delay"
NS_DATA = "jabber:x:data"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_CLIENT = "jabber:client"
NS_NICK = "http://jabber.org/protocol/nick"
NS_SID = "urn:xmpp:sid:0"
NS_XML = "http://www.w3.org/XML/1998/namespace"

# Protocols relayed to participants through proxy JIDs (RELAY-7, DISCO-6).
NS_VCARD_TEMP = "vcard-temp"
NS_VCARD4 = "urn:ietf:params:xml:ns:vcard-4.0"
NS_PING = "urn:xmpp:ping"
NS_VERSION = "jabber:iq:version"
NS_TIME = "urn:xmpp:time"

#: The disco node every channel query and answer carries (CHAN-2).
MIX_DISCO_NODE = "mix"

NODE_PREFIX = "urn:xmpp:mix:nodes:"
NODE_MESSAGES = NODE_PREFIX + "messages"
NODE_PARTICIPANTS = NODE_PREFIX + "participants"
NODE_JIDMAP = NODE_PREFIX + "jidmap"
NODE_JIDMAP_VISIBLE = NODE_PREFIX + "jidmap-visible"
NODE_PRESENCE = NODE_PREFIX + "presence"
NODE_INFO = NODE_PREFIX + "info"
NODE_ALLOWED = NODE_PREFIX + "allowed"
NODE_BANNED = NODE_PREFIX + "banned"
NODE_CONFIG = NODE_PREFIX + "config"
NODE_AVATAR_DATA = "urn:xmpp:avatar:data"
NODE_AVATAR_METADATA = "urn:xmpp:avatar:metadata"

#: Standard nodes in the order disco#items lists them.
STANDARD_NODES = (
    NODE_MESSAGES, NODE_PARTICIPANTS, NODE_JIDMAP, NODE_JIDMAP_VISIBLE,
    NODE_PRESENCE, NODE_INFO, NODE_ALLOWED, NODE_BANNED, NODE_CONFIG,
    NODE_AVATAR_DATA, NODE_AVATAR_METADATA,
)

#: Other spellings found in the seeds, accepted on input (AMB-1).
NODE_ALIASES = {
    "urn:xmpp:mix:node:messages": NODE_MESSAGES,
    "urn:xmpp:mix:node:participants": NODE_PARTICIPANTS,
    "urn:xmpp:mix:node:jidmap": NODE_JIDMAP,
    "urn:xmpp:mix:nodes:jidmap:visible": NODE_JIDMAP_VISIBLE,
    "urn:xmpp:mix:node:jidmap-visible": NODE_JIDMAP_VISIBLE,
    "urn:xmpp:mix:node:presence": NODE_PRESENCE,
    "urn:xmpp:mix:node-presence": NODE_PRESENCE,
    "urn:xmpp:mix:node:info": NODE_INFO,
    "urn:xmpp:mix:nodes:information": NODE_INFO,
    "urn:xmpp:mix:node:information": NODE_INFO,
    "urn:xmpp:mix:node:allowed": NODE_ALLOWED,
    "urn:xmpp:mix:node:banned": NODE_BANNED,
    "urn:xmpp:mix:node:config": NODE_CONFIG,
}


def canonicalNode(name):
    """
    Map a node name as received to its canonical spelling (AMB-1).

    Unknown names are returned unchanged, so that the caller answers
    C{item-not-found} for them.
    """
    if name is None:
        return None
    return NODE_ALIASES.get(name, name)
