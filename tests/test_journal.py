"""The job journal: every state kept on disk; after a crash the unfinished jobs are failed and told once per hello."""
import subprocess
import sys

import pytest
from sonocanvas.bridge.jobs.journal import RESTART_MESSAGE, Journal, JournalInUse


def test_states_survive_reopening(tmp_path):
    path = tmp_path / "j.sqlite3"
    journal = Journal(path)
    done = journal.add("1", ("127.0.0.1", 9001), "generate", {"image_prompt": "a"})
    running = journal.add("2", ("127.0.0.1", 9001), "generate", {})
    journal.add("3", ("127.0.0.1", 9002), "encode", {})
    cancelled = journal.add("4", ("127.0.0.1", 9001), "generate", {})
    journal.set_state(done, "running")
    journal.set_state(done, "done")
    journal.set_state(running, "running")
    journal.set_state(cancelled, "cancelled")
    journal.close()  # as good as a crash: nothing more is written

    journal = Journal(path)
    recovered = journal.recover()
    assert [(e.job_id, e.client_port, e.state, e.message) for e in recovered] == [
        ("2", 9001, "failed", RESTART_MESSAGE), ("3", 9002, "failed", RESTART_MESSAGE)]
    assert {e.job_id: e.state for e in journal.entries()} \
        == {"1": "done", "2": "failed", "3": "failed", "4": "cancelled"}
    assert journal.recover() == []  # nothing is failed twice

    assert [e.job_id for e in journal.take_untold(("127.0.0.1", 9001))] == ["2"]
    assert journal.take_untold(("127.0.0.1", 9001)) == []  # told once at hello
    assert [e.job_id for e in journal.take_untold(("127.0.0.1", 9002))] == ["3"]
    journal.close()


def test_a_restart_with_nothing_unfinished_reports_nothing(tmp_path):
    journal = Journal(tmp_path / "deep" / "j.sqlite3")
    journal.set_state(journal.add("1", ("::1", 5), "generate", {}), "done")
    assert journal.recover() == [] and journal.take_untold(("::1", 5)) == []
    journal.close()


def test_a_second_server_cannot_open_a_journal_in_use(tmp_path):
    """D12: the first journal holds SQLite's lock until closed; the second is refused on field `journal`."""
    first = Journal(tmp_path / "j.sqlite3")
    with pytest.raises(JournalInUse, match="^journal: .* is in use by another sonocanvas server"):
        Journal(tmp_path / "j.sqlite3", busy_timeout=0.1)
    first.close()
    Journal(tmp_path / "j.sqlite3").close()  # free again once closed


def test_a_journal_in_use_by_another_process_is_refused(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "j.sqlite3")], stdout=subprocess.PIPE,
                              text=True, stdin=subprocess.PIPE)
    try:
        assert holder.stdout.readline() == "open\n"
        with pytest.raises(JournalInUse):
            Journal(tmp_path / "j.sqlite3", busy_timeout=0.1)
    finally:
        holder.stdin.close()
        holder.wait(30)
    Journal(tmp_path / "j.sqlite3").close()  # the OS dropped the lock with the process


HOLD = """
import sys
from pathlib import Path
from sonocanvas.bridge.jobs.journal import Journal
journal = Journal(Path(sys.argv[1]))
print("open", flush=True)
sys.stdin.read()
"""


def test_finished_jobs_are_pruned_to_the_newest_kept(tmp_path):
    """D5: the journal does not grow without end; unfinished and untold jobs are never pruned."""
    journal = Journal(tmp_path / "j.sqlite3", keep=3)
    unfinished = journal.add("open", ("127.0.0.1", 1), "generate", {})
    for i in range(6):
        journal.set_state(journal.add(str(i), ("127.0.0.1", 1), "generate", {"image_prompt": "x" * 100}), "done")
    assert journal.prune() == 3
    assert [e.job_id for e in journal.entries()] == ["open", "3", "4", "5"]
    journal.set_state(unfinished, "running")
    journal.close()
