"""
Command line and configuration file of C{twistd mix}.

C{twistd mix --jid mix.example.org} runs the MIX channel service as an
XEP-0114 external component: it connects to the XMPP server's component port
(C{--rhost}/C{--rport}), authenticates with the shared secret and serves
channels under its JID.

Every setting can come from three places, strongest first:

  1. the command line;
  2. the C{[mix]} section of the INI file named by C{--config};
  3. the built-in default (see L{mixtwisted.settings.Settings}).

The shared secret is special: it is read from C{--secret}, C{--secret-file},
the file's C{secret} / C{secret-file} keys, and finally the C{MIX_SECRET}
environment variable.  C{--secret} is convenient for trying things out but
puts the secret in the process list (C{ps}); prefer C{--secret-file} or
C{MIX_SECRET} in production.

L{Options.postOptions} checks everything up front, so that an operator mistake
(bad JID, bad port, missing secret, unknown backend) ends with a one-line
usage error instead of a traceback or a component that silently never logs in.
The result is a L{Settings} in C{options['settings']}, which L{makeService}
hands to L{mixtwisted.wiring.makeComponent}.
"""

import configparser
import os

from twisted.python import usage
from twisted.words.protocols.jabber import jid as jabberjid

from mixtwisted.settings import Limits, Settings

#: Environment variable read for the secret when no option gives one.
SECRET_ENV = "MIX_SECRET"

#: Storage backends the command line accepts.
BACKENDS = ("memory", "pgsql")

#: Keys allowed in the C{[mix]} section of a configuration file.
CONFIG_KEYS = (
    "jid",
    "secret",
    "secret-file",
    "rhost",
    "rport",
    "backend",
    "dsn",
    "name",
    "creators",
    "admins",
    "muc-mirror",
    "verbose",
    "delivery",
    "max-nick-length",
    "max-channel-name-length",
    "max-message-bytes",
    "max-pending-per-recipient",
    "max-pending-age",
)

#: Limit options: option name -> attribute of L{Limits}.
LIMIT_KEYS = {
    "max-nick-length": "maxNickLength",
    "max-channel-name-length": "maxChannelNameLength",
    "max-message-bytes": "maxMessageBytes",
    "max-pending-per-recipient": "maxPendingPerRecipient",
    "max-pending-age": "maxPendingAge",
}

_DEFAULTS = Settings()
_DEFAULT_LIMITS = Limits()


def _parseJID(value, what):
    """
    Parse C{value} as a JID, or raise a L{usage.UsageError} naming C{what}.

    @return: the parsed L{jabberjid.JID} (normalised by stringprep).
    """
    value = value.strip()
    if not value:
        raise usage.UsageError("%s: empty JID" % (what,))
    try:
        return jabberjid.JID(value)
    except (jabberjid.InvalidFormat, UnicodeError) as e:
        raise usage.UsageError("%s: invalid JID %r (%s)" % (what, value, e))


def parseDomain(value, what):
    """
    Parse a domain-only JID such as C{mix.example.org}.

    A component address, and a MUC mirror address, have neither a local part
    nor a resource; accepting C{user@host} there would only produce a
    component the XMPP server refuses.

    @return: the normalised domain.
    @raise usage.UsageError: if C{value} is not a bare domain.
    """
    parsed = _parseJID(value, what)
    if parsed.user is not None or parsed.resource is not None:
        raise usage.UsageError(
            "%s: %r must be a domain, without '@' or '/'" % (what, value)
        )
    return parsed.host


def parseBareJID(value, what):
    """
    Parse a bare JID C{user@host}: the identity of an operator.

    @return: the normalised bare JID.
    @raise usage.UsageError: if C{value} is not a bare JID with a local part.
    """
    parsed = _parseJID(value, what)
    if parsed.user is None or parsed.resource is not None:
        raise usage.UsageError(
            "%s: %r must be a bare JID of the form user@domain" % (what, value)
        )
    return parsed.userhost()


def parseJIDList(value, what, allowDomains):
    """
    Parse a comma-separated list of bare JIDs (and domains if allowed).

    @return: a tuple of normalised bare JIDs / domains, in the given order,
        without duplicates.
    """
    result = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        if allowDomains:
            parsed = _parseJID(part, what)
            if parsed.resource is not None:
                raise usage.UsageError(
                    "%s: %r must be a bare JID or a domain, without '/'"
                    % (what, part)
                )
            normalised = parsed.userhost()
        else:
            normalised = parseBareJID(part, what)
        if normalised not in result:
            result.append(normalised)
    return tuple(result)


def parseCreators(value):
    """
    Parse the channel creation policy.

    @return: C{None} for C{any} (anybody may create channels), otherwise the
        tuple of bare JIDs and domains that may.
    """
    if value.strip().lower() == "any":
        return None
    creators = parseJIDList(value, "creators", allowDomains=True)
    if not creators:
        raise usage.UsageError(
            "creators: give 'any' or a comma-separated list of JIDs/domains"
        )
    return creators


def parsePort(value, what="rport"):
    """
    Parse a TCP port number (1-65535).
    """
    try:
        port = int(str(value).strip())
    except ValueError:
        raise usage.UsageError("%s: %r is not a port number" % (what, value))
    if not 0 < port < 65536:
        raise usage.UsageError("%s: %d is not in 1-65535" % (what, port))
    return port


def parsePositiveInt(value, what):
    """
    Parse a strictly positive integer (the size limits).
    """
    try:
        number = int(str(value).strip())
    except ValueError:
        raise usage.UsageError("%s: %r is not a whole number" % (what, value))
    if number < 1:
        raise usage.UsageError("%s: must be at least 1, not %d" % (what, number))
    return number


def parseBool(value, what):
    """
    Parse a configuration file boolean (yes/no, true/false, on/off, 1/0).
    """
    lowered = str(value).strip().lower()
    if lowered in ("1", "yes", "true", "on"):
        return True
    if lowered in ("0", "no", "false", "off"):
        return False
    raise usage.UsageError("%s: %r is not a boolean (yes/no)" % (what, value))


#: Delivery modes (L{mixtwisted.routing}; kept here as strings so that
#: parsing options imports no Twisted Words code).
DELIVERY_MODES = ("bare", "full", "auto")


def parseDelivery(value, what="delivery"):
    """
    Parse the delivery setting: a comma-separated list of a mode (the
    default for every user domain) and C{DOMAIN=MODE} overrides, e.g.
    C{auto,prosody.example=full}.  Modes: C{bare}, C{full}, C{auto}.

    @return: C{(default mode or None, ((domain, mode), ...))}, overrides
        in the order given, each domain once.
    @raise usage.UsageError: on an unknown mode, a domain given twice, a
        domain that is not a domain, two defaults.
    """
    default = None
    overrides = {}
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        domain, sep, mode = part.rpartition("=")
        mode = mode.strip().lower()
        if mode not in DELIVERY_MODES:
            raise usage.UsageError(
                "%s: %r is not a delivery mode (%s)"
                % (what, mode, "|".join(DELIVERY_MODES)))
        if not sep:
            if default is not None:
                raise usage.UsageError(
                    "%s: two default modes (%s, %s)" % (what, default, mode))
            default = mode
            continue
        domain = parseDomain(domain, what)
        if domain in overrides:
            raise usage.UsageError("%s: %s given twice" % (what, domain))
        overrides[domain] = mode
    return default, tuple(overrides.items())


def readSecretFile(path, what="secret-file"):
    """
    Read a shared secret from C{path}.

    Only the trailing line break (as left by editors and C{echo}) is removed:
    other white space may be part of the secret.

    @raise usage.UsageError: if the file cannot be read or is empty.
    """
    try:
        with open(path, encoding="utf-8") as f:
            secret = f.read()
    except (OSError, UnicodeError) as e:
        raise usage.UsageError("%s: cannot read %r: %s" % (what, path, e))
    secret = secret.rstrip("\r\n")
    if not secret:
        raise usage.UsageError("%s: %r is empty" % (what, path))
    return secret


def readConfig(path):
    """
    Read the C{[mix]} section of the INI file at C{path}.

    Interpolation is off, so a C{%} in a secret is taken literally.  Unknown
    keys are refused, so that a misspelt setting is not silently ignored.
    A relative C{secret-file} is resolved against the file's directory.

    @return: a C{dict} of the keys present (values as strings).
    @raise usage.UsageError: on a missing file, a syntax error, a missing
        C{[mix]} section or an unknown key.
    """
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as f:
            parser.read_file(f, source=path)
    except (OSError, UnicodeError) as e:
        raise usage.UsageError("config: cannot read %r: %s" % (path, e))
    except configparser.Error as e:
        raise usage.UsageError("config: %r is not a valid INI file: %s" % (path, e))
    if not parser.has_section("mix"):
        raise usage.UsageError("config: %r has no [mix] section" % (path,))
    values = dict(parser.items("mix"))
    unknown = sorted(set(values) - set(CONFIG_KEYS))
    if unknown:
        raise usage.UsageError(
            "config: unknown key(s) in [mix] of %r: %s (known: %s)"
            % (path, ", ".join(unknown), ", ".join(CONFIG_KEYS))
        )
    if values.get("secret-file"):
        values["secret-file"] = os.path.join(
            os.path.dirname(os.path.abspath(path)), values["secret-file"]
        )
    return values


class Options(usage.Options):
    """
    Options of C{twistd mix}.

    Parameter defaults are C{None} here (the real defaults are in
    L{Settings}) so that L{postOptions} can tell an option given on the command
    line, which wins, from one left out, which the configuration file may set.
    """

    synopsis = "--jid DOMAIN [options]"

    longdesc = (
        "Run a MIX (XEP-0369) channel service as an external component "
        "(XEP-0114) of an XMPP server.  The shared secret comes from "
        "--secret, --secret-file, the config file or the %s environment "
        "variable (--secret is visible in the process list: prefer the "
        "others).  Command line options override the [mix] section of "
        "--config." % (SECRET_ENV,)
    )

    optFlags = [
        ["verbose", "v", "Log every stanza sent and received."],
    ]

    optParameters = [
        ["jid", "j", None, "JID (domain) of the MIX service, e.g. "
         "mix.example.org. Required."],
        ["secret", "s", None, "Component secret shared with the XMPP server. "
         "Visible in 'ps': prefer --secret-file or %s." % (SECRET_ENV,)],
        ["secret-file", None, None, "Read the component secret from this "
         "file (trailing newline removed)."],
        ["rhost", None, None, "XMPP server host to connect to "
         "[default: %s]." % (_DEFAULTS.rhost,)],
        ["rport", None, None, "XMPP server component port "
         "[default: %d]." % (_DEFAULTS.rport,)],
        ["backend", None, None, "Storage backend: %s [default: %s]."
         % ("|".join(BACKENDS), _DEFAULTS.backend)],
        ["dsn", None, None, "PostgreSQL connection string (pgsql backend)."],
        ["config", "c", None, "Read settings from the [mix] section of this "
         "INI file; command line options override it."],
        ["name", None, None, "Service name shown in service discovery "
         "[default: %s]." % (_DEFAULTS.name,)],
        ["creators", None, None, "Who may create channels: 'any' or a comma "
         "list of bare JIDs and domains [default: any]."],
        ["admins", None, None, "Comma list of bare JIDs of service "
         "administrators (owner rights on every channel)."],
        ["muc-mirror", None, None, "Domain of a MUC mirror service to "
         "advertise in service discovery."],
        ["delivery", None, None, "How channel traffic reaches users: a mode "
         "for every domain and/or DOMAIN=MODE overrides, comma-separated; "
         "modes: bare (to the bare JID: MIX-PAM servers), full (to the "
         "full JIDs of clients that sent presence to the channel), auto "
         "(ask each user domain) [default: %s]." % (_DEFAULTS.delivery,)],
        ["max-nick-length", None, None, "Longest nick, in characters "
         "[default: %d]." % (_DEFAULT_LIMITS.maxNickLength,)],
        ["max-channel-name-length", None, None, "Longest channel name, in "
         "characters [default: %d]." % (_DEFAULT_LIMITS.maxChannelNameLength,)],
        ["max-message-bytes", None, None, "Largest groupchat message, in "
         "bytes [default: %d]." % (_DEFAULT_LIMITS.maxMessageBytes,)],
        ["max-pending-per-recipient", None, None, "Most messages kept for "
         "retransmission to one participant whose server bounced them "
         "[default: %d]." % (_DEFAULT_LIMITS.maxPendingPerRecipient,)],
        ["max-pending-age", None, None, "Seconds a participant's server may "
         "stay unreachable before its pending messages are dropped "
         "[default: %d]." % (_DEFAULT_LIMITS.maxPendingAge,)],
    ]

    def __init__(self, environ=None):
        """
        @param environ: the environment to read C{MIX_SECRET} from;
            C{os.environ} when C{None} (tests pass their own).
        """
        usage.Options.__init__(self)
        self.environ = os.environ if environ is None else environ

    def opt_version(self):
        """
        Display the mixtwisted version and exit.
        """
        from mixtwisted import __version__

        print("mixtwisted %s" % (__version__,))
        raise SystemExit(0)

    def _setting(self, key, fileValues):
        """
        The value of setting C{key}: command line, else config file, else
        C{None}.
        """
        value = self.get(key)
        if value is not None:
            return value
        return fileValues.get(key)

    def _secret(self, fileValues):
        """
        Find the component secret, strongest source first.
        """
        if self["secret"] is not None and self["secret-file"] is not None:
            raise usage.UsageError("give --secret or --secret-file, not both")
        if self["secret"] is not None:
            if not self["secret"]:
                raise usage.UsageError("--secret: empty secret")
            return self["secret"]
        if self["secret-file"] is not None:
            return readSecretFile(self["secret-file"], "--secret-file")
        if fileValues.get("secret") and fileValues.get("secret-file"):
            raise usage.UsageError(
                "config: give secret or secret-file in [mix], not both"
            )
        if fileValues.get("secret"):
            return fileValues["secret"]
        if fileValues.get("secret-file"):
            return readSecretFile(fileValues["secret-file"],
                                  "config secret-file")
        secret = self.environ.get(SECRET_ENV)
        if secret:
            return secret
        raise usage.UsageError(
            "no component secret: give --secret-file FILE, set %s, or "
            "--secret SECRET" % (SECRET_ENV,)
        )

    def postOptions(self):
        """
        Merge command line, configuration file and defaults; validate; store
        the resulting L{Settings} in C{self['settings']}.
        """
        fileValues = {}
        if self["config"] is not None:
            fileValues = readConfig(self["config"])

        domain = self._setting("jid", fileValues)
        if not domain:
            raise usage.UsageError(
                "--jid is required: the component's domain, e.g. "
                "mix.example.org"
            )
        domain = parseDomain(domain, "jid")

        secret = self._secret(fileValues)

        rhost = self._setting("rhost", fileValues) or _DEFAULTS.rhost
        rhost = rhost.strip()

        rport = self._setting("rport", fileValues)
        rport = _DEFAULTS.rport if rport is None else parsePort(rport)

        backend = (self._setting("backend", fileValues)
                   or _DEFAULTS.backend).strip().lower()
        if backend not in BACKENDS:
            raise usage.UsageError(
                "backend: %r is not one of %s" % (backend, ", ".join(BACKENDS))
            )
        dsn = self._setting("dsn", fileValues) or _DEFAULTS.dsn
        if backend == "pgsql" and not dsn:
            raise usage.UsageError("--dsn is required with --backend pgsql")

        name = self._setting("name", fileValues)
        if name is None or not name.strip():
            name = _DEFAULTS.name
        name = name.strip()

        creators = self._setting("creators", fileValues)
        creators = None if creators is None else parseCreators(creators)

        admins = self._setting("admins", fileValues)
        admins = () if admins is None else parseJIDList(
            admins, "admins", allowDomains=False)

        mirror = self._setting("muc-mirror", fileValues)
        mirror = parseDomain(mirror, "muc-mirror") if mirror else None

        if self["verbose"]:
            verbose = True
        elif fileValues.get("verbose") is not None:
            verbose = parseBool(fileValues["verbose"], "verbose")
        else:
            verbose = _DEFAULTS.verbose

        delivery, deliveryDomains = _DEFAULTS.delivery, ()
        value = self._setting("delivery", fileValues)
        if value is not None:
            default, deliveryDomains = parseDelivery(value)
            if default is not None:
                delivery = default

        limits = Limits()
        for key, attribute in LIMIT_KEYS.items():
            value = self._setting(key, fileValues)
            if value is not None:
                setattr(limits, attribute, parsePositiveInt(value, key))

        self["settings"] = Settings(
            domain=domain,
            secret=secret,
            rhost=rhost,
            rport=rport,
            backend=backend,
            dsn=dsn,
            name=name,
            creators=creators,
            admins=admins,
            mucMirror=mirror,
            verbose=verbose,
            delivery=delivery,
            deliveryDomains=deliveryDomains,
            limits=limits,
        )


def makeService(options):
    """
    Build the component service from parsed L{Options}.

    L{mixtwisted.wiring} (and with it wokkel) is imported only here, so that
    parsing options and C{twistd --help} stay cheap.  A C{ValueError} from
    the wiring (an unsupported backend, say) becomes a one-line
    C{SystemExit}, which twistd prints before exiting non-zero instead of
    dumping a traceback.
    """
    from mixtwisted import wiring

    try:
        return wiring.makeComponent(options["settings"])
    except ValueError as e:
        raise SystemExit("twistd mix: error: %s" % (e,))
