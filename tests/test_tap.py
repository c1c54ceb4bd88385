"""
Tests for L{mixtwisted.tap}: the options of C{twistd mix} and its plugin.

Each test parses a command line (and sometimes a configuration file) and
checks the resulting L{mixtwisted.settings.Settings}, or that an operator
mistake is refused with a L{usage.UsageError} that names the culprit.
"""

import os

from twisted.application.service import IServiceMaker
from twisted.plugin import IPlugin, getPlugins
from twisted.python import usage
from twisted.trial import unittest

from mixtwisted import tap
from mixtwisted.settings import Limits, Settings


def parse(argv, environ=None):
    """
    Parse C{argv} with a fresh L{tap.Options} and return its settings.

    @param environ: the environment seen by the options (default: a secret
        in C{MIX_SECRET} and nothing else, so that the real environment of
        the test run cannot leak in).
    """
    if environ is None:
        environ = {"MIX_SECRET": "env-secret"}
    options = tap.Options(environ=environ)
    options.parseOptions(argv)
    return options["settings"]


class DefaultsTests(unittest.TestCase):
    """
    Only C{--jid} and a secret are needed; everything else has a default.
    """

    def test_defaults(self):
        settings = parse(["--jid", "mix.localhost"])
        self.assertIsInstance(settings, Settings)
        self.assertEqual(settings.domain, "mix.localhost")
        self.assertEqual(settings.secret, "env-secret")
        self.assertEqual(settings.rhost, "127.0.0.1")
        self.assertEqual(settings.rport, 5347)
        self.assertEqual(settings.backend, "memory")
        self.assertEqual(settings.dsn, "")
        self.assertEqual(settings.name, Settings().name)
        self.assertIsNone(settings.creators)
        self.assertEqual(settings.admins, ())
        self.assertIsNone(settings.mucMirror)
        self.assertFalse(settings.verbose)
        self.assertEqual(settings.limits, Limits())

    def test_jidRequired(self):
        e = self.assertRaises(usage.UsageError, parse, [])
        self.assertIn("--jid", str(e))

    def test_twistdInstantiation(self):
        """
        twistd creates the options without arguments; they then read the
        process environment.
        """
        options = tap.Options()
        self.assertIs(options.environ, os.environ)


class OptionTests(unittest.TestCase):
    """
    Each command line option ends up in the settings.
    """

    def test_jidNormalised(self):
        settings = parse(["--jid", "MIX.Example.ORG"])
        self.assertEqual(settings.domain, "mix.example.org")

    def test_jidShort(self):
        self.assertEqual(parse(["-j", "mix.localhost"]).domain,
                         "mix.localhost")

    def test_jidWithUser(self):
        e = self.assertRaises(usage.UsageError, parse, ["--jid", "u@mix.localhost"])
        self.assertIn("domain", str(e))

    def test_jidWithResource(self):
        self.assertRaises(usage.UsageError, parse, ["--jid", "mix.localhost/r"])

    def test_jidInvalid(self):
        e = self.assertRaises(usage.UsageError, parse, ["--jid", "bad host"])
        self.assertIn("invalid JID", str(e))

    def test_secret(self):
        settings = parse(["--jid", "mix.localhost", "--secret", "s3cr3t"])
        self.assertEqual(settings.secret, "s3cr3t")

    def test_rhostRport(self):
        settings = parse(["--jid", "mix.localhost", "--rhost", "xmpp.example",
                          "--rport", "5275"])
        self.assertEqual(settings.rhost, "xmpp.example")
        self.assertEqual(settings.rport, 5275)

    def test_rportNotANumber(self):
        e = self.assertRaises(usage.UsageError, parse,
                              ["--jid", "mix.localhost", "--rport", "http"])
        self.assertIn("rport", str(e))

    def test_rportOutOfRange(self):
        for bad in ("0", "65536", "-1"):
            self.assertRaises(usage.UsageError, parse,
                              ["--jid", "mix.localhost", "--rport", bad])

    def test_backendMemory(self):
        settings = parse(["--jid", "mix.localhost", "--backend", "memory"])
        self.assertEqual(settings.backend, "memory")

    def test_backendPgsql(self):
        settings = parse(["--jid", "mix.localhost", "--backend", "pgsql",
                          "--dsn", "dbname=mix"])
        self.assertEqual(settings.backend, "pgsql")
        self.assertEqual(settings.dsn, "dbname=mix")

    def test_backendPgsqlNeedsDSN(self):
        e = self.assertRaises(usage.UsageError, parse,
                              ["--jid", "mix.localhost", "--backend", "pgsql"])
        self.assertIn("--dsn", str(e))

    def test_backendUnknown(self):
        e = self.assertRaises(usage.UsageError, parse,
                              ["--jid", "mix.localhost", "--backend", "mysql"])
        self.assertIn("mysql", str(e))

    def test_name(self):
        settings = parse(["--jid", "mix.localhost", "--name", "Coven chat"])
        self.assertEqual(settings.name, "Coven chat")

    def test_creatorsAny(self):
        settings = parse(["--jid", "mix.localhost", "--creators", "any"])
        self.assertIsNone(settings.creators)

    def test_creatorsList(self):
        settings = parse(["--jid", "mix.localhost", "--creators",
                          "Hecate@Shakespeare.example, marlow.example,"])
        self.assertEqual(settings.creators,
                         ("hecate@shakespeare.example", "marlow.example"))

    def test_creatorsFullJID(self):
        self.assertRaises(usage.UsageError, parse,
                          ["--jid", "mix.localhost", "--creators", "a@b.c/r"])

    def test_creatorsEmpty(self):
        self.assertRaises(usage.UsageError, parse,
                          ["--jid", "mix.localhost", "--creators", " , "])

    def test_admins(self):
        settings = parse(["--jid", "mix.localhost", "--admins",
                          "hecate@shakespeare.example,greymalkin@shakespeare.example"])
        self.assertEqual(settings.admins, ("hecate@shakespeare.example",
                                           "greymalkin@shakespeare.example"))

    def test_adminsDomainRefused(self):
        e = self.assertRaises(usage.UsageError, parse,
                              ["--jid", "mix.localhost", "--admins",
                               "shakespeare.example"])
        self.assertIn("admins", str(e))

    def test_mucMirror(self):
        settings = parse(["--jid", "mix.localhost", "--muc-mirror",
                          "conference.localhost"])
        self.assertEqual(settings.mucMirror, "conference.localhost")

    def test_mucMirrorNotADomain(self):
        self.assertRaises(usage.UsageError, parse,
                          ["--jid", "mix.localhost", "--muc-mirror", "a@b.c"])

    def test_verbose(self):
        self.assertTrue(parse(["--jid", "mix.localhost", "--verbose"]).verbose)
        self.assertTrue(parse(["--jid", "mix.localhost", "-v"]).verbose)

    def test_limits(self):
        settings = parse(["--jid", "mix.localhost", "--max-nick-length", "20",
                          "--max-channel-name-length", "30",
                          "--max-message-bytes", "1000",
                          "--max-pending-per-recipient", "50",
                          "--max-pending-age", "3600"])
        self.assertEqual(settings.limits.maxNickLength, 20)
        self.assertEqual(settings.limits.maxPendingPerRecipient, 50)
        self.assertEqual(settings.limits.maxPendingAge, 3600)
        self.assertEqual(settings.limits.maxChannelNameLength, 30)
        self.assertEqual(settings.limits.maxMessageBytes, 1000)
        # The limits without an option keep their defaults.
        self.assertEqual(settings.limits.maxMAMPage, Limits().maxMAMPage)

    def test_limitNotPositive(self):
        self.assertRaises(usage.UsageError, parse,
                          ["--jid", "mix.localhost", "--max-nick-length", "0"])
        self.assertRaises(usage.UsageError, parse,
                          ["--jid", "mix.localhost", "--max-message-bytes", "x"])


class SecretTests(unittest.TestCase):
    """
    Where the component secret comes from.
    """

    def writeFile(self, content):
        path = self.mktemp()
        with open(path, "w", encoding="utf-8") as f:
            f.write(content)
        return path

    def test_fromFile(self):
        path = self.writeFile("from-file\n")
        settings = parse(["--jid", "mix.localhost", "--secret-file", path])
        self.assertEqual(settings.secret, "from-file")

    def test_fromFileKeepsInnerSpace(self):
        path = self.writeFile(" two words \r\n")
        settings = parse(["--jid", "mix.localhost", "--secret-file", path])
        self.assertEqual(settings.secret, " two words ")

    def test_fileMissing(self):
        e = self.assertRaises(usage.UsageError, parse,
                              ["--jid", "mix.localhost", "--secret-file",
                               self.mktemp()])
        self.assertIn("secret-file", str(e))

    def test_fileEmpty(self):
        path = self.writeFile("\n")
        self.assertRaises(usage.UsageError, parse,
                          ["--jid", "mix.localhost", "--secret-file", path])

    def test_fromEnvironment(self):
        settings = parse(["--jid", "mix.localhost"],
                         environ={"MIX_SECRET": "from-env"})
        self.assertEqual(settings.secret, "from-env")

    def test_optionBeatsEnvironment(self):
        path = self.writeFile("from-file")
        settings = parse(["--jid", "mix.localhost", "--secret-file", path],
                         environ={"MIX_SECRET": "from-env"})
        self.assertEqual(settings.secret, "from-file")
        settings = parse(["--jid", "mix.localhost", "--secret", "from-cli"],
                         environ={"MIX_SECRET": "from-env"})
        self.assertEqual(settings.secret, "from-cli")

    def test_secretAndSecretFile(self):
        path = self.writeFile("from-file")
        self.assertRaises(usage.UsageError, parse,
                          ["--jid", "mix.localhost", "--secret", "x",
                           "--secret-file", path])

    def test_missing(self):
        e = self.assertRaises(usage.UsageError, parse,
                              ["--jid", "mix.localhost"], environ={})
        self.assertIn("MIX_SECRET", str(e))

    def test_emptyEnvironment(self):
        self.assertRaises(usage.UsageError, parse, ["--jid", "mix.localhost"],
                          environ={"MIX_SECRET": ""})


class ConfigFileTests(unittest.TestCase):
    """
    C{--config FILE} reads the same settings from a C{[mix]} section, and the
    command line overrides it.
    """

    FULL = """\
[mix]
jid = mix.shakespeare.example
secret = file%secret
rhost = xmpp.shakespeare.example
rport = 5275
backend = pgsql
dsn = dbname=mix user=mix
name = Shakespearean Chat Service
creators = hecate@shakespeare.example, shakespeare.example
admins = hecate@shakespeare.example
muc-mirror = conference.shakespeare.example
verbose = yes
max-nick-length = 10
max-channel-name-length = 11
max-message-bytes = 12
max-pending-per-recipient = 13
max-pending-age = 14
"""

    def writeConfig(self, content):
        path = self.mktemp()
        with open(path, "w", encoding="utf-8") as f:
            f.write(content)
        return path

    def test_everyKey(self):
        path = self.writeConfig(self.FULL)
        settings = parse(["--config", path], environ={})
        self.assertEqual(settings, Settings(
            domain="mix.shakespeare.example",
            secret="file%secret",
            rhost="xmpp.shakespeare.example",
            rport=5275,
            backend="pgsql",
            dsn="dbname=mix user=mix",
            name="Shakespearean Chat Service",
            creators=("hecate@shakespeare.example", "shakespeare.example"),
            admins=("hecate@shakespeare.example",),
            mucMirror="conference.shakespeare.example",
            verbose=True,
            limits=Limits(maxNickLength=10, maxChannelNameLength=11,
                          maxMessageBytes=12, maxPendingPerRecipient=13,
                          maxPendingAge=14),
        ))

    def test_commandLineOverrides(self):
        path = self.writeConfig(self.FULL)
        settings = parse(["-c", path, "--jid", "mix.localhost",
                          "--secret", "cli", "--rport", "5347",
                          "--backend", "memory", "--creators", "any",
                          "--admins", "root@localhost",
                          "--max-nick-length", "40"],
                         environ={})
        self.assertEqual(settings.domain, "mix.localhost")
        self.assertEqual(settings.secret, "cli")
        self.assertEqual(settings.rport, 5347)
        self.assertEqual(settings.backend, "memory")
        self.assertIsNone(settings.creators)
        self.assertEqual(settings.admins, ("root@localhost",))
        self.assertEqual(settings.limits.maxNickLength, 40)
        # Keys not given on the command line still come from the file.
        self.assertEqual(settings.rhost, "xmpp.shakespeare.example")
        self.assertEqual(settings.name, "Shakespearean Chat Service")
        self.assertEqual(settings.limits.maxMessageBytes, 12)
        self.assertTrue(settings.verbose)

    def test_fileBeatsEnvironment(self):
        path = self.writeConfig("[mix]\njid = mix.localhost\nsecret = f\n")
        settings = parse(["--config", path], environ={"MIX_SECRET": "e"})
        self.assertEqual(settings.secret, "f")

    def test_environmentWhenFileHasNoSecret(self):
        path = self.writeConfig("[mix]\njid = mix.localhost\n")
        settings = parse(["--config", path], environ={"MIX_SECRET": "e"})
        self.assertEqual(settings.secret, "e")

    def test_secretFileRelativeToConfig(self):
        directory = self.mktemp()
        os.makedirs(directory)
        with open(os.path.join(directory, "secret.txt"), "w") as f:
            f.write("beside-config\n")
        path = os.path.join(directory, "mix.ini")
        with open(path, "w") as f:
            f.write("[mix]\njid = mix.localhost\nsecret-file = secret.txt\n")
        settings = parse(["--config", path], environ={})
        self.assertEqual(settings.secret, "beside-config")

    def test_verboseNo(self):
        path = self.writeConfig("[mix]\njid = mix.localhost\nverbose = no\n")
        self.assertFalse(parse(["--config", path]).verbose)

    def test_verboseBad(self):
        path = self.writeConfig("[mix]\njid = mix.localhost\nverbose = maybe\n")
        self.assertRaises(usage.UsageError, parse, ["--config", path])

    def test_badPortInFile(self):
        path = self.writeConfig("[mix]\njid = mix.localhost\nrport = 99999\n")
        e = self.assertRaises(usage.UsageError, parse, ["--config", path])
        self.assertIn("rport", str(e))

    def test_badJIDInFile(self):
        path = self.writeConfig("[mix]\njid = user@mix.localhost\n")
        self.assertRaises(usage.UsageError, parse, ["--config", path])

    def test_unknownKey(self):
        path = self.writeConfig("[mix]\njid = mix.localhost\nprot = 1\n")
        e = self.assertRaises(usage.UsageError, parse, ["--config", path])
        self.assertIn("prot", str(e))

    def test_noMixSection(self):
        path = self.writeConfig("[other]\njid = mix.localhost\n")
        e = self.assertRaises(usage.UsageError, parse, ["--config", path])
        self.assertIn("[mix]", str(e))

    def test_missingFile(self):
        self.assertRaises(usage.UsageError, parse,
                          ["--config", self.mktemp()])

    def test_notINI(self):
        path = self.writeConfig("jid = mix.localhost\n")
        self.assertRaises(usage.UsageError, parse, ["--config", path])


class MakeServiceTests(unittest.TestCase):
    """
    L{tap.makeService} hands the settings to the wiring and turns its
    C{ValueError} into a clean exit.
    """

    def test_valueErrorBecomesSystemExit(self):
        from mixtwisted import wiring

        def makeComponent(settings, reactor=None):
            raise ValueError("backend 'pgsql' is not implemented yet")

        self.patch(wiring, "makeComponent", makeComponent)
        options = tap.Options(environ={"MIX_SECRET": "s"})
        options.parseOptions(["--jid", "mix.localhost"])
        e = self.assertRaises(SystemExit, tap.makeService, options)
        self.assertIn("pgsql", str(e.code))

    def test_passesSettings(self):
        from mixtwisted import wiring

        seen = []
        marker = object()

        def makeComponent(settings, reactor=None):
            seen.append(settings)
            return marker

        self.patch(wiring, "makeComponent", makeComponent)
        options = tap.Options(environ={"MIX_SECRET": "s"})
        options.parseOptions(["--jid", "mix.localhost"])
        self.assertIs(tap.makeService(options), marker)
        self.assertEqual(seen, [options["settings"]])


class PluginTests(unittest.TestCase):
    """
    The C{mix} plugin is visible to twistd.
    """

    def test_discoverable(self):
        makers = [p for p in getPlugins(IServiceMaker)
                  if getattr(p, "tapname", None) == "mix"]
        self.assertEqual(len(makers), 1, "exactly one 'mix' plugin expected")
        maker = makers[0]
        self.assertTrue(IPlugin.providedBy(maker))
        self.assertTrue(IServiceMaker.providedBy(maker))
        self.assertIs(maker.options, tap.Options)
        self.assertIs(maker.makeService, tap.makeService)
        self.assertTrue(maker.description)


class DeliveryOptionTests(unittest.TestCase):
    """
    C{--delivery} and the C{delivery} key: a default mode and per-domain
    overrides (issue 6, L{mixtwisted.routing}).
    """

    def test_defaultAuto(self):
        settings = parse(["--jid", "mix.localhost"])
        self.assertEqual(settings.delivery, "auto")
        self.assertEqual(settings.deliveryDomains, ())

    def test_mode(self):
        for mode in ("bare", "full", "auto", "FULL"):
            settings = parse(["--jid", "mix.localhost", "--delivery", mode])
            self.assertEqual(settings.delivery, mode.lower())
            self.assertEqual(settings.deliveryDomains, ())

    def test_overrides(self):
        settings = parse(["--jid", "mix.localhost", "--delivery",
                          "prosody.example=full, Ejabberd.Example=bare"])
        self.assertEqual(settings.delivery, "auto")
        self.assertEqual(settings.deliveryDomains,
                         (("prosody.example", "full"),
                          ("ejabberd.example", "bare")))

    def test_defaultAndOverrides(self):
        settings = parse(["--jid", "mix.localhost", "--delivery",
                          "bare,prosody.example=full,other.example=auto"])
        self.assertEqual(settings.delivery, "bare")
        self.assertEqual(settings.deliveryDomains,
                         (("prosody.example", "full"),
                          ("other.example", "auto")))

    def test_unknownMode(self):
        e = self.assertRaises(usage.UsageError, parse,
                              ["--jid", "mix.localhost", "--delivery",
                               "example.org=muc"])
        self.assertIn("delivery", str(e))
        self.assertIn("muc", str(e))

    def test_twoDefaults(self):
        e = self.assertRaises(usage.UsageError, parse,
                              ["--jid", "mix.localhost", "--delivery",
                               "bare,full"])
        self.assertIn("two default", str(e))

    def test_domainTwice(self):
        e = self.assertRaises(usage.UsageError, parse,
                              ["--jid", "mix.localhost", "--delivery",
                               "a.example=full,a.example=bare"])
        self.assertIn("twice", str(e))

    def test_notADomain(self):
        e = self.assertRaises(usage.UsageError, parse,
                              ["--jid", "mix.localhost", "--delivery",
                               "user@a.example=full"])
        self.assertIn("domain", str(e))

    def writeConfig(self, content):
        path = self.mktemp()
        with open(path, "w", encoding="utf-8") as f:
            f.write(content)
        return path

    def test_fromFile(self):
        path = self.writeConfig(
            "[mix]\njid = mix.localhost\nsecret = s\n"
            "delivery = full, pam.example=bare\n")
        settings = parse(["--config", path], environ={})
        self.assertEqual(settings.delivery, "full")
        self.assertEqual(settings.deliveryDomains, (("pam.example", "bare"),))

    def test_commandLineBeatsFile(self):
        path = self.writeConfig(
            "[mix]\njid = mix.localhost\nsecret = s\ndelivery = full\n")
        settings = parse(["--config", path, "--delivery", "bare"],
                         environ={})
        self.assertEqual(settings.delivery, "bare")
        self.assertEqual(settings.deliveryDomains, ())

    def test_wired(self):
        """
        The settings reach the routing the handlers use.
        """
        from twisted.internet.task import Clock
        from mixtwisted.store.memory import MemoryStore
        from mixtwisted.wiring import makeHandlers
        from mixtwisted.handlers.routing import RoutingHandler
        settings = parse(["--jid", "mix.localhost", "--delivery",
                          "full,pam.example=bare"])
        _, handlers = makeHandlers(settings, MemoryStore(), Clock(),
                                   lambda stanza: None)
        routing = [h for h in handlers
                   if isinstance(h, RoutingHandler)][0].routing
        self.assertEqual("full", routing.modeOf("a@other.example"))
        self.assertEqual("bare", routing.modeOf("a@pam.example"))
