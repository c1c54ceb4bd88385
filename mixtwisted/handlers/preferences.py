"""
User preferences at a channel: the template and updates (PREF-1..9).
"""

from twisted.words.xish import domish
from wokkel import data_form

from mixtwisted import namespaces as ns
from mixtwisted.errors import BadRequest
from mixtwisted.handlers.base import MIXIQHandler, payload
from mixtwisted.handlers.participation import prefsFields
from mixtwisted.handlers.render import findForm, readForm, renderForm
from mixtwisted.prefs import OPTION_LABELS, PREFERENCES

PREFS_GET = '/iq[@type="get"]/user-preference[@xmlns="%s"]' % ns.NS_MIX
PREFS_SET = '/iq[@type="set"]/user-preference[@xmlns="%s"]' % ns.NS_MIX


def templateForm(values):
    """
    The template form (PREF-2): every preference as a labelled
    C{list-single} with all its options, labelled too (AMB-7: the five
    visibility values), and the requester's current value.
    """
    form = data_form.Form("form", formNamespace=ns.NS_MIX)
    for var, options, default, label in PREFERENCES:
        form.addField(data_form.Field(
            "list-single", var=var, label=label,
            values=[values.get(var, default)],
            options=[data_form.Option(o, OPTION_LABELS.get(o))
                     for o in options]))
    return form.toElement()


class PreferencesHandler(MIXIQHandler):
    """
    Serve C{<user-preference/>} get and set at channel JIDs.
    """

    iqHandlers = {PREFS_GET: "_onGet", PREFS_SET: "_onSet"}

    def _onGet(self, iq):
        payload(iq, ns.NS_MIX, "user-preference")
        sender, recipient = self.addresses(iq)
        d = self.channels.preferences.getPrefs(sender,
                                               self.channelName(recipient))
        d.addCallback(lambda prefs: self._response(templateForm(prefs)))
        return d

    def _onSet(self, iq):
        element = payload(iq, ns.NS_MIX, "user-preference")
        sender, recipient = self.addresses(iq)
        name = self.channelName(recipient)
        # The form belongs inside <user-preference/>; listing 32 puts it
        # after it, which is accepted too (AMB-28, PREF-3).
        form = findForm(element)
        if form is None:
            form = findForm(iq)
        if form is None:
            raise BadRequest("Missing preferences form")
        submitted = readForm(form)
        d = self.channels.preferences.setPrefs(sender, name, submitted)
        d.addCallback(lambda prefs: self._response(
            renderForm(prefsFields(prefs))))
        return d

    @staticmethod
    def _response(form):
        response = domish.Element((ns.NS_MIX, "user-preference"))
        response.addChild(form)
        return response
