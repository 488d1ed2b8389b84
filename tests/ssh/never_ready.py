"""Imported by a test's warm process: the import never finishes (as a hung import on a
dead network mount would), so the warm process never becomes ready."""

import threading

threading.Event().wait()
