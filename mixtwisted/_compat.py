"""
The one compatibility shim mixtwisted needs.

wokkel 18.0.0 (the newest release) imports C{_PY3} from
C{twisted.python.compat} (in C{wokkel.data_form}).  Twisted removed that name
when it dropped Python 2, so on current Twisted the import fails.  Setting it
to C{True} restores what wokkel expects; nothing else is patched.

This module is imported by C{mixtwisted/__init__.py} before anything touches
wokkel, so every entry point (the twistd plugin, trial, embedding code) gets
it.  It only adds a missing constant: it changes no behaviour of Twisted.
"""

from twisted.python import compat

if not hasattr(compat, "_PY3"):
    compat._PY3 = True
