"""
Protocol handlers: wokkel C{XMPPHandler}s that parse stanzas, call the
channel logic (L{mixtwisted.channels}) and build the answers.

One module per protocol area; L{mixtwisted.handlers.base} maps the channel
logic's errors to stanza errors in one place.
"""
