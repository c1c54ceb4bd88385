"""
User preferences (PREF-1, VIS-2): the table, defaults and parsing.

Values are matched case-insensitively and kept in lowercase (PREF-9); the
vocabulary of XEP-0369 §3.8 is accepted as aliases of the form values
(AMB-7).

L{Preferences} is the preference logic over the channels: the template
query, updates, and storing a participant's preferences.
"""

from twisted.internet import defer

from mixtwisted import access
from mixtwisted import config as cfg
from mixtwisted import namespaces as ns
from mixtwisted import nodes as views
from mixtwisted.errors import BadRequest, Forbidden, NotAcceptable
from mixtwisted.serial import exclusive

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

#: The FORM_TYPEs a submitted preferences form may state, in a join or a
#: user-preference request of either revision: 0.9.5's, MIX-ANON's (which
#: took preferences over), and MIX-CORE's (REV-11).
FORM_TYPES = (ns.NS_MIX, ns.NS_MIX_ANON, ns.NS_MIX_CORE)

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
    mode = views.visibility(channel)
    visibility = prefs.get("JID Visibility")
    if visibility == "never" and mode == cfg.JID_VISIBLE:
        raise NotAcceptable("This channel shows every JID")
    if visibility == "always" and mode == cfg.JID_HIDDEN:
        raise NotAcceptable("This channel hides every JID")
    if channel.config.get("Participants Must Provide Presence"):
        prefs = dict(prefs, Presence="share")
    return prefs


class Preferences:
    """
    User preferences over a L{mixtwisted.channels.ChannelService}
    (PREF-1..9): the template query, updates, and storage (used by
    L{mixtwisted.channels.ChannelService.join} too, JOIN-9, JOIN-11).
    """

    def __init__(self, channels):
        self.channels = channels

    @staticmethod
    def currentPrefs(participant):
        """
        Every preference of a participant (defaults filled in), or the
        defaults for C{None}.
        """
        prefs = defaultPrefs()
        if participant is not None:
            prefs.update(participant.prefs)
        return prefs

    @defer.inlineCallbacks
    def savePrefs(self, channel, participant, prefs):
        """
        Store a participant's preferences; when the JID sharing changes, the
        jidmap-visible item follows with a notification (JOIN-9, VIS-8),
        and so does the participants item, to the readers of real JIDs,
        when the channel now shows the JID or no longer does (VIS-3,
        REV-8).
        """
        shared = views.sharesJID(participant)
        shown = views.jidVisible(channel, participant)
        changed = participant.prefs != prefs
        participant.prefs = prefs
        yield self.channels.store.saveParticipant(participant)
        if views.sharesJID(participant) != shared:
            yield self.channels.notify(channel, ns.NODE_JIDMAP_VISIBLE, [
                views.jidmapVisibleItem(participant, self.channels.domain)])
        if views.jidVisible(channel, participant) != shown:
            yield self.channels.notifyJIDShown(channel, [participant])
        if changed:
            yield self.channels.participantChanged(channel, participant)

    @defer.inlineCallbacks
    def getPrefs(self, requester, name):
        """
        Return the requester's preferences for the template query (PREF-2):
        a participant's current values, the defaults for others who may
        join.

        @raise Forbidden: for those who may not join the channel.
        """
        channel = yield self.channels.getChannel(name)
        bare = requester.userhost()
        participant = yield self.channels.store.getParticipant(name, bare)
        if participant is None:
            role = yield self.channels.roleOf(channel, requester)
            if role < access.ALLOWED or (
                    channel.adhoc and role < access.PARTICIPANT and
                    not access.listedAllowed(channel, bare, requester.host)):
                raise Forbidden("You may not join this channel")
        return self.currentPrefs(participant)

    @exclusive("name")
    @defer.inlineCallbacks
    def setPrefs(self, requester, name, submitted):
        """
        Update some or all of a participant's preferences (PREF-3): an
        invalid value changes nothing (PREF-9), a visibility the channel's
        mode excludes is C{not-acceptable} (PREF-8), presence sharing is
        forced when the channel requires presence (PREF-4).

        @param submitted: C{(var, [values])} of the submitted form.
        @return: all preferences.
        """
        channel, participant = yield self.channels.requireParticipant(
            name, requester)
        prefs = applyPrefs(self.currentPrefs(participant), submitted)
        prefs = checkPrefs(channel, prefs)
        yield self.savePrefs(channel, participant, prefs)
        return dict(prefs)
