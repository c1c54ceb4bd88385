"""
Roles and rights (ACL-1..8, PS-6): who may see, read and subscribe to what.

Roles are strictly hierarchical (ACL-1), so a role is a number and a right
is the least role that holds it.  Nothing here does I/O: the caller works
out the requester's role once (L{mixtwisted.channels}) and asks these
functions.
"""

from mixtwisted import config as cfg
from mixtwisted import namespaces as ns

ANYONE = 0
ALLOWED = 1
PARTICIPANT = 2
ADMIN = 3
OWNER = 4
#: No role reaches this: the value C{nobody}.
NOBODY = 5

_LEAST_ROLE = {
    cfg.ANYONE: ANYONE,
    cfg.ALLOWED: ALLOWED,
    cfg.PARTICIPANTS: PARTICIPANT,
    cfg.ADMINS: ADMIN,
    cfg.OWNERS: OWNER,
    cfg.NOBODY: NOBODY,
}

_SUBSCRIPTION_FIELD = {
    ns.NODE_MESSAGES: "Messages Node Subscription",
    ns.NODE_PARTICIPANTS: "Participants Node Subscription",
    ns.NODE_PRESENCE: "Presence Node Subscription",
    ns.NODE_INFO: "Information Node Subscription",
    ns.NODE_ALLOWED: "Allowed Node Subscription",
    ns.NODE_BANNED: "Banned Node Subscription",
    ns.NODE_CONFIG: "Configuration Node Access",
    ns.NODE_AVATAR_DATA: "Information Node Subscription",
    ns.NODE_AVATAR_METADATA: "Information Node Subscription",
}


def matchesList(bareJID, domain, items):
    """
    Tell whether a bare JID matches an allowed/banned list: an item equal to
    the bare JID or to its domain (ACL-3, AMB-25; no sub-domains).
    """
    return bareJID in items or domain in items


def isAllowed(channel, bareJID, domain):
    """
    Tell whether a JID is in the Allowed set by the allowed and banned nodes
    alone (ACL-3): banned beats allowed; no allowed node allows everybody.
    """
    nodes = channel.config.get("Nodes Present", ())
    if "banned" in nodes and matchesList(bareJID, domain, channel.banned):
        return False
    if "allowed" in nodes:
        return matchesList(bareJID, domain, channel.allowed)
    return True


def listedAllowed(channel, bareJID, domain):
    """
    Tell whether the channel's allowed node names the JID or its domain:
    how an owner opens an ad hoc channel to others (AMB-52).
    """
    return "allowed" in channel.config.get("Nodes Present", ()) and \
        matchesList(bareJID, domain, channel.allowed)


def roleOf(channel, bareJID, domain, isParticipant, operators):
    """
    Return the role of C{bareJID} in C{channel}.

    Service operators have owner rights everywhere (AMB-8); owners and
    administrators are always Allowed (AMB-25); participants are Allowed by
    definition (ACL-1).  A banned JID is not Allowed but is still in
    Anyone (XEP-0369 §3.9.1), so it keeps what is open to anyone.
    """
    if bareJID in operators or bareJID in channel.config.get("Owner", ()):
        return OWNER
    if bareJID in channel.config.get("Administrator", ()):
        return ADMIN
    if isParticipant:
        return PARTICIPANT
    if isAllowed(channel, bareJID, domain):
        return ALLOWED
    return ANYONE


def presentNodes(channel):
    """
    Return the nodes the channel has, in the order disco lists them.

    Messages and config are always present; jidmap comes with participants
    (NODE-6); jidmap-visible with the jid-maybe-visible mode (VIS-4).
    """
    nodes = channel.config.get("Nodes Present", ())
    present = [ns.NODE_MESSAGES]
    if "participants" in nodes:
        present.append(ns.NODE_PARTICIPANTS)
        present.append(ns.NODE_JIDMAP)
        if channel.info.get("JID Visibility") == cfg.JID_MAYBE_VISIBLE:
            present.append(ns.NODE_JIDMAP_VISIBLE)
    if "presence" in nodes:
        present.append(ns.NODE_PRESENCE)
    if "information" in nodes:
        present.append(ns.NODE_INFO)
    if "allowed" in nodes:
        present.append(ns.NODE_ALLOWED)
    if "banned" in nodes:
        present.append(ns.NODE_BANNED)
    present.append(ns.NODE_CONFIG)
    if "avatar" in nodes:
        present.extend((ns.NODE_AVATAR_DATA, ns.NODE_AVATAR_METADATA))
    return present


def readRole(channel, node):
    """
    Return the least role that may read and subscribe to C{node} (PS-6,
    ACL-7).  Owners read every node of their channel, even one set to
    C{nobody}, since they administer it.
    """
    if node == ns.NODE_JIDMAP:
        visible = channel.info.get("JID Visibility") == cfg.JID_VISIBLE
        return PARTICIPANT if visible else ADMIN
    if node == ns.NODE_JIDMAP_VISIBLE:
        return PARTICIPANT
    field = _SUBSCRIPTION_FIELD.get(node)
    if field is None:
        return NOBODY
    least = _LEAST_ROLE[channel.config.get(field, cfg.PARTICIPANTS)]
    return min(least, OWNER)


def mayRead(channel, node, role):
    return role >= readRole(channel, node)


def mayReadArchive(channel, node, role):
    """
    Tell whether C{role} may query the archive of C{node} (MAM-5, AMB-48):
    as for reading the node, except the jidmap archive, which holds the
    real JIDs of every participant there ever was, whatever the channel's
    mode was then: administrators only (VIS-6, VIS-7).
    """
    if node == ns.NODE_JIDMAP:
        return role >= ADMIN
    return mayRead(channel, node, role)


#: Fixed write rights (PS-6): the lists are written by administrators
#: (ACL-5, §3.9.9, §3.9.10), the configuration by owners (ACL-4).
_FIXED_WRITE = {
    ns.NODE_ALLOWED: ADMIN,
    ns.NODE_BANNED: ADMIN,
    ns.NODE_CONFIG: OWNER,
}

_UPDATE_FIELD = {
    ns.NODE_INFO: "Information Node Update Rights",
    ns.NODE_AVATAR_DATA: "Avatar Nodes Update Rights",
    ns.NODE_AVATAR_METADATA: "Avatar Nodes Update Rights",
}


def writeRole(channel, node):
    """
    Return the least role that may publish to and retract from C{node}
    with PubSub (PS-6): info and avatar nodes per their update rights,
    allowed and banned administrators, config owners; nodes the service
    alone writes (PS-2, PS-3) are written by no role.
    """
    if node in _FIXED_WRITE:
        return _FIXED_WRITE[node]
    field = _UPDATE_FIELD.get(node)
    if field is None:
        return NOBODY
    return min(_LEAST_ROLE[channel.config.get(field, cfg.ADMINS)], OWNER)


def mayCreate(bareJID, domain, creators, operators):
    """
    Tell whether a JID may create channels (CRE-5, DISCO-3).

    @param creators: C{None} for anybody, else bare JIDs and domains.
    """
    if creators is None or bareJID in operators:
        return True
    return matchesList(bareJID, domain, creators)
