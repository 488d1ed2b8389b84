"""Paydesk's data: peewee models, the database binding, migrations, money.

The names below live in `models.all_models` and are loaded when the first of them is read:
the first screen reads the demo's sign-ins (`models.demo_sign_ins`) without loading peewee.
Reading any name loads every model, as importing this package did before, so every
backref between models exists whoever asks first. New models go in `models.all_models`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models.all_models import *  # noqa: F403
    from models.all_models import __all__  # noqa: F401


def __getattr__(name: str) -> object:
    if name.startswith("__"):
        raise AttributeError(name)
    all_models = importlib.import_module("models.all_models")
    names = all_models.__all__
    globals().update({key: getattr(all_models, key) for key in names})
    if name in names:
        return getattr(all_models, name)
    raise AttributeError(f"module 'models' has no attribute {name!r}")
