"""
User preferences at a channel: the template and updates (PREF-1..9).

Served in C{urn:xmpp:mix:1} and in MIX-ANON's C{urn:xmpp:mix:anon:0}, and
answered in the request's namespace, which is also the FORM_TYPE of the
form answered (REV-11).
"""

from wokkel import data_form

from mixtwisted import namespaces as ns
from mixtwisted.errors import BadRequest
from mixtwisted.handlers.base import (
    MIXIQHandler, answerTo, payload, requestQuery)
from mixtwisted.handlers.participation import prefsFields
from mixtwisted.handlers.render import findForm, readForm, renderForm
from mixtwisted.prefs import FORM_TYPES, OPTION_LABELS, PREFERENCES

#: The namespaces of C{<user-preference/>} (REV-11).
NAMESPACES = (ns.NS_MIX, ns.NS_MIX_ANON)

PREFS_GET = requestQuery("user-preference", NAMESPACES, ("get",))
PREFS_SET = requestQuery("user-preference", NAMESPACES)


def templateForm(values, formType=ns.NS_MIX):
    """
    The template form (PREF-2): every preference as a labelled
    C{list-single} with all its options, labelled too (AMB-7: the five
    visibility values), and the requester's current value.
    """
    form = data_form.Form("form", formNamespace=formType)
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
        element = payload(iq, NAMESPACES, "user-preference")
        sender, recipient = self.addresses(iq)
        d = self.channels.preferences.getPrefs(sender,
                                               self.channelName(recipient))
        d.addCallback(lambda prefs: self._response(
            element, templateForm(prefs, element.uri)))
        return d

    def _onSet(self, iq):
        element = payload(iq, NAMESPACES, "user-preference")
        sender, recipient = self.addresses(iq)
        name = self.channelName(recipient)
        # The form belongs inside <user-preference/>; listing 32 puts it
        # after it, which is accepted too (AMB-28, PREF-3).
        form = findForm(element)
        if form is None:
            form = findForm(iq)
        if form is None:
            raise BadRequest("Missing preferences form")
        submitted = readForm(form, FORM_TYPES)
        d = self.channels.preferences.setPrefs(sender, name, submitted)
        d.addCallback(lambda prefs: self._response(
            element, renderForm(prefsFields(prefs),
                                formNamespace=element.uri)))
        return d

    @staticmethod
    def _response(request, form):
        response = answerTo(request)
        response.addChild(form)
        return response
