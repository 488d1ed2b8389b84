"""A module that starts a thread when imported: a warm process that imports it must
not fork (the thread would be missing in the child, holding whatever it held)."""

import threading

_stop = threading.Event()
threading.Thread(target=_stop.wait, daemon=True, name="import-time thread").start()
