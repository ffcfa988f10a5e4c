"""The Dask worker plugin of :mod:`simulator.runner.dask` (imports Dask, so it is only
imported once a cluster is used: ``import simulator.runner`` stays cheap)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import logging
import os
import re
import stat
import sys
import tempfile
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from ..private import is_own_dir
from ..version import code_identity

__all__ = ["CodeMismatch", "EngineCache"]

_log = logging.getLogger(__name__)


class CodeMismatch(RuntimeError):
    """A worker runs another msp-sim (version or sources) than the client."""


class EngineCache(WorkerPlugin):  # type: ignore[misc, valid-type]
    """A Dask worker plugin: the same msp-sim as the client, its own private numba cache
    directory and one engine thread per task, then the engine loaded once.

    ``identity`` is the client's :func:`simulator.version.code_identity` (the
    package version and a hash of its sources); a worker whose own differs refuses
    the plugin (the client's registration raises :class:`CodeMismatch`) and closes,
    so no task of the run lands on other code (a worker joining later closes too).

    The numba cache is ``msp-sim/numba/install-<key>/worker-<name>`` under the user's
    cache directory (``$XDG_CACHE_HOME`` or ``~/.cache``), ``<key>`` naming this install
    (:func:`install_key`: two checkouts or virtual environments never share a worker's
    folder), each level made 0700 and its owner checked
    (:func:`simulator.private.user_cache_dir`), never a predictable folder another
    user could plant an index in; if that cannot be made, a fresh private temporary
    folder. Set before the worker imports numba (a fresh worker process has not), so
    they apply. The folder is first seeded with the install's own compiled engine
    (:func:`seed_engine_cache`): a new worker loads the engine instead of compiling it
    again (each worker took as long as ``make install``'s compile). Dask's threads are
    the parallelism (a worker of k threads runs k tasks at once), so each task runs the
    engine on its own thread instead of every task starting one engine thread per core
    (``local:2`` on 2 cores ran 4).
    """

    name = "msp-sim-engine"

    def __init__(self, identity: tuple[str, str] | None = None):
        super().__init__()
        self.identity = tuple(identity) if identity is not None else code_identity()

    def setup(self, worker: Any) -> None:
        mine = code_identity()
        if mine != self.identity:
            message = (f"the Dask worker {worker.address} runs msp-sim {mine[0]} (sources "
                       f"{mine[1][:12]}), the client {self.identity[0]} (sources "
                       f"{self.identity[1][:12]}); allowed: workers on the same msp-sim "
                       "as the client")
            asyncio.get_running_loop().create_task(worker.close(reason="msp-sim mismatch",
                                                                nanny=True))
            raise CodeMismatch(message)
        if "numba" not in sys.modules:
            cache = numba_cache_dir(worker.name)
            seed_engine_cache(cache, os.environ.get("NUMBA_CACHE_DIR"))
            with contextlib.suppress(OSError):  # numba must not make it (mode 0755) itself
                os.close(open_engine_subfolder(os.path.join(cache, engine_cache_subfolder())))
            os.environ["NUMBA_CACHE_DIR"] = cache
            os.environ["NUMBA_NUM_THREADS"] = "1"
        from .warmup import engine_ready

        engine_ready()


ENGINE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "engine")
"""The folder of the compiled engine's modules (:mod:`simulator.engine`), as numba names
it (the absolute path of the modules' folder, links not resolved)."""


def install_key(engine_dir: str = ENGINE_DIR) -> str:
    """A short name of this install: the SHA-256 of the engine's folder and of the Python
    running it (16 hex digits). Each checkout or virtual environment of msp-sim gets its
    own workers' cache folders, which it alone seeds and compiles into."""
    text = f"{os.path.abspath(engine_dir)}\0{sys.executable}\0{sys.version}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def numba_cache_dir(worker_name: Any) -> str:
    """This user's private numba cache folder for a worker of this install (see
    :class:`EngineCache`)."""
    from ..private import user_cache_dir

    name = re.sub(r"[^A-Za-z0-9_.-]", "_", str(worker_name))[:64] or "worker"
    try:
        return str(user_cache_dir("numba", f"install-{install_key()}", f"worker-{name}"))
    except OSError:
        return tempfile.mkdtemp(prefix="msp-sim-numba-")


def engine_cache_subfolder(engine_dir: str = ENGINE_DIR) -> str:
    """The subfolder of a ``NUMBA_CACHE_DIR`` in which numba keeps the functions of the
    modules in ``engine_dir``: numba's ``_CacheLocator.get_suitable_cache_subpath``, the
    folder's name and the SHA-1 of its path (without importing numba, whose settings are
    read once, at its import)."""
    path = os.path.abspath(engine_dir)
    return f"{os.path.basename(path)}_{hashlib.sha1(path.encode()).hexdigest()}"


def open_engine_subfolder(path: str) -> int:
    """A descriptor of a worker's numba subfolder for the engine (``path``), opened without
    following a link; made (mode 0700) if missing.

    One that numba itself made before this install seeded it (``os.makedirs``: mode 0755
    under the usual umask 022) is this user's and writable by no one else, so nothing in
    it can have been planted: its mode is narrowed to 0700 and it is used. (Refusing it,
    as the first seeding did, left such a worker compiling the engine at every start.)

    Raises
    ------
    PrivacyError
        ``path`` is a link, not a directory, another user's, or writable by others.
    """
    from ..private import PrivacyError

    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    st = os.fstat(fd)
    mode = stat.S_IMODE(st.st_mode)
    if st.st_uid != os.geteuid() or mode & 0o022:
        os.close(fd)
        raise PrivacyError(f"{path}: another user's or open to others (mode {mode:04o}); "
                           "allowed: a directory of yours that only you can write to")
    if mode & 0o077:
        os.fchmod(fd, 0o700)
    return fd


def _read_own(dir_fd: int, name: str) -> bytes | None:
    """The bytes of a regular file of this user's in ``dir_fd`` (not a link), or ``None``."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
            return None
        return fh.read()


def _copy_checked(data: bytes, dir_fd: int, name: str) -> bool:
    """Write ``data`` as ``name`` in the private folder ``dir_fd``: a new file (mode 0600,
    not through a link) read back and checked against the data's SHA-256, then renamed
    over ``name`` (a reader sees the old file or the whole new one)."""
    digest = hashlib.sha256(data).digest()
    tmp = f".{name}.{os.getpid()}.seed"
    try:
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600, dir_fd=dir_fd)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "w+b") as fh:
            fh.write(data)
            fh.flush()
            fh.seek(0)
            same = hashlib.sha256(fh.read()).digest() == digest
        if same:
            os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            return True
    except OSError:
        pass
    try:
        os.unlink(tmp, dir_fd=dir_fd)
    except OSError:
        pass
    return False


def seed_engine_cache(cache_dir: str, inherited: str | None = None,
                      engine_dir: str = ENGINE_DIR) -> int:
    """Copy the install's compiled engine into a worker's private numba cache folder.

    The source is the cache numba used for the engine in this environment: the
    inherited ``NUMBA_CACHE_DIR`` (``inherited``) if one is set, else the engine's own
    ``__pycache__`` (where ``make install`` compiled it). It is used only if it is a real
    directory of this user's that no one else can write to, and only its regular files
    of this user's (``*.nbi`` indexes, ``*.nbc`` compiled code), opened without
    following links. Each index is copied with its compiled-code files (those first,
    the index last) when the worker's folder lacks it, or has another one older than
    the source's (a worker's own, newer compile is kept). A file already there with the
    same SHA-256 is not rewritten; each copy is read back and checked against the
    source's SHA-256 before it replaces anything. numba still checks every index against
    the engine's sources, so a stale copy only means a compile, as without the seed.

    Parameters
    ----------
    cache_dir : str
        The worker's private numba cache folder (:func:`numba_cache_dir`).
    inherited : str, optional
        The ``NUMBA_CACHE_DIR`` the worker process started with.
    engine_dir : str, optional
        The engine's module folder.

    Returns
    -------
    int
        How many files were written (0 if there was nothing to seed from, or it could
        not be done: the worker then compiles, as before).
    """
    sub = engine_cache_subfolder(engine_dir)
    source = (os.path.join(inherited, sub) if inherited
              else os.path.join(engine_dir, "__pycache__"))
    if not is_own_dir(source, 0o022):  # no one else may write to it
        return 0
    try:
        src_fd = os.open(source, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return 0
    written = 0
    try:
        st = os.fstat(src_fd)
        if st.st_uid != os.geteuid() or stat.S_IMODE(st.st_mode) & 0o022:
            return 0
        try:
            dst_fd = open_engine_subfolder(os.path.join(cache_dir, sub))
        except OSError as exc:  # PrivacyError included
            _log.warning("msp-sim: the engine's compiled code not copied into %s (%s); the "
                         "worker compiles it", cache_dir, exc)
            return 0
        try:
            names = os.listdir(src_fd)
            for index in sorted(n for n in names if n.endswith(".nbi")):
                try:
                    src_time = os.stat(index, dir_fd=src_fd, follow_symlinks=False).st_mtime_ns
                    dst_time = os.stat(index, dir_fd=dst_fd, follow_symlinks=False).st_mtime_ns
                except FileNotFoundError:
                    dst_time = None
                except OSError:
                    continue
                if dst_time is not None and dst_time >= src_time:
                    continue  # the worker's own, at least as new
                stem = index[:-len(".nbi")] + "."
                group = [n for n in names if n.startswith(stem) and n.endswith(".nbc")
                         and n[len(stem):-len(".nbc")].isdigit()]
                files = [(name, _read_own(src_fd, name)) for name in [*sorted(group), index]]
                if any(data is None for _, data in files):
                    continue  # not all this user's regular files: not this index
                for name, data in files:  # the code first, its index last
                    assert data is not None
                    there = _read_own(dst_fd, name)
                    if there is not None and (hashlib.sha256(there).digest()
                                              == hashlib.sha256(data).digest()):
                        continue
                    if not _copy_checked(data, dst_fd, name):
                        # an index there must not name code files half replaced
                        with contextlib.suppress(OSError):
                            os.unlink(index, dir_fd=dst_fd)
                        break
                    written += 1
        except OSError as exc:  # pragma: no cover - a folder gone or unreadable
            if exc.errno not in (errno.ENOENT, errno.EACCES):
                raise
        finally:
            os.close(dst_fd)
    finally:
        os.close(src_fd)
    return written
