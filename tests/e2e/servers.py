"""
Real XMPP servers for the end-to-end tests: Prosody and ejabberd, from
Debian's packages, run as the current user (root in CI) out of the test's
temporary directory.

Each server gets a configuration written for the test: its own data, log
and spool directories under the test's directory (never the packages'
C{/etc} or C{/var/lib}); a client port and a component port, free ports on
127.0.0.1 chosen at run time; one user domain (C{prosody.localhost} or
C{ejabberd.localhost}) and the external component C{mix.<domain>} with a
secret made up for the test; no TLS (the clients log in with SCRAM over
plain TCP on loopback) and, unless asked for (below), no server-to-server
port.  User accounts are created with the servers' own tools.
L{XMPPServer.stop} stops the server (C{TERM}, then C{KILL}).

A server given a L{tests.e2e.names.LoopbackDNS} (the C{dns} argument)
also takes server-to-server (s2s) connections, on one more free port of
127.0.0.1, which it publishes in that DNS (the SRV records of its user
domain and of its component's domain), and looks up the other servers'
domains there: Prosody through libunbound (C{lua-unbound}, the resolver
Debian's package recommends; its C{unbound} setting forwards every query
to the test's DNS, reads neither C{/etc/resolv.conf} nor C{/etc/hosts},
and lets the names under C{localhost.} through, which libunbound
otherwise answers itself without asking anyone), ejabberd through
Erlang's resolver (an C{inetrc} file naming the test's DNS as the only
nameserver).  Without TLS (no certificates) the servers authenticate each
other with dialback (XEP-0220), which needs nothing but that DNS (ejabberd
first tries SASL EXTERNAL, is refused, and falls back to dialback).

Prosody: C{prosodyctl --config FILE register} works on the stored accounts
without a running server, then C{prosody --config FILE -F} runs in the
foreground.  When started as root both would switch to the C{prosody}
user, which cannot read the test's directory; C{run_as_root = true} in the
configuration keeps them as the current user.

ejabberd: C{/usr/sbin/ejabberdctl} cannot be used as it is: run as root it
re-runs itself as the C{ejabberd} user with C{su} (which then cannot write
the test's directory, and whose Erlang cookie is not ours), it reads
C{/etc/ejabberd/ejabberdctl.cfg} unless told otherwise, and any other user
is refused.  So the tests start the Erlang VM the way C{ejabberdctl
foreground} does (C{erl ... -mnesia dir SPOOL -s ejabberd -noinput} with
C{EJABBERD_CONFIG_PATH}, C{EJABBERD_LOG_PATH} and the package's C{ERL_LIBS},
both read from the C{ejabberdctl} script), as the current user, and run
account commands the way C{ejabberdctl register} does (a hidden Erlang node
calling C{ejabberd_ctl}).  The node name is unique per test
(C{mixe2e<pid><random>@localhost}), the cookie is random, and the node
takes control connections on a port of its own on 127.0.0.1
(C{-erl_epmd_port}, C{-start_epmd false}), where the control nodes reach
it without asking C{epmd}: no C{epmd} is needed nor started, and one that
already runs (it is shared by the machine's Erlang nodes) only sees the
unique name registered while the test runs.  Parallel runs and other
Erlang nodes never meet.
"""

import os
import re
import secrets
import shutil
import subprocess

from twisted.internet import defer

from tests.e2e.processes import (
    ChildProcess, freePorts, runCommand, sleep, waitForPort)


def luaString(value):
    """
    C{value} as a Lua string literal.
    """
    return '"%s"' % (value.replace("\\", "\\\\").replace('"', '\\"'),)


def yamlString(value):
    """
    C{value} as a YAML double-quoted string.
    """
    return '"%s"' % (value.replace("\\", "\\\\").replace('"', '\\"'),)


class XMPPServer:
    """
    An XMPP server run by a test.

    @ivar domain: the user domain it hosts.
    @ivar mixDomain: the domain of the external component (the MIX service).
    @ivar secret: the component's secret.
    @ivar c2sPort: the client port on 127.0.0.1.
    @ivar componentPort: the component port on 127.0.0.1.
    @ivar sparePort: a third free port, for a server that needs one.
    @ivar dns: the L{tests.e2e.names.LoopbackDNS} the server uses and is
        published in, or C{None} (no s2s).
    @ivar s2sPort: the s2s port on 127.0.0.1 (only used with C{dns}).
    @ivar process: the server's L{ChildProcess}, once started.
    """

    #: Short name, used in file and process names.
    name = None

    def __init__(self, workdir, domain, dns=None):
        self.workdir = os.path.abspath(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.domain = domain
        self.mixDomain = "mix." + domain
        self.secret = secrets.token_hex(12)
        (self.c2sPort, self.componentPort, self.sparePort,
         self.s2sPort) = freePorts(4)
        self.dns = dns
        if dns is not None:
            dns.addXMPPServer(self.domain, self.s2sPort)
            dns.addXMPPServer(self.mixDomain, self.s2sPort)
        self.process = None
        self.commands = []

    @classmethod
    def skipReason(cls):
        """
        @return: why this server cannot be run here, or C{None}.
        """
        raise NotImplementedError()

    @classmethod
    def s2sSkipReason(cls):
        """
        @return: why this server cannot take part in s2s tests here (with
            a L{tests.e2e.names.LoopbackDNS}), or C{None}.
        """
        return cls.skipReason()

    def path(self, *parts):
        """
        A path in the server's directory.
        """
        return os.path.join(self.workdir, *parts)

    def start(self, users):
        """
        Start the server with the accounts C{users} (localpart: password).

        @return: a Deferred firing when both ports take connections.
        """
        raise NotImplementedError()

    @defer.inlineCallbacks
    def _waitListening(self):
        yield waitForPort(self.c2sPort, self.process, "the client port")
        yield waitForPort(self.componentPort, self.process,
                          "the component port")
        if self.dns is not None:
            yield waitForPort(self.s2sPort, self.process, "the s2s port")

    def stop(self):
        """
        Stop the server; never fails.
        """
        if self.process is None:
            return defer.succeed(None)
        return self.process.stop()

    def describe(self):
        """
        The server's output, for failure messages.
        """
        if self.process is None:
            return "--- %s: not started ---" % (self.name,)
        return self.process.describe()

    def run(self, name, argv, env=None, path=None):
        """
        Run one of the server's tools to its end.
        """
        index = len(self.commands) + 1
        self.commands.append(name)
        return runCommand(
            "%s %s" % (self.name, name), argv,
            env if env is not None else dict(os.environ),
            path or self.workdir,
            self.path("command-%d-%s.out" % (index, name)))


class Prosody(XMPPServer):
    """
    Prosody (Debian's C{prosody} package).
    """

    name = "prosody"

    @classmethod
    def skipReason(cls):
        for program in ("prosody", "prosodyctl"):
            if shutil.which(program) is None:
                return ("Prosody is not installed (no %s on PATH; on Debian:"
                        " apt-get install prosody)" % (program,))
        return None

    @classmethod
    def s2sSkipReason(cls):
        """
        Prosody finds the other servers through libunbound: without
        C{lua-unbound} it falls back to a resolver that only reads
        C{/etc/resolv.conf} (port 53), which the test cannot point at its
        own DNS.
        """
        reason = cls.skipReason()
        if reason is not None:
            return reason
        interpreter = cls.luaInterpreter()
        try:
            found = subprocess.run(
                interpreter + ["-e", 'require "lunbound"'],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, timeout=10).returncode == 0
        except (OSError, subprocess.SubprocessError):
            found = False
        if not found:
            return ("Prosody's Lua (%s) has no lunbound module, which s2s "
                    "with the test's DNS needs (on Debian: apt-get install "
                    "lua-unbound)" % (" ".join(interpreter),))
        return None

    @classmethod
    def luaInterpreter(cls):
        """
        The command line of the Lua interpreter C{prosody} runs on, from
        its C{#!} line (Debian: C{/usr/bin/env lua5.4}).
        """
        try:
            with open(shutil.which("prosody"), "rb") as f:
                first = f.readline().decode("utf-8", "replace")
        except (OSError, TypeError):
            first = ""
        if first.startswith("#!") and first[2:].split():
            return first[2:].split()
        return ["lua"]

    def writeConfig(self):
        """
        Write C{prosody.cfg.lua}.
        """
        for directory in ("data", "certs"):
            os.makedirs(self.path(directory), exist_ok=True)
        self.config = self.path("prosody.cfg.lua")
        lines = [
            "-- Written by tests/e2e/servers.py for one test.",
            "run_as_root = true",
            "daemonize = false",
            "data_path = %s" % luaString(self.path("data")),
            "certificates = %s" % luaString(self.path("certs")),
            'log = { { levels = { min = "debug" }, to = "console" } }',
            'interfaces = { "127.0.0.1" }',
            "c2s_ports = { %d }" % self.c2sPort,
            "c2s_direct_tls_ports = { }",
            "legacy_ssl_ports = { }",
            "component_ports = { %d }" % self.componentPort,
            'component_interfaces = { "127.0.0.1" }',
            "c2s_require_encryption = false",
            "allow_unencrypted_plain_auth = true",
            'authentication = "internal_hashed"',
            'storage = "internal"',
        ]
        if self.dns is None:
            lines += [
                'modules_enabled = { "roster", "saslauth", "disco", "ping" }',
                'modules_disabled = { "s2s" }',
            ]
        else:
            # s2s without TLS (no certificates here), authenticated with
            # dialback; names looked up in the test's DNS only (see the
            # module's docstring).  The component inherits s2s and dialback.
            lines += [
                'modules_enabled = { "roster", "saslauth", "disco", "ping",'
                ' "dialback" }',
                "s2s_ports = { %d }" % self.s2sPort,
                's2s_interfaces = { "127.0.0.1" }',
                "s2s_direct_tls_ports = { }",
                "s2s_require_encryption = false",
                "s2s_secure_auth = false",
                "unbound = {",
                "    resolvconf = false,",
                "    hoststxt = false,",
                "    forward = { %s }," % luaString(
                    "127.0.0.1@%d" % self.dns.port),
                '    options = { ["local-zone:"] = "localhost. transparent",',
                '                ["do-not-query-localhost:"] = "no" },',
                "}",
            ]
        lines += [
            "",
            "VirtualHost %s" % luaString(self.domain),
            "",
            "Component %s" % luaString(self.mixDomain),
            "    component_secret = %s" % luaString(self.secret),
            "",
        ]
        with open(self.config, "w") as f:
            f.write("\n".join(lines))

    @defer.inlineCallbacks
    def start(self, users):
        self.writeConfig()
        for user, password in users.items():
            yield self.run("register-" + user, [
                "prosodyctl", "--config", self.config, "register",
                user, self.domain, password])
        self.process = ChildProcess(
            "prosody", ["prosody", "--config", self.config, "-F"],
            dict(os.environ), self.workdir, self.path("prosody.out"))
        self.process.start()
        yield self._waitListening()


class Ejabberd(XMPPServer):
    """
    ejabberd (Debian's C{ejabberd} package), on an Erlang VM of its own.
    """

    name = "ejabberd"

    #: Where Debian installs the control script the tests read their
    #: paths from.
    EJABBERDCTL = "/usr/sbin/ejabberdctl"

    @classmethod
    def installation(cls):
        """
        The C{erl} program and the C{ERL_LIBS} of the installed ejabberd,
        as set in its C{ejabberdctl} script.

        @return: C{(erl, erlLibs)}, or a string saying what is missing.
        """
        script = shutil.which("ejabberdctl") or cls.EJABBERDCTL
        try:
            with open(script) as f:
                text = f.read()
        except OSError:
            return ("ejabberd is not installed (no ejabberdctl; on Debian: "
                    "apt-get install ejabberd)")
        values = {}
        for key in ("ERL", "ERL_LIBS"):
            match = re.search(r"^%s=['\"]?([^'\"\n]+)['\"]?$" % key, text,
                              re.M)
            if match is None:
                return "%s does not set %s; cannot start ejabberd" % (
                    script, key)
            values[key] = match.group(1)
        erl, libs = values["ERL"], values["ERL_LIBS"]
        if not os.access(erl, os.X_OK):
            return "ejabberd's Erlang (%s) is not installed" % (erl,)
        try:
            found = [d for d in os.listdir(libs) if d.startswith("ejabberd-")
                     and os.path.isdir(os.path.join(libs, d, "ebin"))]
        except OSError:
            found = []
        if not found:
            return "no ejabberd-*/ebin under %s (ERL_LIBS of %s)" % (
                libs, script)
        return erl, libs

    @classmethod
    def skipReason(cls):
        found = cls.installation()
        return found if isinstance(found, str) else None

    def __init__(self, workdir, domain, dns=None):
        XMPPServer.__init__(self, workdir, domain, dns)
        self.erl, self.erlLibs = self.installation()
        self.node = "mixe2e%d%s@localhost" % (os.getpid(),
                                              secrets.token_hex(3))
        self.cookie = secrets.token_hex(16)
        self.distPort = self.sparePort

    def writeConfig(self):
        """
        Write C{ejabberd.yml}.
        """
        for directory in ("spool", "logs", "home"):
            os.makedirs(self.path(directory), exist_ok=True)
        self.config = self.path("ejabberd.yml")
        lines = [
            "# Written by tests/e2e/servers.py for one test.",
            "loglevel: info",
            "log_rotate_count: 0",
            "hosts:",
            "  - %s" % yamlString(self.domain),
            "listen:",
            "  -",
            "    port: %d" % self.c2sPort,
            '    ip: "127.0.0.1"',
            "    module: ejabberd_c2s",
            "    starttls_required: false",
            "  -",
            "    port: %d" % self.componentPort,
            '    ip: "127.0.0.1"',
            "    module: ejabberd_service",
            "    hosts:",
            "      %s:" % yamlString(self.mixDomain),
            "        password: %s" % yamlString(self.secret),
        ]
        if self.dns is not None:
            lines += [
                "  -",
                "    port: %d" % self.s2sPort,
                '    ip: "127.0.0.1"',
                "    module: ejabberd_s2s_in",
            ]
        lines += [
            "auth_method: internal",
            "auth_password_format: plain",
        ]
        if self.dns is None:
            lines += ["s2s_access: none"]
        else:
            # s2s without TLS (no certificates here), authenticated with
            # dialback (mod_s2s_dialback below); names looked up in the
            # test's DNS (the inetrc file), IPv4 only.
            lines += [
                "s2s_access: all",
                "s2s_use_starttls: false",
                "outgoing_s2s_families:",
                "  - ipv4",
                "s2s_dns_timeout: 5",
            ]
        lines += [
            "acl:",
            "  local:",
            '    user_regexp: ""',
            "access_rules:",
            "  local:",
            "    allow: local",
            "  c2s:",
            "    allow: all",
            "api_permissions:",
            '  "console commands":',
            "    from:",
            "      - ejabberd_ctl",
            "    who: all",
            '    what: "*"',
            # MIX-PAM for the users; ejabberd's own mod_mix is not loaded,
            # so mixtwisted is the only MIX service.  mod_mix_pam needs
            # mod_mam.
            "modules:",
            "  mod_disco: {}",
            "  mod_roster: {}",
            "  mod_mam: {}",
            "  mod_mix_pam: {}",
            "  mod_ping: {}",
        ]
        if self.dns is not None:
            lines += ["  mod_s2s_dialback: {}"]
        lines += [""]
        with open(self.config, "w") as f:
            f.write("\n".join(lines))
        if self.dns is not None:
            self.writeInetrc()

    def writeInetrc(self):
        """
        Write the Erlang resolver's configuration (C{inetrc}): the test's
        DNS is its only nameserver.  ejabberd's s2s (p1_xmpp's
        C{xmpp_stream_out}) looks up SRV records with C{inet_res}, which
        asks it (the SRV targets are address literals: the target's address
        is looked up with the C library's C{getaddrinfo}, which no
        configuration of ours reaches; see L{tests.e2e.names}).
        C{resolv_conf} comes first and is empty: otherwise the system's
        C{/etc/resolv.conf}, read after this file, replaces the nameserver.
        """
        self.inetrc = self.path("inetrc")
        with open(self.inetrc, "w") as f:
            f.write('{resolv_conf, ""}.\n'
                    "{nameserver, {127,0,0,1}, %d}.\n" % (self.dns.port,))

    def environment(self):
        """
        The environment of the Erlang VMs (server and control nodes).
        """
        env = dict(os.environ)
        env.update({
            "HOME": self.path("home"),
            "ERL_LIBS": self.erlLibs,
            "EJABBERD_CONFIG_PATH": self.config,
            "EJABBERD_LOG_PATH": self.path("logs", "ejabberd.log"),
            "ERL_CRASH_DUMP": self.path("logs", "erl_crash.dump"),
            "ERL_CRASH_DUMP_BYTES": "0",
            "CONTRIB_MODULES_PATH": self.path("home", "modules"),
        })
        return env

    def distribution(self):
        """
        The Erlang arguments every node of this test's ejabberd shares:
        cookie and distribution port, no epmd.
        """
        return ["-setcookie", self.cookie,
                "-erl_epmd_port", str(self.distPort),
                "-start_epmd", "false"]

    def ctl(self, name, *args):
        """
        Run C{ejabberdctl ARGS} against the test's node.
        """
        argv = [self.erl, "-sname",
                "ctl%s@localhost" % (secrets.token_hex(4),)]
        argv += self.distribution()
        argv += ["-dist_listen", "false", "-hidden", "-noinput",
                 "-s", "ejabberd_ctl", "-extra", self.node] + list(args)
        return self.run(name, argv, env=self.environment(),
                        path=self.path("spool"))

    @defer.inlineCallbacks
    def start(self, users):
        self.writeConfig()
        argv = [self.erl, "-sname", self.node] + self.distribution() + [
            "-kernel", "inet_dist_use_interface", "{127,0,0,1}"]
        if self.dns is not None:
            argv += ["-kernel", "inetrc", '"%s"' % (self.inetrc,)]
        argv += [
            "-mnesia", "dir", '"%s"' % (self.path("spool"),),
            "-s", "ejabberd", "-noinput"]
        self.process = ChildProcess(
            "ejabberd", argv, self.environment(), self.path("spool"),
            self.path("ejabberd.out"))
        self.process.start()
        # The listeners may take connections before every Mnesia table is
        # there; ejabberd says when it is started.
        yield self.process.waitForOutput(
            r"ejabberd \S+ is started in the node",
            "'ejabberd ... is started in the node'")
        yield self._waitListening()
        for user, password in users.items():
            yield self.register(user, password)

    @defer.inlineCallbacks
    def register(self, user, password, attempts=3):
        """
        C{ejabberdctl register}, tried again (after half a second) if it
        fails, as long as the server runs.
        """
        for attempt in range(1, attempts + 1):
            try:
                yield self.ctl("register-%s-%d" % (user, attempt),
                               "register", user, self.domain, password)
                return
            except AssertionError:
                if attempt == attempts or not self.process.running:
                    raise
                yield sleep(0.5)
