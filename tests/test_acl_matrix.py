"""
The security bar (PS-6, ACL-1..8, NODE-1..13, VIS-5, PS-2, PS-3, AMB-50):
every node operation tried as every role, the result checked against the
configuration table.

The expected outcome of each try is computed here from the PS-6 table of
requirements.md §1.21 and the configuration fields of each scenario,
independently of L{mixtwisted.access}.
"""

from twisted.trial import unittest

from tests.helpers import (
    CAT, CAT_FULL, COVEN, HAG66_FULL, HECATE, HECATE_FULL, startHarness,
    MemoryStoreMixin, NODE_ALLOWED, NODE_BANNED, NODE_CONFIG, NODE_INFO,
    NODE_JIDMAP, NODE_JIDMAP_VISIBLE, NODE_MESSAGES, NODE_PARTICIPANTS,
    NODE_PRESENCE, NS_PUBSUB, errorCondition, serviceSettings, submitForm)
from tests.pgsql import PgsqlStoreMixin

NODE_AVATAR_DATA = "urn:xmpp:avatar:data"
NODE_AVATAR_METADATA = "urn:xmpp:avatar:metadata"

ALL_NODES = (NODE_MESSAGES, NODE_PARTICIPANTS, NODE_JIDMAP,
             NODE_JIDMAP_VISIBLE, NODE_PRESENCE, NODE_INFO, NODE_ALLOWED,
             NODE_BANNED, NODE_CONFIG, NODE_AVATAR_DATA, NODE_AVATAR_METADATA)

OPERATOR = "root@shakespeare.example"
ALLY = "ally@heath.example"
LEAR = "lear@banned.example"
STRANGER = "nobody@elsewhere.example"

#: role -> full JID acting in that role.  The owner and the administrator
#: are not participants: they administer without joining (ADM-11).
ROLES = {
    "owner": HAG66_FULL,
    "admin": HECATE_FULL,
    "participant": CAT_FULL,
    "allowed": ALLY + "/r",
    "banned": LEAR + "/r",
    "stranger": STRANGER + "/r",
    "operator": OPERATOR + "/r",
}

#: Rank of each access value, the PS-6 hierarchy (ACL-1); nobody: no one
#: below owner (D-3: owners always read their channel's nodes).
VALUE_RANK = {"anyone": 0, "allowed": 1, "participants": 2, "admins": 3,
              "owners": 4, "nobody": 4}

# Scenarios: the configuration form given at creation, the JID Visibility,
# and, written out again by hand, the field values the expectations use.

DEFAULTS = {
    "Nodes Present": ("participants", "presence", "information", "banned"),
    "Messages Node Subscription": "participants",
    "Presence Node Subscription": "participants",
    "Participants Node Subscription": "participants",
    "Information Node Subscription": "participants",
    "Allowed Node Subscription": "admins",
    "Banned Node Subscription": "admins",
    "Configuration Node Access": "admins",
    "Information Node Update Rights": "admins",
    "Avatar Nodes Update Rights": "admins",
    "JID Visibility": "jid-hidden",
}

SCENARIOS = {
    # The default configuration (AMB-4), with an administrator.
    "default": {},
    # Everything open as far as each field goes, jid-maybe-visible.
    "open": {
        "Nodes Present": ("participants", "information", "allowed",
                          "banned", "avatar"),
        "Messages Node Subscription": "anyone",
        "Presence Node Subscription": "anyone",
        "Participants Node Subscription": "anyone",
        "Information Node Subscription": "anyone",
        "Allowed Node Subscription": "allowed",
        "Banned Node Subscription": "allowed",
        "Configuration Node Access": "allowed",
        "Information Node Update Rights": "participants",
        "Avatar Nodes Update Rights": "participants",
        "JID Visibility": "jid-maybe-visible",
    },
    # Mostly closed, jid-visible, every node present.
    "closed": {
        "Nodes Present": ("participants", "presence", "information",
                          "allowed", "banned", "avatar"),
        "Messages Node Subscription": "participants",
        "Presence Node Subscription": "allowed",
        "Participants Node Subscription": "nobody",
        "Information Node Subscription": "allowed",
        "Allowed Node Subscription": "owners",
        "Banned Node Subscription": "participants",
        "Configuration Node Access": "nobody",
        "Information Node Update Rights": "owners",
        "Avatar Nodes Update Rights": "admins",
        "JID Visibility": "jid-visible",
    },
    # No participants node: only the banned node and the implicit ones.
    "bare": {
        "Nodes Present": ("banned",),
        "Messages Node Subscription": "allowed",
        "Presence Node Subscription": "allowed",
        "Participants Node Subscription": "owners",
        "Information Node Subscription": "anyone",
        "Allowed Node Subscription": "admins",
        "Banned Node Subscription": "nobody",
        "Configuration Node Access": "owners",
        "Information Node Update Rights": "admins",
        "Avatar Nodes Update Rights": "owners",
    },
}


def settingsOf(scenario):
    values = dict(DEFAULTS)
    values.update(SCENARIOS[scenario])
    return values


def creationForm(scenario):
    fields = [("Administrator", HECATE)]
    for var, value in SCENARIOS[scenario].items():
        fields.append((var, list(value) if isinstance(value, tuple)
                       else value))
    return submitForm(*fields)


# The expectations (PS-6, PS-7)

def presentNodes(values):
    nodes = values["Nodes Present"]
    present = {NODE_MESSAGES, NODE_CONFIG}
    if "participants" in nodes:
        present |= {NODE_PARTICIPANTS, NODE_JIDMAP}
        if values["JID Visibility"] == "jid-maybe-visible":
            present.add(NODE_JIDMAP_VISIBLE)
    for option, node in (("presence", NODE_PRESENCE),
                         ("information", NODE_INFO),
                         ("allowed", NODE_ALLOWED),
                         ("banned", NODE_BANNED)):
        if option in nodes:
            present.add(node)
    if "avatar" in nodes:
        present |= {NODE_AVATAR_DATA, NODE_AVATAR_METADATA}
    return present


def rankOf(role, values):
    """
    The rank of a role: owners and operators 4, administrators 3,
    participants 2, the Allowed 1, everyone else 0.  A banned JID is not
    Allowed but stays in Anyone (XEP-0369 §3.9.1: "Anyone: any user,
    including users in the banned node").  Without an allowed node
    everybody not banned is Allowed (ACL-3).
    """
    if role in ("owner", "operator"):
        return 4
    if role == "admin":
        return 3
    if role == "banned":
        return 0
    if role == "participant":
        return 2
    if role == "allowed":
        return 1
    return 0 if "allowed" in values["Nodes Present"] else 1


def readRank(node, values):
    """The least rank that reads and subscribes (PS-6 'read / subscribe')."""
    if node == NODE_JIDMAP:
        return 2 if values["JID Visibility"] == "jid-visible" else 3
    if node == NODE_JIDMAP_VISIBLE:
        return 2
    field = {
        NODE_MESSAGES: "Messages Node Subscription",
        NODE_PARTICIPANTS: "Participants Node Subscription",
        NODE_PRESENCE: "Presence Node Subscription",
        NODE_INFO: "Information Node Subscription",
        NODE_ALLOWED: "Allowed Node Subscription",
        NODE_BANNED: "Banned Node Subscription",
        NODE_CONFIG: "Configuration Node Access",
        NODE_AVATAR_DATA: "Information Node Subscription",
        NODE_AVATAR_METADATA: "Information Node Subscription",
    }[node]
    return VALUE_RANK[values[field]]


SERVICE_WRITTEN = (NODE_MESSAGES, NODE_PARTICIPANTS, NODE_JIDMAP,
                   NODE_JIDMAP_VISIBLE, NODE_PRESENCE)

OK = ("result",)
NOT_FOUND = ("cancel", "item-not-found")
FORBIDDEN = ("auth", "forbidden")
UNSUPPORTED = ("cancel", "feature-not-implemented")


def expected(op, node, role, values):
    present = node in presentNodes(values)
    rank = rankOf(role, values)
    if op in ("items", "subscribe"):
        if not present:
            return NOT_FOUND
        return OK if rank >= readRank(node, values) else FORBIDDEN
    # publish and retract (PS-6 'write')
    if node in SERVICE_WRITTEN:
        return FORBIDDEN
    if node in (NODE_INFO, NODE_CONFIG) and op == "retract":
        return UNSUPPORTED
    if node in (NODE_ALLOWED, NODE_BANNED):
        if rank >= 3:
            # Publishing creates an absent list node (ADM-10).
            return OK if present or op == "publish" else NOT_FOUND
        return FORBIDDEN if present else NOT_FOUND
    if not present:
        return NOT_FOUND
    if node == NODE_CONFIG:
        least = 4
    elif node == NODE_INFO:
        least = VALUE_RANK[values["Information Node Update Rights"]]
    else:
        least = VALUE_RANK[values["Avatar Nodes Update Rights"]]
    return OK if rank >= least else FORBIDDEN


# The requests

def requestBody(op, node, sender):
    if op == "items":
        return "get", "<items node='%s'/>" % (node,)
    if op == "subscribe":
        return "set", "<subscribe node='%s' jid='%s'/>" % (
            node, sender.split("/")[0])
    if op == "retract":
        itemId = {NODE_ALLOWED: "retract.example",
                  NODE_BANNED: "retract.example",
                  NODE_AVATAR_DATA: "av1",
                  NODE_AVATAR_METADATA: "av1"}.get(node, "x")
        return "set", "<retract node='%s'><item id='%s'/></retract>" % (
            node, itemId)
    if node in (NODE_INFO, NODE_CONFIG):
        field = ("Name", "New") if node == NODE_INFO else (
            "Private Messages", "true")
        payload = submitForm(field)
    elif node in (NODE_ALLOWED, NODE_BANNED):
        payload = "<item id='new.example'/>"
    elif node == NODE_AVATAR_DATA:
        payload = ("<item id='av2'><data xmlns='%s'>AAAA</data></item>"
                   % (NODE_AVATAR_DATA,))
    elif node == NODE_AVATAR_METADATA:
        payload = ("<item id='av2'><metadata xmlns='%s'/></item>"
                   % (NODE_AVATAR_METADATA,))
    else:
        payload = ("<item id='x'><participant xmlns='urn:xmpp:mix:1'>"
                   "<nick>x</nick></participant></item>")
    return "set", "<publish node='%s'>%s</publish>" % (node, payload)


def outcome(response):
    if response.getAttribute("type") == "result":
        return OK
    return errorCondition(response)


class ACLMatrixMixin:
    """
    For each scenario, a fresh channel per role and node; every operation
    is tried and compared with the table.
    """

    async def makeHarness(self, scenario):
        h = await startHarness(self.makeStore(),
                               serviceSettings(admins=(OPERATOR,)))
        response = await h.create(form=creationForm(scenario))
        assert response.getAttribute("type") == "result", response.toXml()
        values = settingsOf(scenario)
        nodes = values["Nodes Present"]

        async def owner(body):
            r = await h.iq("<iq type='set' id='o' from='%s' to='%s'>"
                           "<pubsub xmlns='%s'>%s</pubsub></iq>"
                           % (HAG66_FULL, COVEN, NS_PUBSUB, body))
            assert r.getAttribute("type") == "result", r.toXml()

        if "allowed" in nodes:
            for item in (ALLY, CAT, "retract.example"):
                await owner("<publish node='%s'><item id='%s'/></publish>"
                            % (NODE_ALLOWED, item))
        if "banned" in nodes:
            for item in (LEAR, "retract.example"):
                await owner("<publish node='%s'><item id='%s'/></publish>"
                            % (NODE_BANNED, item))
        if "avatar" in nodes:
            await owner(
                "<publish node='%s'><item id='av1'><data xmlns='%s'>AAAA"
                "</data></item></publish>"
                % (NODE_AVATAR_DATA, NODE_AVATAR_DATA))
            await owner(
                "<publish node='%s'><item id='av1'><metadata xmlns='%s'/>"
                "</item></publish>"
                % (NODE_AVATAR_METADATA, NODE_AVATAR_METADATA))
        join = await h.join(CAT, nodes=())
        assert join.getAttribute("type") == "result", join.toXml()
        h.take()
        return h, values

    async def checkScenario(self, scenario):
        mismatches = []
        tries = 0
        for role, sender in sorted(ROLES.items()):
            for node in ALL_NODES:
                h, values = await self.makeHarness(scenario)
                for op in ("items", "subscribe", "publish", "retract"):
                    iqType, body = requestBody(op, node, sender)
                    response = await h.iq(
                        "<iq type='%s' id='t' from='%s' to='%s'>"
                        "<pubsub xmlns='%s'>%s</pubsub></iq>"
                        % (iqType, sender, COVEN, NS_PUBSUB, body))
                    want = expected(op, node, role, values)
                    got = outcome(response)
                    tries += 1
                    if want != got:
                        mismatches.append((scenario, role, op, node, want,
                                           got))
                # One channel per role and node: release its store's
                # connections before the next one is made.
                await h.store.stop()
        self.assertEqual(len(ROLES) * len(ALL_NODES) * 4, tries)
        self.assertEqual([], mismatches)

    async def test_defaultConfiguration(self):
        """
        PS-6, ACL-1..5, AMB-4, AMB-50, PS-2, PS-3, ADM-10: the default
        configuration (jid-hidden; no allowed, jidmap-visible or avatar
        node): every role × node × operation as in the table.
        """
        await self.checkScenario("default")

    async def test_openConfiguration(self):
        """
        PS-6, ACL-8, NODE-7, NODE-13: subscription values anyone/allowed,
        update rights participants, jid-maybe-visible, an allowed node
        listing the allowed user, avatar nodes present, no presence node.
        """
        await self.checkScenario("open")

    async def test_closedConfiguration(self):
        """
        PS-6, D-3, VIS-5: nobody/owners values (owners still read),
        jid-visible (participants read jidmap), every node present.
        """
        await self.checkScenario("closed")

    async def test_bareConfiguration(self):
        """
        PS-6, NODE-4, PS-7, ADM-10: no participants, presence, info or
        allowed node: absent nodes answer item-not-found, administrators
        create the allowed node by publishing.
        """
        await self.checkScenario("bare")

    def test_expectationsCanFail(self):
        """
        The expectation table is not vacuous: it refuses strangers
        somewhere and lets participants in somewhere in each scenario.
        """
        for scenario in SCENARIOS:
            values = settingsOf(scenario)
            outcomes = set(expected(op, node, role, values)
                           for role in ROLES for node in ALL_NODES
                           for op in ("items", "publish"))
            self.assertIn(OK, outcomes)
            self.assertIn(FORBIDDEN, outcomes)


class ACLMatrixMemoryTests(MemoryStoreMixin, ACLMatrixMixin,
                           unittest.TestCase):
    pass


class ACLMatrixPgsqlTests(PgsqlStoreMixin, ACLMatrixMixin,
                          unittest.TestCase):
    pass
