"""
Invitation tokens (INV-1..7): signed, bound to channel, inviter and
invitee, with an expiry.

A token is stateless (INV-3, AMB-32): the base64url encoding (no padding)
of the expiry (8 bytes, big-endian seconds since the epoch) followed by an
HMAC-SHA256 over the channel JID, the inviter's and the invitee's bare JIDs
and the expiry.  The MAC key is derived from the service secret, so tokens
survive restarts and need no storage; nothing in a token can be changed
without breaking the MAC.
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


def _message(channel, inviter, invitee, expiry):
    parts = [p.encode("utf-8") for p in (channel, inviter, invitee)]
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

    def _mac(self, channel, inviter, invitee, expiry):
        return hmac.new(self._key, _message(channel, inviter, invitee,
                                            expiry), hashlib.sha256).digest()

    def issue(self, channel, inviter, invitee):
        """
        Return a token for these bare JIDs, valid for C{lifetime} seconds.
        """
        expiry = int(self.clock.seconds()) + self.lifetime
        mac = self._mac(channel, inviter, invitee, expiry)
        return _b64encode(struct.pack(">Q", expiry) + mac)

    def verify(self, channel, inviter, invitee, token):
        """
        Tell whether C{token} was issued for these bare JIDs and has not
        expired.
        """
        raw = _b64decode(token or "")
        if raw is None or len(raw) != 8 + _MAC_SIZE:
            return False
        expiry, = struct.unpack(">Q", raw[:8])
        expected = self._mac(channel, inviter, invitee, expiry)
        if not hmac.compare_digest(expected, raw[8:]):
            return False
        return self.clock.seconds() < expiry
