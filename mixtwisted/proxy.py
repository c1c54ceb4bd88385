"""
Proxy JIDs: C{<id>#<channel>@<mix domain>} (PJID-1..8).

The identifier is drawn from the operating system's CSPRNG: nothing about it
depends on the real JID, so no one can compute it from the real JID, with or
without a secret (PJID-4).  The store keeps every identifier ever issued in a
channel, so none is reused (PJID-3).
"""

import secrets

#: Characters of generated identifiers: lowercase letters and digits only,
#: valid in any JID localpart and never '#', '/' or '@' (PJID-1).
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def generateProxyId(length=12):
    """
    Return a fresh random identifier (about 62 bits for the default length).
    """
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def generateResource(length=10):
    """
    Return a random resource for a full proxy JID (PJID-6, PJID-7).
    """
    return generateProxyId(length)


def proxyJID(proxyId, channel, domain):
    """
    Build the bare proxy JID string of a participant.
    """
    return "%s#%s@%s" % (proxyId, channel, domain)


def splitProxyLocalpart(localpart):
    """
    Split a localpart at its first C{#} into C{(identifier, channel)}.

    Whether that really is a proxy JID is decided by the caller from
    context (PJID-5, AMB-30).

    @return: the pair, or C{None} if there is no C{#}.
    """
    if "#" not in localpart:
        return None
    proxyId, channel = localpart.split("#", 1)
    if not proxyId or not channel:
        return None
    return proxyId, channel
