"""
Nicknames: the PRECIS nickname profile and generated nicks (NICK-2, NICK-4).

XEP-0369 cites the RFC 7700 "nickname" profile; RFC 8266 obsoletes RFC 7700
with the same profile and fixed rules (AMB-51).  precis-i18n implements it:
C{enforce} gives the form we store and show, C{compare} keys give the
case-insensitive form used to find clashes.
"""

import uuid

from precis_i18n import get_profile

from mixtwisted.errors import NotAcceptable

_NICKNAME = get_profile("NicknameCaseMapped")
_NICKNAME_PRESERVED = get_profile("NicknameCasePreserved")


def enforceNick(nick, maxLength):
    """
    Apply the nickname profile to a requested nick.

    @return: the nick to store.
    @raise NotAcceptable: when the nick is invalid, empty after enforcement
        or longer than C{maxLength} characters.
    """
    try:
        enforced = _NICKNAME_PRESERVED.enforce(nick)
    except (UnicodeError, ValueError) as e:
        raise NotAcceptable("Nick not allowed: %s" % (e,))
    if not enforced:
        raise NotAcceptable("Nick is empty")
    if len(enforced) > maxLength:
        raise NotAcceptable("Nick longer than %d characters" % (maxLength,))
    return enforced


def nickKey(nick):
    """
    Return the comparison key of a nick: two nicks clash when their keys are
    equal (RFC 8266 §2.4 comparison, case-insensitive).

    When the key is spelt as the nick (a generated nick, a lower-case
    one), the nick itself is returned: a participant keeps one string
    for both, not two.
    """
    key = _NICKNAME.enforce(nick)
    return nick if key == nick else key


def generateNick():
    """
    Make a nick that reveals nothing about the user (NICK-4, PJID-4).

    A random (version 4) UUID, as RFC 4122 and XEP-0369 §6.1.5 recommend.
    """
    return str(uuid.uuid4())
