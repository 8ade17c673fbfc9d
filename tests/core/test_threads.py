"""``torch_threads`` under overlapping blocks: nested, and in two threads."""

from __future__ import annotations

import threading

import pytest
import torch

from core.threads import torch_threads

BASELINE = 3


@pytest.fixture
def baseline():
    before = torch.get_num_threads()
    torch.set_num_threads(BASELINE)
    yield
    torch.set_num_threads(before)


def _in_new_thread(fn):
    out = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join()
    return out[0]


def test_interleaved_blocks_in_two_threads_restore_the_count(baseline):
    # A enters, B enters, A leaves, B leaves: the order in which two sessions'
    # blocks left the process at one thread.
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, int] = {}

    def a():
        with torch_threads(1):
            a_in.set()
            b_in.wait(5)
            seen["a"] = torch.get_num_threads()
        a_out.set()

    def b():
        a_in.wait(5)
        with torch_threads(1):
            b_in.set()
            a_out.wait(5)
            seen["b"] = torch.get_num_threads()  # A has left; B still asks for 1

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"a": 1, "b": 1}
    # Threads started afterwards (a session's next run) get the count back.
    assert _in_new_thread(torch.get_num_threads) == BASELINE


def test_nested_blocks_use_the_smallest_count_and_restore_it(baseline):
    with torch_threads(2):
        assert torch.get_num_threads() == 2
        with torch_threads(1):
            assert torch.get_num_threads() == 1
            with torch_threads(None):
                assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == BASELINE
    assert _in_new_thread(torch.get_num_threads) == BASELINE


def test_a_block_that_raises_still_restores_the_count(baseline):
    with pytest.raises(RuntimeError), torch_threads(1):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == BASELINE
