"""Issue 28: no foothold for another user (checkpoints, caches, locks, stale outputs),
no mismatched workers, text where a person typed text. Each defect has a negative
control: the same code on the safe input does its job."""

from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest

from simulator import output
from simulator.output import Checkpoint, OutputDirError
from simulator.private import PrivacyError, private_dir, user_cache_dir

ROOT = pathlib.Path(__file__).resolve().parents[1]


# 1. checkpoints: data, not pickles, in a private folder, keyed with the version


def test_no_pickle_load_in_the_package():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "simulator").rglob("*.py")
                 if "pickle.load" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_checkpoint_pieces_are_arrays_and_json_in_a_private_folder(tmp_path):
    store = Checkpoint(tmp_path / "ck")
    block = np.arange(6.0).reshape(2, 3)
    store.save_array("a", block)
    store.save_json("b", {"x": [1.5, None]})
    assert os.stat(store.folder).st_mode & 0o777 == 0o700
    assert np.array_equal(store.load_array("a", (2, 3)), block)  # negative control
    assert store.load_json("b") == {"x": [1.5, None]}
    assert store.load_array("a", (3, 2)) is None  # the wrong shape is dropped
    assert store.load_array("a", (2, 3)) is None
    names = sorted(p.name for p in store.folder.iterdir())
    assert len(names) == 1 and names[0].endswith(".json")
    (store.folder / names[0]).write_bytes(b"\x80\x04not json")
    assert store.load_json("b") is None


def test_a_pickle_planted_as_a_piece_is_never_run(tmp_path):
    import pickle

    store = Checkpoint(tmp_path / "ck")
    store.save_array("k", np.zeros((2, 2)))
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (marker.write_text, ("pwned",))

    for piece in store.folder.iterdir():
        piece.write_bytes(pickle.dumps(Payload()))
    assert store.load_array("k", (2, 2)) is None
    assert not marker.exists()


def test_a_piece_is_keyed_with_the_package_version(tmp_path, monkeypatch):
    store = Checkpoint(tmp_path / "ck")
    store.save_array("k", np.ones(3))
    assert store.load_array("k", (3,)) is not None
    monkeypatch.setattr("simulator.version.__version__", "0.0.0-other")
    assert store.load_array("k", (3,)) is None


def test_a_link_in_place_of_a_piece_is_not_followed(tmp_path):
    store = Checkpoint(tmp_path / "ck")
    store.save_array("k", np.ones(3))
    (piece,) = store.folder.iterdir()
    secret = tmp_path / "secret.npy"
    np.save(secret, np.ones(3))
    piece.unlink()
    piece.symlink_to(secret)
    assert store.load_array("k", (3,)) is None
    assert secret.exists()
    store.save_array("k", np.zeros(3))  # written as a new file, the target untouched
    assert np.array_equal(np.load(secret), np.ones(3))
    assert not piece.is_symlink()


@pytest.mark.parametrize("plant", ["open", "link", "foreign"])
def test_a_checkpoint_folder_not_yours_alone_is_refused(tmp_path, monkeypatch, plant):
    folder = tmp_path / "ck"
    if plant == "open":
        folder.mkdir(mode=0o777)
        os.chmod(folder, 0o777)
    elif plant == "link":
        (tmp_path / "elsewhere").mkdir(mode=0o700)
        folder.symlink_to(tmp_path / "elsewhere")
    else:
        folder.mkdir(mode=0o700)
        real = os.geteuid()
        monkeypatch.setattr(os, "geteuid", lambda: real + 1)
    store = Checkpoint(folder)
    with pytest.raises(OutputDirError, match="checkpoint .*(link|another user|open to)"):
        store.check()
    with pytest.raises(OutputDirError):
        store.save_array("k", np.ones(2))
    store.remove()
    assert os.path.lexists(folder)  # not removed either


def test_portfolio_rejects_a_poisoned_piece_of_the_right_key(tmp_path):
    from simulator.analysis.portfolio import _checked_piece

    class Msp:
        name, row = "Acme", 2

    entry = {"name": "Acme", "row": 2, "p_break_by_horizon": 0.3,
             "p_break_by_horizon_ci95": [0.2, 0.4]}
    good = (entry, np.array([0.0, 0.1, 0.3]), [])
    store = Checkpoint(tmp_path / "ck")
    store.save("k", good)
    kept = store.load("k")  # through the file: JSON back to a tuple and an array
    assert _checked_piece(kept, Msp, 2)  # negative control
    assert np.array_equal(kept[1], good[1]) and kept[0] == entry
    for bad in ((entry, np.array([0.0, 0.1, 1.5]), []), (entry, np.array([0.0, 0.1]), []),
                ({**entry, "name": "Other"}, good[1], []),
                (entry, good[1], [{"name": "x", "msp": "Acme", "value": "1", "se": 0,
                                   "set": {}}]),
                (entry, good[1].tolist(), []), [entry, good[1], []], None):
        assert not _checked_piece(bad, Msp, 2)


# 3. locks and stale-output recovery refuse links and foreign owners


def test_a_lock_planted_as_a_link_is_refused_and_its_target_kept(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    (tmp_path / ".out.lock").symlink_to(notes)
    with pytest.raises(OutputDirError, match=r"\.out\.lock.*symbolic link"):
        output.claim_out_dir(tmp_path / "out")
    assert notes.read_text() == "my notes\n"
    (tmp_path / ".out.lock").unlink()  # negative control: the same claim without the link
    assert output.claim_out_dir(tmp_path / "out") == tmp_path / "out"
    output.release_claims()
    assert notes.read_text() == "my notes\n"


def test_a_lock_of_another_user_is_refused(tmp_path, monkeypatch):
    (tmp_path / ".out.lock").write_text("")
    real = os.geteuid()
    monkeypatch.setattr(os, "geteuid", lambda: real + 1)
    with pytest.raises(OutputDirError, match="another user"):
        output.claim_out_dir(tmp_path / "out")


def test_a_planted_backup_never_becomes_the_output(tmp_path, monkeypatch):
    planted = tmp_path / ".out.old-999999999-abc"
    planted.mkdir()
    (planted / "summary.json").write_text('{"poisoned": true}')
    os.chmod(planted, 0o777)  # open to others: not one msp-sim moved aside
    output.claim_out_dir(tmp_path / "out")
    output.release_claims()
    assert not (tmp_path / "out").exists()
    # a backup that is a link is not followed either
    target = tmp_path / "target"
    target.mkdir()
    (target / "summary.json").write_text("{}")
    link = tmp_path / ".out.old-999999998-abc"
    link.symlink_to(target)
    output.claim_out_dir(tmp_path / "out")
    output.release_claims()
    assert not (tmp_path / "out").exists() and (target / "summary.json").exists()
    # negative control: a real backup of a run that died (this user's, 0700-or-umask,
    # only output files) is put back
    for p in (planted, link):
        p.unlink() if p.is_symlink() else __import__("shutil").rmtree(p)
    mine = tmp_path / ".out.old-999999997-abc"
    mine.mkdir()
    (mine / "summary.json").write_text("{}")
    output.claim_out_dir(tmp_path / "out")
    output.release_claims()
    assert (tmp_path / "out" / "summary.json").exists()


def test_a_backup_of_another_user_is_not_put_back(tmp_path, monkeypatch):
    planted = tmp_path / ".out.old-999999999-abc"
    planted.mkdir()
    (planted / "summary.json").write_text("{}")
    real = os.geteuid()
    monkeypatch.setattr(os, "geteuid", lambda: real + 1)
    monkeypatch.setattr(output, "_lock", lambda out, created: output._Claim(
        out, os.open(os.devnull, os.O_RDONLY), tmp_path / ".none", created))
    output._clean_stale(tmp_path / "out")
    assert not (tmp_path / "out").exists() and planted.exists()


# 2. private caches


def test_private_dir_is_made_0700_and_refuses_a_planted_one(tmp_path, monkeypatch):
    made = private_dir(tmp_path / "a")
    assert os.stat(made).st_mode & 0o777 == 0o700
    assert private_dir(tmp_path / "a") == made  # negative control: reused when yours
    (tmp_path / "b").symlink_to(made)
    with pytest.raises(PrivacyError, match="symbolic link"):
        private_dir(tmp_path / "b")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    cache = user_cache_dir("numba-w1")
    assert cache == tmp_path / "cache" / "msp-sim" / "numba-w1"
    assert os.stat(cache.parent).st_mode & 0o777 == 0o700


def test_a_planted_numba_cache_folder_is_not_used(tmp_path, monkeypatch):
    from simulator import private

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    pytest.importorskip("distributed")
    from simulator.runner._dask_plugin import numba_cache_dir

    mine = numba_cache_dir("tcp://10.0.0.1:4000")  # negative control: made private
    assert os.stat(mine).st_mode & 0o777 == 0o700 and "/" not in os.path.basename(mine)
    planted = pathlib.Path(mine).parent / "worker-7"  # this install's folder of worker 7
    planted.mkdir()
    os.chmod(planted, 0o777)
    fallback = numba_cache_dir(7)
    assert fallback != str(planted) and os.stat(fallback).st_mode & 0o777 == 0o700
    assert not private.is_private_dir(planted)


# 7. a worker on other code is refused


def test_a_worker_on_other_msp_sim_is_refused():
    pytest.importorskip("distributed")
    import subprocess
    import sys

    # the client believes in other sources; its workers (fresh processes) hash the real
    # ones, so every worker refuses: one line, no run. (Matching workers: every test of
    # tests/test_distributed.py connects with the real identity, the negative control.)
    code = """
import sys
import simulator.runner._dask_plugin as plugin
from simulator.config import ConfigError
from simulator.runner.dask import connect
plugin.code_identity = lambda: ("0.0.0", "0" * 64)
try:
    connect("local:1")
except ConfigError as exc:
    print(exc)
    sys.exit(3)
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=ROOT)
    assert run.returncode == 3, run.stderr[-2000:]
    assert "runs msp-sim" in run.stdout and "allowed: workers on the same msp-sim" in run.stdout
