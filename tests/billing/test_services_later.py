"""Services built after the first screen (billing.services_later): whoever asks the desk
for something waits until start-up has built it, and is never left waiting on a start-up
that has not begun, has failed, or was stopped."""

from __future__ import annotations

import threading

import pytest

from billing.errors import BillingError
from billing.services_later import (
    NOT_STARTED,
    STOPPED_WHILE_STARTING,
    DatabaseNotOpened,
    ServicesLater,
)


class _Desk:
    def firm(self) -> str:
        return "Harbor & Vale LLP"


class _Services:
    """What build_services(start_later=True) returns, as far as ServicesLater uses it."""

    def __init__(self) -> None:
        self.desk = _Desk()
        self.settings = "settings"
        self.finished = threading.Event()
        self.closed = False

    def finish_start(self) -> str | None:
        self.finished.set()
        return None

    def close(self) -> None:
        self.closed = True


def test_the_desk_answers_once_start_up_has_built_it():
    built = _Services()
    later = ServicesLater(lambda: built)
    with pytest.raises(AttributeError):
        later.settings  # noqa: B018 - nothing built yet
    assert later.finish_start() is None
    assert built.finished.is_set()
    assert later.desk.firm() == "Harbor & Vale LLP"
    assert later.settings == "settings"  # the built services' own
    later.close()
    assert built.closed


def test_asking_the_desk_before_start_up_has_begun_begins_it():
    """The app's thread may ask before it has started start-up's thread: the desk starts
    start-up itself rather than wait on a thread that waits on it. The app's own call then
    gets that start-up's answer, and nothing is built twice."""
    builds = []

    def build():
        builds.append(threading.current_thread().name)
        return _Services()

    later = ServicesLater(build)
    assert later.desk.firm() == "Harbor & Vale LLP"
    assert later.finish_start() is None
    assert builds == ["paydesk-start-up"]


def test_a_desk_that_could_not_be_built_says_so_in_words():
    """As a failure of its own kind, not a Stripe set-up's sentence: the app stops on it."""

    def build():
        raise OSError("disk I/O error")

    later = ServicesLater(build)
    reason = later.finish_start()
    assert reason == DatabaseNotOpened("the database could not be opened (OSError). "
                                       "`paydesk doctor` checks the set-up.")
    assert later.finish_start() == reason  # a second call gets the same answer
    with pytest.raises(BillingError) as refused:
        later.desk.firm()
    assert refused.value.message == NOT_STARTED


def test_stopped_before_start_up_nothing_is_built_and_no_one_waits():
    builds = []
    later = ServicesLater(lambda: builds.append(1) or _Services())
    later.close()
    with pytest.raises(BillingError):
        later.desk.firm()
    assert later.finish_start() == STOPPED_WHILE_STARTING
    assert builds == []


def test_stopped_while_building_what_was_built_is_closed():
    built = _Services()
    later = ServicesLater(lambda: (later.close(), built)[1])
    assert later.finish_start() == STOPPED_WHILE_STARTING
    assert built.closed
    assert not built.finished.is_set()
