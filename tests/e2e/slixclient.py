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

    def __init__(self, jid, password):
        slixmpp.ClientXMPP.__init__(self, jid, password)
        # Loopback only: plain TCP, no STARTTLS, no direct TLS; SCRAM may
        # then be used without TLS.
        self.enable_direct_tls = False
        self.enable_starttls = False
        self.enable_plaintext = True
        self.plugin["feature_mechanisms"].unencrypted_scram = True
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0059")
        self.register_plugin("xep_0297")
        self.register_plugin("xep_0313")
        self.register_plugin("xep_0405")
        self.online = asyncio.get_event_loop().create_future()
        self.add_event_handler("session_start", self.onSessionStart)
        self.add_event_handler("failed_auth", self.onFailedAuth)
        self.add_event_handler("disconnected", self.onDisconnected)
        for kind in ("message", "presence"):
            self.register_handler(Callback(
                "e2e-" + kind, StanzaPath(kind), self.onStanza))

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

    async def run(self, command):
        """
        Do C{command}; return the fields of its reply.
        """
        op = command["op"]
        timeout = command.get("timeout", DEFAULT_TIMEOUT)
        if op == "iq":
            iq = Iq(self, xml=ET.fromstring(command["xml"]))
            if not iq["id"]:
                iq["id"] = self.new_id()
            return {"xml": str(await self.ask(iq.send(timeout=timeout)))}
        if op == "send":
            self.send_raw(command["xml"])
            return {}
        if op in ("disco_info", "disco_items"):
            disco = self.plugin["xep_0030"]
            ask = disco.get_info if op == "disco_info" else disco.get_items
            response = await self.ask(ask(
                jid=command["jid"], node=command.get("node"),
                timeout=timeout))
            return {"xml": str(response)}
        if op == "mam":
            iterator = self.plugin["xep_0313"].iterate(
                jid=command["jid"], rsm={"max": command.get("max", 10)})

            async def collect():
                return [str(message) async for message in iterator]

            return {"messages": await asyncio.wait_for(collect(), timeout)}
        if op == "pam_join":
            # XEP-0405 through the user's own server, as slixmpp does it
            # (urn:xmpp:mix:pam:2 client-join around urn:xmpp:mix:core:1).
            try:
                failed = await self.plugin["xep_0405"].join_channel(
                    slixmpp.JID(command["jid"]), command.get("nick", ""),
                    set(command["nodes"]), timeout=timeout)
            except IqError as e:
                return {"xml": str(e.iq)}
            return {"failed": sorted(failed)}
        if op == "disconnect":
            await self.disconnect(wait=2)
            return {}
        raise ValueError("unknown op %r" % (op,))

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
