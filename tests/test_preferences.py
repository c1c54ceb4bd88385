"""
User preferences at a channel (requirements.md §1.11 PREF-1..9, §1.9
VIS-2/3/8; XEP-0369 §6.1.3), driven by literal XML.
"""

from twisted.trial import unittest

from tests.helpers import (
    CAT, CAT_FULL, COVEN, DOMAIN, HAG66, HAG66_FULL, HECATE, HECATE_FULL,
    MIXTestMixin, MemoryStoreMixin, NODE_JIDMAP_VISIBLE, NODE_MESSAGES,
    NS_DATA, NS_MIX, NS_PUBSUB_EVENT, child, formValues, notifications,
    submitForm)
from tests.pgsql import PgsqlStoreMixin

PREF_VARS = ["JID Visibility", "Private Messages", "vCard", "Presence"]
DEFAULTS = {"JID Visibility": ["default"], "Private Messages": ["allow"],
            "vCard": ["block"], "Presence": ["share"]}


class PreferenceTestsMixin(MIXTestMixin):
    """
    Channel C{coven} created by hag66, who has joined.
    """

    async def setUp(self):
        await MIXTestMixin.setUp(self)
        self.assertResult(await self.h.create())
        self.assertResult(await self.h.join(HAG66))
        self.h.take()

    async def template(self, sender=HAG66_FULL, to=COVEN):
        return await self.h.iq(
            "<iq type='get' id='p1' from='%s' to='%s'>"
            "<user-preference xmlns='urn:xmpp:mix:1'/></iq>" % (sender, to))

    async def setPrefs(self, form, sender=HAG66_FULL, to=COVEN):
        return await self.h.iq(
            "<iq type='set' id='p2' from='%s' to='%s'>"
            "<user-preference xmlns='urn:xmpp:mix:1'>%s</user-preference>"
            "</iq>" % (sender, to, form))

    def resultForm(self, response, formType="result"):
        self.assertResult(response)
        prefs = child(response, NS_MIX, "user-preference")
        self.assertIsNot(None, prefs, response.toXml())
        x = child(prefs, NS_DATA, "x")
        self.assertEqual(formType, x["type"])
        return x

    async def stored(self, bare=HAG66, name="coven"):
        return (await self.h.store.getParticipant(name, bare)).prefs

    async def test_template(self):
        """
        PREF-2, PREF-1, AMB-7: the template is a C{form} with FORM_TYPE
        urn:xmpp:mix:1 and the four preferences as labelled list-single
        fields offering every value (the five visibility values, labelled)
        with the current value.
        """
        x = self.resultForm(await self.template(), "form")
        fields = {f["var"]: f for f in x.elements(NS_DATA, "field")}
        self.assertEqual(["urn:xmpp:mix:1"], formValues(x)["FORM_TYPE"])
        self.assertEqual("hidden", fields["FORM_TYPE"]["type"])
        for var in PREF_VARS:
            self.assertEqual("list-single", fields[var]["type"])
            self.assertTrue(fields[var].getAttribute("label"))
        options = {
            str(child(o, NS_DATA, "value")): o.getAttribute("label")
            for o in fields["JID Visibility"].elements(NS_DATA, "option")}
        self.assertEqual({"default", "never", "always", "prefer not",
                          "prefer visible"}, set(options))
        self.assertEqual("JID never shown", options["never"])
        presence = [str(child(o, NS_DATA, "value")) for o in
                    fields["Presence"].elements(NS_DATA, "option")]
        self.assertEqual(["share", "not share"], presence)
        values = formValues(x)
        for var in PREF_VARS:
            self.assertEqual(DEFAULTS[var], values[var])

    async def test_templateCurrentValues(self):
        """
        PREF-2: a participant's template carries its current values.
        """
        self.assertResult(await self.setPrefs(submitForm(
            ("vCard", "allow"), ("Presence", "not share"))))
        values = formValues(self.resultForm(await self.template(), "form"))
        self.assertEqual(["allow"], values["vCard"])
        self.assertEqual(["not share"], values["Presence"])
        self.assertEqual(["default"], values["JID Visibility"])

    async def test_templateForAllowedNonParticipant(self):
        """
        PREF-2: anyone Allowed gets the template with the defaults.
        """
        values = formValues(self.resultForm(await self.template(CAT_FULL),
                                            "form"))
        for var in PREF_VARS:
            self.assertEqual(DEFAULTS[var], values[var])

    async def test_templateForbiddenForOthers(self):
        """
        PREF-2: a JID that is not Allowed (banned here) is C{forbidden}.
        """
        self.assertResult(await self.h.create("witches", form=submitForm(
            ("Nodes Present", ["participants", "banned"]))))
        channel = await self.h.store.getChannel("witches")
        channel.banned = (CAT,)
        await self.h.store.updateChannel(channel)
        response = await self.template(CAT_FULL, "witches@" + DOMAIN)
        self.assertError(response, "auth", "forbidden")

    async def test_templateUnknownChannel(self):
        """
        ERR-*: preferences of a channel that does not exist:
        C{item-not-found}.
        """
        response = await self.template(to="nowhere@" + DOMAIN)
        self.assertError(response, "cancel", "item-not-found")

    async def test_update(self):
        """
        PREF-3, Listing 32: a set with a submit form updates the given
        fields and returns all four preferences in a C{result} form.
        """
        response = await self.setPrefs(submitForm(
            ("JID Visibility", "never"), ("Private Messages", "allow"),
            ("vCard", "block")))
        x = self.resultForm(response)
        values = formValues(x)
        self.assertEqual(["urn:xmpp:mix:1"], values["FORM_TYPE"])
        self.assertEqual({"FORM_TYPE"} | set(PREF_VARS), set(values))
        self.assertEqual(["never"], values["JID Visibility"])
        self.assertEqual(["share"], values["Presence"])
        self.assertEqual("never", (await self.stored())["JID Visibility"])

    async def test_partialUpdateKeepsOthers(self):
        """
        PREF-3: a set MAY give only some fields; the others keep their
        values.
        """
        self.assertResult(await self.setPrefs(submitForm(("vCard", "allow"))))
        values = formValues(self.resultForm(
            await self.setPrefs(submitForm(("Presence", "not share")))))
        self.assertEqual(["allow"], values["vCard"])
        self.assertEqual(["not share"], values["Presence"])
        self.assertEqual({"JID Visibility": "default",
                          "Private Messages": "allow", "vCard": "allow",
                          "Presence": "not share"}, await self.stored())

    async def test_formAsSibling(self):
        """
        PREF-3, AMB-28: listing 32 closes C{<user-preference/>} before the
        form; a form beside it is accepted.
        """
        response = await self.h.iq(
            "<iq type='set' id='p3' from='%s' to='%s'>"
            "<user-preference xmlns='urn:xmpp:mix:1'/>%s</iq>"
            % (HAG66_FULL, COVEN, submitForm(("vCard", "allow"))))
        self.assertEqual(["allow"], formValues(self.resultForm(response))[
            "vCard"])
        self.assertEqual("allow", (await self.stored())["vCard"])

    async def test_caseInsensitiveAndAliases(self):
        """
        PREF-9, VIS-2, AMB-7: values match case-insensitively and are
        reported in lowercase; the §3.8 names are aliases.
        """
        values = formValues(self.resultForm(await self.setPrefs(submitForm(
            ("JID Visibility", "Never"), ("vCard", "ALLOW")))))
        self.assertEqual(["never"], values["JID Visibility"])
        self.assertEqual(["allow"], values["vCard"])
        values = formValues(self.resultForm(await self.setPrefs(submitForm(
            ("JID Visibility", "Prefer Visible")))))
        self.assertEqual(["prefer visible"], values["JID Visibility"])
        values = formValues(self.resultForm(await self.setPrefs(submitForm(
            ("JID Visibility", "Enforce Hidden")))))
        self.assertEqual(["never"], values["JID Visibility"])

    async def test_invalidValueChangesNothing(self):
        """
        PREF-9: an invalid value is C{bad-request} (modify) and nothing
        changes, not even the valid fields of the same form.
        """
        response = await self.setPrefs(submitForm(
            ("vCard", "allow"), ("Presence", "sometimes")))
        self.assertError(response, "modify", "bad-request")
        self.assertEqual("block", (await self.stored())["vCard"])
        self.assertEqual("share", (await self.stored())["Presence"])

    async def test_unknownFieldIgnored(self):
        """
        PREF-9: unknown fields are ignored.
        """
        values = formValues(self.resultForm(await self.setPrefs(submitForm(
            ("Colour", "green"), ("vCard", "allow")))))
        self.assertNotIn("Colour", values)
        self.assertEqual(["allow"], values["vCard"])

    async def test_wrongFormType(self):
        """
        PREF-9: a FORM_TYPE other than urn:xmpp:mix:1 is C{bad-request}.
        """
        response = await self.setPrefs(submitForm(
            ("vCard", "allow"), formType="urn:xmpp:mix:admin:0"))
        self.assertError(response, "modify", "bad-request")
        self.assertEqual("block", (await self.stored())["vCard"])

    async def test_missingForm(self):
        """
        PREF-3: a set without form is C{bad-request}.
        """
        self.assertError(await self.setPrefs(""), "modify", "bad-request")

    async def test_setByNonParticipant(self):
        """
        PREF-3: only participants may set preferences (C{forbidden}).
        """
        response = await self.setPrefs(submitForm(("vCard", "allow")),
                                       CAT_FULL)
        self.assertError(response, "auth", "forbidden")
        self.assertIs(None, await self.h.store.getParticipant("coven", CAT))

    async def test_conflictWithHiddenMode(self):
        """
        PREF-8: C{always} in a jid-hidden channel (the default) is
        C{not-acceptable}; the preference stays.
        """
        response = await self.setPrefs(
            submitForm(("JID Visibility", "always")))
        self.assertError(response, "modify", "not-acceptable")
        self.assertEqual("default", (await self.stored())["JID Visibility"])

    async def test_conflictWithVisibleMode(self):
        """
        PREF-8: C{never} in a jid-visible channel is C{not-acceptable}.
        """
        self.assertResult(await self.h.create("witches", form=submitForm(
            ("JID Visibility", "jid-visible"))))
        self.assertResult(await self.h.join(CAT, "witches@" + DOMAIN))
        response = await self.setPrefs(submitForm(("JID Visibility", "never")),
                                       CAT_FULL, "witches@" + DOMAIN)
        self.assertError(response, "modify", "not-acceptable")
        self.assertEqual("default",
                         (await self.stored(CAT, "witches"))["JID Visibility"])

    async def test_presenceForced(self):
        """
        PREF-4: with Participants Must Provide Presence, Presence 'not
        share' is stored and reported as 'share'.
        """
        self.assertResult(await self.h.create("witches", form=submitForm(
            ("Participants Must Provide Presence", "true"))))
        self.assertResult(await self.h.join(CAT, "witches@" + DOMAIN))
        values = formValues(self.resultForm(await self.setPrefs(
            submitForm(("Presence", "not share"), ("vCard", "allow")),
            CAT_FULL, "witches@" + DOMAIN)))
        self.assertEqual(["share"], values["Presence"])
        self.assertEqual(["allow"], values["vCard"])
        self.assertEqual(
            "share", (await self.stored(CAT, "witches"))["Presence"])

    def visibleItems(self):
        return [(to, item["id"], str(child(child(
                    item, NS_MIX, "participant"), NS_MIX, "jid")))
                for to, items in notifications(self.h.take(),
                                               NODE_JIDMAP_VISIBLE)
                for item in items.elements(NS_PUBSUB_EVENT, "item")]

    async def test_sharingChangeNotified(self):
        """
        VIS-8, VIS-3, JOIN-9: in a jid-maybe-visible channel, a change of
        preference that shows or hides the JID updates the jidmap-visible
        item, notifying its subscribers; a change that does not affect
        sharing notifies nothing.
        """
        self.assertResult(await self.h.create("witches", form=submitForm(
            ("JID Visibility", "jid-maybe-visible"))))
        witches = "witches@" + DOMAIN
        self.assertResult(await self.h.join(
            HECATE, witches, (NODE_MESSAGES, NODE_JIDMAP_VISIBLE)))
        proxy = (await self.h.join(CAT, witches)).join["jid"]
        self.h.take()

        self.assertResult(await self.setPrefs(
            submitForm(("JID Visibility", "prefer visible")),
            CAT_FULL, witches))
        self.assertEqual([(HECATE, proxy, CAT)], self.visibleItems())

        self.assertResult(await self.setPrefs(
            submitForm(("JID Visibility", "always")), CAT_FULL, witches))
        self.assertEqual([], self.visibleItems())

        self.assertResult(await self.setPrefs(
            submitForm(("JID Visibility", "prefer not")), CAT_FULL, witches))
        self.assertEqual([(HECATE, proxy, proxy)], self.visibleItems())

        # What a participant reads now matches (VIS-3).
        response = await self.h.iq(
            "<iq type='get' id='r' from='%s' to='%s'><pubsub xmlns="
            "'http://jabber.org/protocol/pubsub'><items node='%s'/>"
            "</pubsub></iq>" % (HECATE_FULL, witches, NODE_JIDMAP_VISIBLE))
        self.assertResult(response)
        self.assertIn("<jid>%s</jid>" % (proxy,), response.toXml())
        self.assertNotIn(CAT, response.toXml())

    async def test_prefsAtService(self):
        """
        PREF-2: preferences are per channel; at the service JID the request
        is a C{bad-request}.
        """
        response = await self.template(to=DOMAIN)
        self.assertError(response, "modify", "bad-request")


class PreferenceMemoryTests(MemoryStoreMixin, PreferenceTestsMixin,
                            unittest.TestCase):
    pass


class PreferencePgsqlTests(PgsqlStoreMixin, PreferenceTestsMixin,
                           unittest.TestCase):
    pass
