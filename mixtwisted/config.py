"""
The channel configuration and information fields (ACL-6, NODE-9, NODE-12).

One table describes every field: its canonical var (space spelling of the
seed tables, AMB-2), its data-form type, the values it accepts (canonical
spelling, plus the aliases the seeds use, AMB-3..AMB-6) and its default.
Parsing takes C{{var: [values]}} as read from a data form and returns
canonical Python values; it never sees XML.
"""

from dataclasses import dataclass
from typing import Optional, Tuple

from twisted.words.protocols.jabber.jid import InvalidFormat, JID

from mixtwisted.errors import BadRequest, NotAcceptable
from mixtwisted.ids import parseDateTime

# Access-control values (AMB-3).
PARTICIPANTS = "participants"
ALLOWED = "allowed"
ANYONE = "anyone"
NOBODY = "nobody"
ADMINS = "admins"
OWNERS = "owners"

_ACCESS_ALIASES = {
    "any-one": ANYONE, "no-body": NOBODY, "admin": ADMINS,
    "owner": OWNERS, "administrators": ADMINS, "participant": PARTICIPANTS,
}

# Nodes Present option values (AMB-4).
NODES_PRESENT_VALUES = ("participants", "presence", "information", "allowed",
                        "banned", "jidmap-visible", "avatar")
_NODES_PRESENT_ALIASES = {"info": "information"}

# JID Visibility (AMB-6).
JID_HIDDEN = "jid-hidden"
JID_MAYBE_VISIBLE = "jid-maybe-visible"
JID_VISIBLE = "jid-visible"
_VISIBILITY_ALIASES = {
    "jid-mandatory-visible": JID_VISIBLE,
    "jid-optionally-visible": JID_MAYBE_VISIBLE,
}


@dataclass(frozen=True)
class Field:
    """
    One configuration or information field.

    @ivar kind: XEP-0004 field type.
    @ivar options: accepted canonical values for list fields.
    @ivar aliases: other spellings mapped to canonical values.
    @ivar label: human-readable label used when rendering the form.
    """

    var: str
    kind: str
    default: object
    options: Tuple[str, ...] = ()
    aliases: Optional[dict] = None
    label: str = ""


def _access(var, default, options, label):
    return Field(var, "list-single", default, options, _ACCESS_ALIASES, label)


_SUB3 = (PARTICIPANTS, ALLOWED, ANYONE)
_SUB6 = (PARTICIPANTS, ALLOWED, ANYONE, NOBODY, ADMINS, OWNERS)
_SUB5 = (PARTICIPANTS, ALLOWED, NOBODY, ADMINS, OWNERS)
_UPD = (PARTICIPANTS, ADMINS, OWNERS)

#: The configuration node fields, in the order the form lists them.
CONFIG_FIELDS = (
    Field("Last Change Made By", "jid-single", None,
          label="Last change made by"),
    Field("Owner", "jid-multi", (), label="Owners"),
    Field("Administrator", "jid-multi", (), label="Administrators"),
    Field("End of Life", "text-single", None, label="End of life"),
    Field("Nodes Present", "list-multi",
          ("participants", "presence", "information", "banned"),
          NODES_PRESENT_VALUES, _NODES_PRESENT_ALIASES, "Nodes present"),
    _access("Messages Node Subscription", PARTICIPANTS, _SUB3,
            "Who may subscribe to messages"),
    _access("Presence Node Subscription", PARTICIPANTS, _SUB3,
            "Who may subscribe to presence"),
    _access("Participants Node Subscription", PARTICIPANTS, _SUB6,
            "Who may subscribe to participants"),
    _access("Information Node Subscription", PARTICIPANTS, _SUB3,
            "Who may subscribe to information"),
    _access("Allowed Node Subscription", ADMINS, _SUB5,
            "Who may subscribe to the allowed list"),
    _access("Banned Node Subscription", ADMINS, _SUB5,
            "Who may subscribe to the banned list"),
    _access("Configuration Node Access", ADMINS, _SUB5,
            "Who may read the configuration"),
    _access("Information Node Update Rights", ADMINS, _UPD,
            "Who may change the information"),
    _access("Avatar Nodes Update Rights", ADMINS, _UPD,
            "Who may change the avatar"),
    Field("Open Presence", "boolean", False, label="Open presence"),
    Field("Participants Must Provide Presence", "boolean", False,
          label="Participants must provide presence"),
    Field("User Message Retraction", "boolean", False,
          label="Users may retract their messages"),
    _access("Administrator Message Retraction Rights", OWNERS,
            (NOBODY, ADMINS, OWNERS), "Who may retract any message"),
    Field("Participation Addition by Invitation from Participant", "boolean",
          False, label="Participants may invite"),
    Field("Private Messages", "boolean", True, label="Private messages"),
)

#: The information node fields (NODE-9).
INFO_FIELDS = (
    Field("Name", "text-single", None, label="Channel name"),
    Field("Description", "text-single", None, label="Channel description"),
    Field("Contact", "jid-multi", (), label="Channel contact"),
    Field("JID Visibility", "list-single", JID_HIDDEN,
          (JID_HIDDEN, JID_MAYBE_VISIBLE, JID_VISIBLE), _VISIBILITY_ALIASES,
          "JID visibility"),
)

CONFIG_BY_KEY = {f.var.lower(): f for f in CONFIG_FIELDS}
INFO_BY_KEY = {f.var.lower(): f for f in INFO_FIELDS}

#: Var spellings from the seed examples that are not the canonical field
#: names (AMB-5); the boolean ones are inverted.
_INVERTED = {"no private messages": "Private Messages"}
_RENAMED = {"allow user message retraction": "User Message Retraction"}


def fieldKey(var):
    """
    Normalise a var as received: underscores to spaces, case folded (AMB-2).
    """
    return " ".join(var.replace("_", " ").split()).lower()


def defaultConfig(creator):
    """
    Return the configuration of a new channel whose creator is C{creator}
    (a bare JID string): the creator owns it unless the form names owners
    (CRE-4).
    """
    config = {f.var: f.default for f in CONFIG_FIELDS}
    config["Owner"] = (creator,)
    return config


def defaultInfo():
    return {f.var: f.default for f in INFO_FIELDS}


def parseBoolean(values):
    """
    Parse an XEP-0004 boolean (C{true}/C{1}/C{false}/C{0}); anything else is
    a C{bad-request} (AMB-6).
    """
    if len(values) != 1:
        raise BadRequest("A boolean field takes one value")
    value = values[0].strip().lower()
    if value in ("1", "true"):
        return True
    if value in ("0", "false"):
        return False
    raise BadRequest("Not a boolean: %r" % (values[0],))


def tooLong(jid):
    """
    Tell whether a JID breaks the RFC 7622 length limits (1023 octets per
    part), which stringprep does not check.
    """
    return any(part is not None and len(part.encode("utf-8")) > 1023
               for part in (jid.user, jid.host, jid.resource))


def _bareJID(text, requireUser=False):
    try:
        jid = JID(text.strip())
    except (InvalidFormat, UnicodeError, ValueError):
        raise NotAcceptable("Not a JID: %r" % (text,))
    if tooLong(jid):
        raise NotAcceptable("JID too long")
    if requireUser and jid.user is None:
        # Owners and administrators are users, not servers (ACL-2).
        raise NotAcceptable("Not a user's JID: %r" % (text,))
    return jid.userhost()


def parseValue(spec, values):
    """
    Turn the values of one submitted field into its canonical value.

    @raise NotAcceptable: for a value the field does not take.
    @raise BadRequest: for a malformed value (a boolean that is not one).
    """
    if spec.kind == "boolean":
        return parseBoolean(values)
    if spec.kind == "jid-multi":
        jids = []
        for value in values:
            if value.strip():
                bare = _bareJID(value, spec.var in ("Owner", "Administrator"))
                if bare not in jids:
                    jids.append(bare)
        return tuple(jids)
    if spec.kind == "jid-single":
        return _bareJID(values[0]) if values and values[0].strip() else None
    if spec.kind in ("list-single", "list-multi"):
        canonical = []
        for value in values:
            key = value.strip().lower()
            key = (spec.aliases or {}).get(key, key)
            if key not in spec.options:
                raise NotAcceptable("%s does not take %r" % (spec.var, value))
            if key not in canonical:
                canonical.append(key)
        if spec.kind == "list-single":
            if len(canonical) != 1:
                raise NotAcceptable("%s takes one value" % (spec.var,))
            return canonical[0]
        return tuple(canonical)
    # text-single
    text = values[0] if values else ""
    if spec.var == "End of Life" and text.strip():
        try:
            parseDateTime(text)
        except ValueError:
            raise BadRequest("End of Life is not a date-time")
        return text.strip()
    return text or None


def checkEndOfLife(config, now):
    """
    Refuse an C{End of Life} that has already passed (D-29): a channel
    would be created, or configured, only to be destroyed at once.

    @raise NotAcceptable: when it is not after C{now}.
    """
    value = config.get("End of Life")
    if value and parseDateTime(value) <= now:
        raise NotAcceptable("End of Life has passed")


def applyForm(config, info, submitted):
    """
    Merge submitted fields into copies of C{config} and C{info}.

    Only the fields given change (ADM-2, ADM-4); unknown fields are ignored
    (CRE-3); repeated fields are merged (AMB-8).  The whole form is checked
    before anything is returned, so a bad value changes nothing.

    @param submitted: list of C{(var, [values])} pairs as read from a form.
    @return: the new C{(config, info)}.
    """
    merged = {}
    for var, values in submitted:
        key = fieldKey(var)
        invert = False
        if key in _INVERTED:
            key = _INVERTED[key].lower()
            invert = True
        key = _RENAMED.get(key, key).lower()
        spec = CONFIG_BY_KEY.get(key) or INFO_BY_KEY.get(key)
        if spec is None or spec.var == "Last Change Made By":
            continue
        value = parseValue(spec, values)
        if invert:
            value = not value
        if spec.kind.endswith("-multi") and spec.var in merged:
            value = merged[spec.var] + tuple(
                v for v in value if v not in merged[spec.var])
        merged[spec.var] = value

    newConfig = dict(config)
    newInfo = dict(info)
    for var, value in merged.items():
        if var.lower() in INFO_BY_KEY:
            newInfo[var] = value
        else:
            newConfig[var] = value
    if not newConfig.get("Owner"):
        raise NotAcceptable("A channel needs at least one owner")
    nodes = newConfig.get("Nodes Present", ())
    if "participants" not in nodes:
        for spec in CONFIG_FIELDS:
            if spec.options and newConfig.get(spec.var) == PARTICIPANTS:
                raise NotAcceptable(
                    "%s cannot be 'participants' without a participants node"
                    % (spec.var,))
    return newConfig, newInfo
