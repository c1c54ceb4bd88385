"""
The security bar (requirements.md VIS-6, XEP-0369 §11): in a JID-hidden
channel, nothing a non-administrator receives names another user's real
JID — not in reflected messages, private messages (PM-3, PJID-6),
retraction notices and tombstones (RET-4, RET-5), MAM results, node reads,
notifications, presence (PRES-3, X403-3, AMB-23), disco, nor error
stanzas.

One busy scenario runs through the real handlers; every stanza the service
sends is collected, and the text of those addressed to each
non-administrator is searched for the other users' localparts, domains and
resources.
"""

import re

from twisted.trial import unittest
from twisted.words.protocols.jabber.jid import JID

from tests.helpers import (
    DOMAIN, MIXTestMixin, MemoryStoreMixin, NODE_JIDMAP, NODE_MESSAGES,
    NODE_PARTICIPANTS, NODE_PRESENCE, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MAM2,
    NS_MIX, NS_PUBSUB, parse, rsm, submitForm)
from tests.pgsql import PgsqlStoreMixin

CHANNEL = "darkhour@" + DOMAIN

#: Distinctive parts: a localpart, a domain and a resource per user, none a
#: substring of anything the service makes up (hex ids, base-36 proxy
#: ids, date-times).
USERS = {
    "owner": ("grimalkinqx", "heathzone.example", "cauldronrvy"),
    "alice": ("paddockzw", "fenland.example", "toadstoolkq"),
    "bob": ("banquoyj", "forres.example", "lanternwuv"),
    "carol": ("fleanceqm", "dunsinane.example", "torchvzk"),
}


def bare(user):
    local, domain, _ = USERS[user]
    return "%s@%s" % (local, domain)


def full(user, second=False):
    local, domain, resource = USERS[user]
    return "%s@%s/%s%s" % (local, domain, resource, "two" if second else "")


def markers(user):
    """
    What would betray C{user}'s real JID: its localpart (which catches the
    bare JID and every full JID) and its domain and resource.
    """
    return USERS[user]


class LeakTestsMixin(MIXTestMixin):

    async def setUp(self):
        await MIXTestMixin.setUp(self)
        #: every stanza the service sent, serialized.
        self.sent = []

    async def pump(self):
        # Subscription dumps follow the responses (JOIN-10): collect them.
        await self.h.advance(0)
        self.sent.extend(self.h.raw())

    async def feed(self, xml):
        await self.h.receive(xml)
        await self.pump()

    def addressedTo(self, user):
        """
        The serialized stanzas addressed to C{user}'s bare or a full JID.
        """
        mine = []
        for text in self.sent:
            to = parse(text).getAttribute("to")
            if to and JID(to).userhost() == bare(user):
                mine.append(text)
        return mine

    def leaksIn(self, texts, user):
        """
        Return C{(other user, marker, excerpt)} for every marker of another
        user found in C{texts}.
        """
        found = []
        for text in texts:
            lowered = text.lower()
            for other in USERS:
                if other == user:
                    continue
                for marker in markers(other):
                    at = lowered.find(marker.lower())
                    if at >= 0:
                        found.append((other, marker,
                                      text[max(0, at - 80):at + 80]))
        return found

    # Scenario steps

    async def join(self, user, nodes=(NODE_MESSAGES, NODE_PARTICIPANTS),
                   extra=""):
        subscribe = "".join("<subscribe node='%s'/>" % n for n in nodes)
        response = await self.h.iq(
            "<iq type='set' id='join-%s' from='%s' to='%s'>"
            "<join xmlns='%s'>%s%s</join></iq>"
            % (user, bare(user), CHANNEL, NS_MIX, subscribe, extra))
        self.sent.append(response.toXml())
        await self.pump()
        return response.getAttribute("type") == "result" and \
            response.firstChildElement()["jid"]

    async def setnick(self, user, nick):
        await self.feed("<iq type='set' id='nick-%s' from='%s' to='%s'>"
                        "<setnick xmlns='%s'><nick>%s</nick></setnick></iq>"
                        % (user, full(user), CHANNEL, NS_MIX, nick))

    async def say(self, user, body, mid):
        """
        Send a groupchat message; return its archive id (from the
        sender's own copy).
        """
        await self.h.receive(
            "<message type='groupchat' id='%s' from='%s' to='%s'>"
            "<body>%s</body></message>"
            % (mid, full(user), CHANNEL, body))
        out = self.h.raw()
        self.sent.extend(out)
        for text in out:
            stanza = parse(text)
            if stanza.getAttribute("to") == bare(user) and \
                    stanza.getAttribute("type") == "groupchat":
                return stanza["id"]
        self.fail("no reflection of %s: %r" % (mid, out))

    async def pm(self, user, to, body, mid, second=False):
        """
        Send a private message; return the relayed stanza, if any.
        """
        await self.h.receive("<message type='chat' id='%s' from='%s' to='%s'>"
                             "<body>%s</body></message>"
                             % (mid, full(user, second), to, body))
        out = self.h.raw()
        self.sent.extend(out)
        return parse(out[0]) if out else None

    async def retract(self, user, archiveId, mid):
        await self.feed("<message id='%s' from='%s' to='%s'>"
                        "<retract xmlns='%s' id='%s'/></message>"
                        % (mid, full(user), CHANNEL, NS_MIX, archiveId))

    async def mam(self, user, body="", node=None, iqId="mam"):
        nodeAttr = " node='%s'" % (node,) if node else ""
        await self.feed("<iq type='set' id='%s' from='%s' to='%s'>"
                        "<query xmlns='%s' queryid='q-%s'%s>%s</query></iq>"
                        % (iqId, full(user), CHANNEL, NS_MAM2, iqId, nodeAttr,
                           body))

    async def items(self, user, node, iqId="items"):
        await self.feed("<iq type='get' id='%s' from='%s' to='%s'>"
                        "<pubsub xmlns='%s'><items node='%s'/></pubsub></iq>"
                        % (iqId, full(user), CHANNEL, NS_PUBSUB, node))

    async def disco(self, user, to, namespace, node=None):
        nodeAttr = " node='%s'" % (node,) if node else ""
        await self.feed("<iq type='get' id='disco' from='%s' to='%s'>"
                        "<query xmlns='%s'%s/></iq>"
                        % (full(user), to, namespace, nodeAttr))

    async def presence(self, user, payload="", kind=None, second=False,
                       bareJID=False):
        typeAttr = " type='%s'" % (kind,) if kind else ""
        sender = bare(user) if bareJID else full(user, second)
        await self.feed("<presence%s from='%s' to='%s'>%s</presence>"
                        % (typeAttr, sender, CHANNEL, payload))

    async def scenario(self):
        create = await self.h.iq(
            "<iq type='set' id='c1' from='%s' to='%s'>"
            "<create xmlns='%s' channel='darkhour'>%s</create></iq>"
            % (full("owner"), DOMAIN, NS_MIX, submitForm(
                ("User Message Retraction", "true"),
                ("Participants Node Subscription", "anyone"))))
        self.assertResult(create)
        self.sent.append(create.toXml())
        await self.pump()

        proxies = {}
        proxies["owner"] = await self.join(
            "owner", (NODE_MESSAGES, NODE_PARTICIPANTS, NODE_JIDMAP,
                      NODE_PRESENCE))
        # alice also asks for jidmap, which only administrators may read.
        proxies["alice"] = await self.join(
            "alice", (NODE_MESSAGES, NODE_PARTICIPANTS, NODE_JIDMAP,
                      NODE_PRESENCE))
        proxies["bob"] = await self.join(
            "bob", (NODE_MESSAGES, NODE_PARTICIPANTS, NODE_PRESENCE))
        # carol takes presence later, with update-subscription.
        proxies["carol"] = await self.join(
            "carol", extra=submitForm(("JID Visibility", "never")))
        for user, proxy in proxies.items():
            self.assertTrue(proxy, user)

        await self.setnick("owner", "Graymalkin")
        await self.setnick("alice", "Paddock")
        await self.setnick("bob", "Banquo")
        await self.setnick("carol", "Fleance")
        # Errors: a nick in use, a nick too odd, a join with a bad form.
        await self.setnick("alice", "Banquo")
        await self.setnick("carol", "x" * 200)
        await self.feed("<iq type='set' id='badjoin' from='%s' to='%s'>"
                        "<join xmlns='%s'>%s</join></iq>"
                        % (bare("alice"), CHANNEL, NS_MIX,
                           submitForm(("Private Messages", "sometimes"))))

        # Presence: online (two clients for bob), status changes with
        # caps and languages, a client-supplied <mix/> naming a real JID,
        # unavailable, resyncs, probes, the node read, a late subscriber.
        await self.presence("owner", "<show>chat</show>")
        await self.presence(
            "alice",
            "<show>dnd</show><status xml:lang='en'>"
            "Making a Brew</status><c xmlns='http://jabber.org/"
            "protocol/caps' hash='sha-1' node='n' ver='v'/>")
        await self.presence("bob")
        await self.presence("bob", "<show>away</show>", second=True)
        await self.presence(
            "alice",
            "<status>back</status><mix xmlns='urn:xmpp:"
            "mix:presence:0'><jid>%s</jid></mix>" % (full("alice"),))
        await self.presence("bob", "<show>xa</show><status>gone</status>")
        await self.presence("bob", kind="unavailable", second=True)
        await self.presence("alice", bareJID=True)
        await self.presence("bob", kind="probe", bareJID=True)
        await self.presence("carol", "<show>chat</show>")
        await self.feed(
            "<iq type='set' id='us-carol' from='%s' to='%s'>"
            "<update-subscription xmlns='%s'><subscribe node='%s'/>"
            "</update-subscription></iq>"
            % (full("carol"), CHANNEL, NS_MIX, NODE_PRESENCE))
        await self.presence("carol", "<status>hi</status>", second=True)
        for user in ("alice", "bob", "carol"):
            await self.items(user, NODE_PRESENCE, "pr-" + user)

        sent = {}
        sent["owner"] = await self.say(
            "owner", "When shall we three meet", "g1")
        sent["alice"] = await self.say("alice", "In thunder, lightning", "g2")
        sent["bob"] = await self.say("bob", "or in rain", "g3")
        sent["carol"] = await self.say("carol", "When the hurlyburly", "g4")
        sent["bob2"] = await self.say("bob", "Fair is foul", "g5")

        # Private messages, both ways, several clients.
        first = await self.pm("bob", proxies["alice"], "psst", "p1")
        bobFull = first["from"]
        reply = await self.pm("alice", bobFull, "what?", "p2")
        aliceFull = reply["from"]
        await self.pm("bob", aliceFull, "meet at the heath", "p3")
        await self.pm("bob", proxies["alice"], "from my other client", "p4",
                      second=True)
        await self.pm("carol", proxies["alice"], "hello", "p5")
        carolFull = (await self.pm(
            "alice", proxies["carol"], "hi", "p6"))["from"]
        await self.pm("carol", aliceFull, "hi back", "p7")
        await self.pm("alice", carolFull, "bye", "p8")
        await self.pm("alice", proxies["owner"], "to the owner", "p9")
        await self.pm("owner", aliceFull, "from the owner", "p10")
        # PM errors: unmapped full proxy, unknown proxy, groupchat.
        await self.pm("alice", proxies["bob"] + "/nosuchres", "x", "p11")
        await self.pm("alice", "nosuchid#darkhour@" + DOMAIN, "x", "p12")
        await self.feed("<message type='groupchat' id='p13' from='%s' to='%s'>"
                        "<body>x</body></message>"
                        % (full("alice"), proxies["bob"]))

        # Retractions: by the sender, by the owner, a forbidden one.
        await self.retract("bob", sent["bob"], "r1")
        await self.retract("owner", sent["carol"], "r2")
        await self.retract("alice", sent["bob2"], "r3")
        await self.retract("alice", sent["bob"], "r4")

        # Reads: MAM (all, by sender, of jidmap), node items, disco.
        await self.mam("alice", rsm(50), iqId="mam1")
        await self.mam("alice", submitForm(("with", proxies["bob"]),
                                           formType=NS_MAM2), iqId="mam2")
        await self.mam("alice", node=NODE_JIDMAP, iqId="mam3")
        await self.mam("bob", rsm(50), iqId="mam4")
        for user in ("alice", "bob", "carol"):
            await self.items(user, NODE_PARTICIPANTS, "ps-" + user)
            await self.items(user, NODE_JIDMAP, "jm-" + user)
            await self.items(user, "urn:xmpp:mix:nodes:config", "cf-" + user)
            await self.items(user, "urn:xmpp:mix:nodes:info", "in-" + user)
            await self.disco(user, CHANNEL, NS_DISCO_INFO)
            await self.disco(user, CHANNEL, NS_DISCO_ITEMS)
            await self.disco(user, CHANNEL, NS_DISCO_INFO, node="mix")
            await self.disco(user, DOMAIN, NS_DISCO_ITEMS)
            await self.disco(user, proxies["owner"], NS_DISCO_INFO)

        # Leave and come back; more traffic.
        await self.feed(
            "<iq type='set' id='leave-bob' from='%s' to='%s'>"
            "<leave xmlns='%s'/></iq>" % (bare("bob"), CHANNEL, NS_MIX))
        await self.pm("bob", proxies["alice"], "left", "p14")
        await self.join(
            "bob", (NODE_MESSAGES, NODE_PARTICIPANTS, NODE_PRESENCE))
        await self.presence("bob", "<show>chat</show>")
        await self.presence("bob", kind="probe")
        await self.say("bob", "I am back", "g6")
        await self.pm("bob", aliceFull, "back again", "p15")
        await self.feed("<iq type='set' id='leave-carol' from='%s' to='%s'>"
                        "<leave xmlns='%s'/></iq>"
                        % (bare("carol"), CHANNEL, NS_MIX))
        # Ghost checks an hour on; the clients that do not answer go.
        await self.h.advance(3600)
        await self.pump()
        await self.h.advance(30)
        await self.pump()
        await self.presence("alice", bareJID=True)
        await self.mam("alice", rsm(50), iqId="mam5")
        await self.items("alice", NODE_PARTICIPANTS, "ps-again")

        # The owner reads the jidmap (legitimately) and its archive.
        await self.items("owner", NODE_JIDMAP, "jm-owner")
        await self.mam("owner", node=NODE_JIDMAP, iqId="mam6")
        return proxies

    async def test_noRealJIDsForNonAdministrators(self):
        """
        VIS-6, MSG-11, RET-4, RET-5, PM-3, PJID-6, PJID-9: in a JID-hidden
        channel, no stanza addressed to a non-administrator names another
        user's real JID (localpart, domain or resource), across messages,
        private messages, retractions, MAM, node reads, notifications,
        disco, errors, leave and re-join.
        """
        await self.scenario()
        for user in ("alice", "bob", "carol"):
            mine = self.addressedTo(user)
            text = "".join(mine)
            # The search is over real traffic: messages, PMs, retractions,
            # MAM results, notifications, errors all reached this user.
            self.assertGreater(len(mine), 20, user)
            for needle in ("<body>", "urn:xmpp:mam:2", "type='error'",
                           "pubsub#event", "#darkhour@" + DOMAIN,
                           "<presence ", "urn:xmpp:mix:presence:0",
                           "type='unavailable'"):
                self.assertIn(needle, text, (user, needle))
            self.assertEqual([], self.leaksIn(mine, user), user)
        alice = "".join(self.addressedTo("alice"))
        for needle in ("meet at the heath", "from the owner", "hi back",
                       "back again", "<retract xmlns='%s'" % (NS_MIX,),
                       "<retracted xmlns='%s'" % (NS_MIX,),
                       "When shall we three meet", "forbidden"):
            self.assertIn(needle, alice, needle)
        # Presence reached the others, and the ghost checks went out.
        bob = "".join(self.addressedTo("bob"))
        for needle in ("Making a Brew", "http://jabber.org/protocol/caps",
                       "<show>chat</show>", NS_DISCO_INFO):
            self.assertIn(needle, bob, needle)
        carol = "".join(self.addressedTo("carol"))
        self.assertIn("<show>xa</show>", carol)
        # MAM after the retractions returns tombstones (RET-5).
        mam5 = "".join(t for t in self.addressedTo("alice")
                       if "queryid='q-mam5'" in t)
        self.assertEqual(2, mam5.count("<retracted "))
        for body in ("or in rain", "When the hurlyburly"):
            self.assertNotIn(body, mam5)
        self.assertIn("Fair is foul", mam5)

    async def test_searchFindsRealJIDs(self):
        """
        The search can fail: the owner, an administrator, legitimately
        reads every real JID in the jidmap, and a stanza naming one is
        flagged.
        """
        await self.scenario()
        found = {other for other, _, _ in
                 self.leaksIn(self.addressedTo("owner"), "owner")}
        self.assertEqual({"alice", "bob", "carol"}, found)
        forged = "<message to='%s'><body>%s</body></message>" % (
            bare("alice"), full("bob"))
        self.assertEqual(["bob"] * 3,
                         [o for o, _, _ in self.leaksIn([forged], "alice")])
        self.assertTrue(re.search(USERS["carol"][0],
                                  "x" + bare("carol") + "y"))


class LeakMemoryTests(MemoryStoreMixin, LeakTestsMixin, unittest.TestCase):
    pass


class LeakPgsqlTests(PgsqlStoreMixin, LeakTestsMixin, unittest.TestCase):
    pass
