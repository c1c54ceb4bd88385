"""
A slixmpp client driven over stdin/stdout, run as a child process by
L{tests.e2e.clients}.

    python tests/e2e/slixclient.py

reads its account from the environment (C{E2E_JID}, C{E2E_PASSWORD},
C{E2E_HOST}, C{E2E_PORT}), logs in to the server there (plain TCP on
loopback: no TLS, SCRAM over the unencrypted stream), sends its initial
presence and prints one JSON object per line on stdout:

    {"event": "online", "jid": "<bound full JID>"}
    {"event": "stanza", "xml": "<message .../>"}     every message/presence
    {"event": "mix_message", "xml": "<message .../>", "from": "...",
     "nick": "...", "jid": "..."}
        slixmpp's XEP-0369 C{mix_message} event (a groupchat message with
        C{<mix xmlns='urn:xmpp:mix:core:1'>}), with what slixmpp reads
        from it: C{msg['from']}, C{msg['mix']['nick']},
        C{msg['mix']['jid']} (C{null} when empty);
    {"event": "mix_presence", "xml": "<presence .../>", ...}
        slixmpp's XEP-0403 C{mix_presence} event (a presence with
        C{<mix xmlns='urn:xmpp:mix:presence:0'>}), the same fields;
    {"event": "reply", "n": 3, "ok": true, "xml": "<iq .../>"}
    {"event": "offline", "reason": "..."}

and takes one command per line on stdin:

    {"n": 1, "op": "iq", "xml": "<iq xmlns='jabber:client' .../>", "timeout": 10}
        send the IQ; reply with the response (result or error) as XML;
    {"n": 2, "op": "send", "xml": "<message xmlns='jabber:client' .../>"}
        send any stanza as it is;
    {"n": 3, "op": "disco_info" | "disco_items", "jid": "...", "node": "..."}
        ask with slixmpp's XEP-0030 plugin;
    {"n": 4, "op": "mam", "jid": "...", "max": 2}
        page through an archive with slixmpp's XEP-0313 iterator (RSM pages
        of C{max}); the reply's C{"messages"} lists each result message;
    {"n": 5, "op": "pam_join", "jid": "...", "nick": "...", "nodes": [...]}
        join a channel through the user's server with slixmpp's XEP-0405
        plugin; the reply has C{"failed"} (nodes not subscribed), or
        C{"xml"} (the error response);
    {"n": 6, "op": "disconnect"}
        cancel the commands still waiting, close the stream and exit.

and these, each one call of a slixmpp MIX plugin method (XEP-0369
C{xep_0369}, XEP-0405 C{xep_0405}), whose reply has C{"error"} (the error
response, as XML) when the service answered with an error:

    {"op": "can_create_channel", "jid": "<service>"}   -> {"value": bool}
    {"op": "create_channel", "jid": "<service>", "name": "coven"}
                                                       -> {"channel": name}
    {"op": "join_channel", "jid": "<channel>", "nick": "...", "nodes": [...]}
        -> {"xml": the result IQ}: C{join_channel} returns nothing usable
        (slixmpp 1.17 returns C{result - requested}, always empty), so the
        result is taken from the IQ callback slixmpp passes it to;
    {"op": "set_nick", "jid": "<channel>", "nick": "..."} -> {"nick": ...}
    {"op": "update_subscription", "jid": "<channel>", "subscribe": [...],
     "unsubscribe": [...]}
        -> {"failed_subscribe": [...], "failed_unsubscribe": [...]}
    {"op": "list_participants", "jid": "<channel>"}
        -> {"participants": [[id, nick, jid or null], ...]}
    {"op": "pam_leave", "jid": "<channel>"}  XEP-0405 C{leave_channel}
        -> {"xml": the result IQ}

Commands run concurrently; every reply carries the C{n} of its command.

When stdin closes the client disconnects and exits too, so that it never
outlives the test that started it; the test kills it anyway in its cleanup.

It is a child process rather than slixmpp on an asyncio loop inside the
trial process because slixmpp runs on asyncio and trial on Twisted's
default reactor: a process keeps the two event loops, their signal
handling and their failures apart, can always be killed, and is the same
kind of thing as the client it stands for.
"""

import asyncio
import json
import os
import sys
import xml.etree.ElementTree as ET

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.stanza import Iq
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import StanzaPath

#: The longest any command waits for the server, in seconds.
DEFAULT_TIMEOUT = 15


def emit(**event):
    """
    Write one event line to stdout (nothing if the test has gone).
    """
    try:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        pass


class DrivenClient(slixmpp.ClientXMPP):
    """
    A client that reports what it receives and does what it is told.
    """

    #: slixmpp's MIX events reported to the test (XEP-0369, XEP-0403).
    MIX_EVENTS = ("mix_message", "mix_presence")

    def __init__(self, jid, password):
        slixmpp.ClientXMPP.__init__(self, jid, password)
        # Loopback only: plain TCP, no STARTTLS, no direct TLS; SCRAM may
        # then be used without TLS.
        self.enable_direct_tls = False
        self.enable_starttls = False
        self.enable_plaintext = True
        self.plugin["feature_mechanisms"].unencrypted_scram = True
        for plugin in ("xep_0030", "xep_0059", "xep_0297", "xep_0313",
                       "xep_0369", "xep_0403", "xep_0405"):
            self.register_plugin(plugin)
        self.online = asyncio.get_event_loop().create_future()
        self.add_event_handler("session_start", self.onSessionStart)
        self.add_event_handler("failed_auth", self.onFailedAuth)
        self.add_event_handler("disconnected", self.onDisconnected)
        for kind in ("message", "presence"):
            self.register_handler(Callback(
                "e2e-" + kind, StanzaPath(kind), self.onStanza))
        for name in self.MIX_EVENTS:
            self.add_event_handler(name, self.mixEventReporter(name))

    async def onSessionStart(self, event):
        self.send_presence()
        await self.get_roster()
        emit(event="online", jid=str(self.boundjid))
        if not self.online.done():
            self.online.set_result(None)

    def onFailedAuth(self, event):
        emit(event="offline", reason="authentication failed")
        if not self.online.done():
            self.online.set_exception(RuntimeError("authentication failed"))

    def onDisconnected(self, reason):
        emit(event="offline", reason=str(reason or "disconnected"))
        if not self.online.done():
            self.online.set_exception(RuntimeError("disconnected"))

    def onStanza(self, stanza):
        emit(event="stanza", xml=str(stanza))

    @staticmethod
    def mixEventReporter(name):
        """
        A handler of slixmpp's event C{name} that reports the stanza and
        what slixmpp's C{mix} stanza plugin reads from it.
        """
        def report(stanza):
            mix = stanza["mix"]
            emit(event=name, xml=str(stanza), **{
                "from": str(stanza["from"]),
                "nick": mix["nick"] or None,
                "jid": str(mix["jid"]) or None,
            })
        return report

    async def run(self, command):
        """
        Do C{command}; return the fields of its reply.  An error response
        to a plugin's request is reported as C{"error"}.
        """
        operation = getattr(self, "op_" + command["op"], None)
        if operation is None:
            raise ValueError("unknown op %r" % (command["op"],))
        try:
            return await operation(command,
                                   command.get("timeout", DEFAULT_TIMEOUT))
        except IqError as e:
            return {"error": str(e.iq)}

    # Raw stanzas and generic plugins.

    async def op_iq(self, command, timeout):
        iq = Iq(self, xml=ET.fromstring(command["xml"]))
        if not iq["id"]:
            iq["id"] = self.new_id()
        return {"xml": str(await self.ask(iq.send(timeout=timeout)))}

    async def op_send(self, command, timeout):
        self.send_raw(command["xml"])
        return {}

    async def op_disco_info(self, command, timeout):
        return await self.disco(self.plugin["xep_0030"].get_info, command,
                                timeout)

    async def op_disco_items(self, command, timeout):
        return await self.disco(self.plugin["xep_0030"].get_items, command,
                                timeout)

    async def disco(self, ask, command, timeout):
        response = await self.ask(ask(
            jid=command["jid"], node=command.get("node"), timeout=timeout))
        return {"xml": str(response)}

    async def op_mam(self, command, timeout):
        iterator = self.plugin["xep_0313"].iterate(
            jid=command["jid"], rsm={"max": command.get("max", 10)})

        async def collect():
            return [str(message) async for message in iterator]

        return {"messages": await asyncio.wait_for(collect(), timeout)}

    async def op_disconnect(self, command, timeout):
        await self.disconnect(wait=2)
        return {}

    # XEP-0405, MIX-PAM: through the user's own server.

    async def op_pam_join(self, command, timeout):
        # urn:xmpp:mix:pam:2 client-join around urn:xmpp:mix:core:1.
        try:
            failed = await self.plugin["xep_0405"].join_channel(
                slixmpp.JID(command["jid"]), command.get("nick", ""),
                set(command["nodes"]), timeout=timeout)
        except IqError as e:
            return {"xml": str(e.iq)}
        return {"failed": sorted(failed)}

    async def op_pam_leave(self, command, timeout):
        result = await self.plugin["xep_0405"].leave_channel(
            slixmpp.JID(command["jid"]), timeout=timeout)
        return {"xml": str(result)}

    # XEP-0369, MIX-CORE: straight to the service or the channel.

    @property
    def mix(self):
        return self.plugin["xep_0369"]

    async def op_can_create_channel(self, command, timeout):
        return {"value": await self.mix.can_create_channel(
            slixmpp.JID(command["jid"]))}

    async def op_create_channel(self, command, timeout):
        return {"channel": await self.mix.create_channel(
            slixmpp.JID(command["jid"]), command["name"], timeout=timeout)}

    async def op_join_channel(self, command, timeout):
        # Its return value is always empty in slixmpp 1.17: report the
        # result IQ, which slixmpp hands to the callback.
        results = []
        await self.mix.join_channel(
            slixmpp.JID(command["jid"]), command.get("nick", ""),
            set(command["nodes"]), timeout=timeout, callback=results.append)
        return {"xml": str(results[0])}

    async def op_set_nick(self, command, timeout):
        return {"nick": await self.mix.set_nick(
            slixmpp.JID(command["jid"]), command["nick"], timeout=timeout)}

    async def op_update_subscription(self, command, timeout):
        failed = await self.mix.update_subscription(
            slixmpp.JID(command["jid"]), set(command.get("subscribe", ())),
            set(command.get("unsubscribe", ())), timeout=timeout)
        return {"failed_subscribe": sorted(failed[0]),
                "failed_unsubscribe": sorted(failed[1])}

    async def op_list_participants(self, command, timeout):
        participants = await self.mix.list_participants(
            slixmpp.JID(command["jid"]), timeout=timeout)
        return {"participants": [
            [identifier, nick, str(jid) if jid else None]
            for identifier, nick, jid in participants]}

    async def ask(self, pending):
        """
        The response to an IQ: the result, or the error response.
        """
        try:
            return await pending
        except IqError as e:
            return e.iq


async def serve(client):
    """
    Read commands from stdin until it closes or says C{disconnect}; each
    command runs as its own task, so that one waiting for the server does
    not hold up the others.
    """
    loop = asyncio.get_event_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    tasks = set()
    while True:
        line = await reader.readline()
        if not line:
            break
        command = json.loads(line)
        if command["op"] == "disconnect":
            for task in list(tasks):
                task.cancel()
            await answer(client, command)
            return
        task = asyncio.ensure_future(answer(client, command))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await client.disconnect(wait=2)


async def answer(client, command):
    """
    Run C{command} and emit its reply.
    """
    try:
        fields = await client.run(command)
    except (IqTimeout, asyncio.TimeoutError):
        emit(event="reply", n=command.get("n"), ok=False, error="timed out")
    except asyncio.CancelledError:
        emit(event="reply", n=command.get("n"), ok=False,
             error="cancelled by disconnect")
    except Exception as e:
        emit(event="reply", n=command.get("n"), ok=False,
             error="%s: %s" % (type(e).__name__, e))
    else:
        emit(event="reply", n=command.get("n"), ok=True, **fields)


async def main():
    client = DrivenClient(os.environ["E2E_JID"], os.environ["E2E_PASSWORD"])
    client.connect(os.environ["E2E_HOST"], int(os.environ["E2E_PORT"]))
    try:
        await asyncio.wait_for(client.online, DEFAULT_TIMEOUT)
    except Exception as e:
        emit(event="offline", reason="could not log in: %s" % (e,))
        return 1
    await serve(client)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
