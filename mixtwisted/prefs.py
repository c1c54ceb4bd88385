"""
User preferences (PREF-1, VIS-2): the table, defaults and parsing.

Values are matched case-insensitively and kept in lowercase (PREF-9); the
vocabulary of XEP-0369 §3.8 is accepted as aliases of the form values
(AMB-7).
"""

from mixtwisted import config as cfg
from mixtwisted.errors import BadRequest, NotAcceptable

#: var -> (options, default, label), in form order.
PREFERENCES = (
    ("JID Visibility",
     ("default", "never", "always", "prefer not", "prefer visible"),
     "default", "Preference for JID visibility"),
    ("Private Messages", ("allow", "block"), "allow",
     "Private messages"),
    ("vCard", ("allow", "block"), "block", "vCard retrieval"),
    ("Presence", ("share", "not share"), "share", "Presence sharing"),
)

OPTION_LABELS = {
    "default": "Default behaviour",
    "never": "JID never shown",
    "always": "JID always shown",
    "prefer not": "Try not to show JID",
    "prefer visible": "Show JID when the channel allows",
    "allow": "Allow", "block": "Block",
    "share": "Share", "not share": "Do not share",
}

_ALIASES = {
    "enforce hidden": "never",
    "enforce visible": "always",
    "prefer hidden": "default",
}

_BY_KEY = {var.lower(): (var, options) for var, options, _, _ in PREFERENCES}


def defaultPrefs():
    return {var: default for var, _, default, _ in PREFERENCES}


def applyPrefs(prefs, submitted):
    """
    Merge submitted preference fields into a copy of C{prefs}.

    @param submitted: C{(var, [values])} pairs from a form; unknown vars are
        ignored.
    @raise BadRequest: for a value a preference does not take (PREF-9).
    """
    result = dict(prefs)
    for var, values in submitted:
        key = cfg.fieldKey(var)
        if key not in _BY_KEY:
            continue
        canonical, options = _BY_KEY[key]
        if len(values) != 1:
            raise BadRequest("%s takes one value" % (canonical,))
        value = " ".join(values[0].split()).lower()
        value = _ALIASES.get(value, value)
        if value not in options:
            raise BadRequest("%s does not take %r" % (canonical, values[0]))
        result[canonical] = value
    return result


def checkPrefs(channel, prefs):
    """
    Check the preferences against the channel and return the ones to
    store: a visibility preference that cannot coexist with the channel's
    mode is refused (JOIN-14, PREF-8); presence sharing is forced when the
    channel requires presence (JOIN-15, PREF-4).
    """
    mode = channel.info.get("JID Visibility", cfg.JID_HIDDEN)
    visibility = prefs.get("JID Visibility")
    if visibility == "never" and mode == cfg.JID_VISIBLE:
        raise NotAcceptable("This channel shows every JID")
    if visibility == "always" and mode == cfg.JID_HIDDEN:
        raise NotAcceptable("This channel hides every JID")
    if channel.config.get("Participants Must Provide Presence"):
        prefs = dict(prefs, Presence="share")
    return prefs
