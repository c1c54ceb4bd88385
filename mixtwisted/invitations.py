"""
Invitation tokens (INV-1..7): signed, bound to channel, inviter and
invitee, with an expiry.

A token (INV-3, AMB-32) is the base64url encoding (no padding) of the
expiry (8 bytes, big-endian seconds since the epoch) followed by an
HMAC-SHA256 over the channel JID, the inviter's and the invitee's bare JIDs,
the channel's creation time and the expiry.  The MAC key is derived from
the service secret, so tokens survive restarts; nothing in a token can be
changed without breaking the MAC.

The creation time binds a token to one incarnation of the channel: a
channel destroyed and created again under the same name refuses the old
tokens.  A token is single-use: the join that consumes it records its
L{tokenDigest} in the channel record (C{ChannelRecord.usedInvitations},
see L{mixtwisted.channels.ChannelService.join}).
"""

import base64
import re
import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass

#: How long an invitation is valid, in seconds (AMB-32: 7 days).
DEFAULT_LIFETIME = 7 * 24 * 3600

_KEY_LABEL = b"mixtwisted invitation key"
_MAC_SIZE = hashlib.sha256().digest_size


@dataclass(frozen=True)
class Invitation:
    """
    An invitation as issued or as received in a join (JIDs as strings).
    """
    inviter: str
    invitee: str
    channel: str
    token: str


def deriveKey(secret):
    """
    Derive the invitation MAC key from the service secret.  Without a
    secret, a random key: tokens then stop working at a restart rather than
    being forgeable by anybody who knows this code.
    """
    if not secret:
        return secrets.token_bytes(32)
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    return hmac.new(secret, _KEY_LABEL, hashlib.sha256).digest()


def formatCreated(created):
    """
    Format a channel creation time (a float) deterministically for the MAC:
    C{repr} of the float gives the shortest string that reads back as the
    same value, on every platform.
    """
    return repr(float(created))


def _message(channel, inviter, invitee, created, expiry):
    parts = [p.encode("utf-8") for p in (channel, inviter, invitee,
                                         formatCreated(created))]
    parts.append(struct.pack(">Q", expiry))
    return b"".join(struct.pack(">I", len(p)) + p for p in parts)


def _b64encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64URL = re.compile(r"\A[A-Za-z0-9_-]+\Z")


def _b64decode(text):
    if not _B64URL.match(text):
        return None
    try:
        raw = text.encode("ascii")
        return base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
    except (UnicodeError, ValueError):
        return None


class InvitationSigner:
    """
    Issue and check invitation tokens.

    @param secret: the service secret (L{mixtwisted.settings.Settings}).
    @param clock: gives the time (C{seconds()}).
    @param lifetime: validity of a token, in seconds.
    """

    def __init__(self, secret, clock, lifetime=DEFAULT_LIFETIME):
        self._key = deriveKey(secret)
        self.clock = clock
        self.lifetime = lifetime

    def _mac(self, channel, inviter, invitee, created, expiry):
        return hmac.new(self._key, _message(channel, inviter, invitee,
                                            created, expiry),
                        hashlib.sha256).digest()

    def issue(self, channel, inviter, invitee, created):
        """
        Return a token for these bare JIDs, valid for C{lifetime} seconds.

        @param created: the channel's creation time
            (C{ChannelRecord.created}): the token is only good for this
            incarnation of the channel.
        """
        expiry = int(self.clock.seconds()) + self.lifetime
        mac = self._mac(channel, inviter, invitee, created, expiry)
        return _b64encode(struct.pack(">Q", expiry) + mac)

    def check(self, channel, inviter, invitee, token, created):
        """
        Check C{token} for these bare JIDs and this channel incarnation.

        @return: C{(digest, expiry)} when the token is authentic and has
            not expired: see L{tokenDigest}; else C{None}.
        """
        raw = _b64decode(token or "")
        if raw is None or len(raw) != 8 + _MAC_SIZE:
            return None
        expiry, = struct.unpack(">Q", raw[:8])
        expected = self._mac(channel, inviter, invitee, created, expiry)
        if not hmac.compare_digest(expected, raw[8:]):
            return None
        if self.clock.seconds() >= expiry:
            return None
        return tokenDigest(raw), float(expiry)

    def verify(self, channel, inviter, invitee, token, created):
        """
        Tell whether C{token} was issued for these bare JIDs and this
        channel incarnation and has not expired (whether or not it was
        used already: that is the channel's business).
        """
        return self.check(channel, inviter, invitee, token,
                          created) is not None


def tokenDigest(raw):
    """
    Identify a decoded token for the used-token record: the hex SHA-256 of
    its bytes.  Computed over the decoded bytes, not the text: base64 lets
    the last character of a token carry bits that decoding ignores, so
    several spellings decode to the same token.
    """
    return hashlib.sha256(raw).hexdigest()
