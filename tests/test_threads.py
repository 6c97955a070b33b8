"""riskcalc._core.threads: work on threads whose results come back through the threads' end."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskcalc._core import threads
from riskcalc._core.threads import Alongside, map_threads


class Boom(Exception):
    pass


def _square_or_fail(failing):
    def fn(x):
        if x in failing:
            raise Boom(x)
        return x * x

    return fn


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 50), max_size=30, unique=True),
    st.sets(st.integers(0, 50), max_size=4),
    st.integers(1, 4),
)
def test_map_threads_is_the_serial_map(items, failing, workers):
    """In order, as ``[fn(x) for x in items]``; an error is the first failing item's (the
    serial map's), raised after every thread has ended."""
    fn = _square_or_fail(failing)
    first = next((x for x in items if x in failing), None)
    if first is None:
        assert map_threads(fn, items, workers) == [x * x for x in items]
    else:
        with pytest.raises(Boom) as info:
            map_threads(fn, items, workers)
        assert info.value.args == (first,)


def test_map_threads_is_serial_under_an_address_space_limit(monkeypatch):
    import threading

    monkeypatch.setattr(threads, "address_space_limit", lambda: 2**30)
    seen = map_threads(lambda _: threading.current_thread().name, range(6), 3)
    assert set(seen) == {threading.main_thread().name}


def test_alongside_gives_the_value_or_the_error():
    assert Alongside(sum, [1, 2, 3]).result() == 6
    with pytest.raises(Boom):
        Alongside(_square_or_fail({2}), 2).result()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_thread_that_dies_handing_over_is_a_memory_error(monkeypatch):
    def fails(self, outcome):
        raise MemoryError

    monkeypatch.setattr(Alongside, "_deliver", fails)
    with pytest.raises(MemoryError, match="ended without its result"):
        Alongside(sum, [1]).result()
