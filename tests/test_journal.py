"""The job journal: every state kept on disk; after a crash the unfinished jobs are failed and told once per hello."""
from sonocanvas.bridge.journal import RESTART_MESSAGE, Journal


def test_states_survive_reopening(tmp_path):
    path = tmp_path / "j.sqlite3"
    journal = Journal(path)
    done = journal.add("1", ("127.0.0.1", 9001), "generate", {"image_prompt": "a"})
    running = journal.add("2", ("127.0.0.1", 9001), "generate", {})
    queued = journal.add("3", ("127.0.0.1", 9002), "encode", {})
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
    assert {e.job_id: e.state for e in journal.entries()} == {"1": "done", "2": "failed", "3": "failed", "4": "cancelled"}
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
