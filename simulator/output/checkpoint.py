"""Finished pieces of a long analysis, kept so a rerun after Ctrl-C takes them up."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import OutputDirError

__all__ = ["Checkpoint"]


class Checkpoint:
    """Finished pieces of a long analysis kept in a private directory, so a rerun after
    Ctrl-C or a crash takes them from there.

    Pieces are numpy arrays (``.npy``, read with ``allow_pickle=False``) or JSON, never
    pickles: a piece is data of a checked type and shape, not code. The directory is
    this user's alone (mode 0700, owner checked, :func:`simulator.private.private_dir`;
    another's is refused); each piece is written whole (a temporary file created with
    ``O_EXCL|O_NOFOLLOW``, then renamed into place) and read without following a
    link. A piece's file name hashes its key with the package version, so a rerun on
    other code never takes an older version's pieces. A piece that cannot be read back
    (or is not the type or shape asked for) is dropped and redone.
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)  # made by the first save

    def check(self) -> None:
        """Refuse, before any work, a directory in its place that is not this user's
        alone (:class:`OutputDirError`)."""
        from ..private import PrivacyError, private_dir

        if os.path.lexists(self.folder):
            try:
                private_dir(self.folder)
            except PrivacyError as exc:
                raise OutputDirError(f"checkpoint {exc}") from None

    def _name(self, key: str, suffix: str) -> str:
        import hashlib

        from ..version import __version__

        return hashlib.sha256(f"{__version__}|{key}".encode()).hexdigest()[:40] + suffix

    def _read(self, name: str) -> bytes | None:
        from ..private import PrivacyError, check_own_file, open_private_dir

        if not os.path.lexists(self.folder):
            return None
        try:
            dir_fd = open_private_dir(self.folder)
        except PrivacyError as exc:
            raise OutputDirError(f"checkpoint {exc}") from None
        try:
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
            except FileNotFoundError:
                return None
            except OSError:  # a link or something else planted: drop it
                with contextlib.suppress(OSError):
                    os.unlink(name, dir_fd=dir_fd)
                return None
            with os.fdopen(fd, "rb") as fh:
                try:
                    check_own_file(self.folder / name, os.fstat(fh.fileno()))
                except PrivacyError:
                    return None
                data = fh.read(_CHECKPOINT_MAX_BYTES + 1)
            if len(data) > _CHECKPOINT_MAX_BYTES:
                self._drop(name)
                return None
            return data
        finally:
            os.close(dir_fd)

    def _drop(self, name: str) -> None:
        with contextlib.suppress(OSError):
            (self.folder / name).unlink()

    def _write(self, name: str, data: bytes) -> None:
        from ..private import PrivacyError, open_private_dir

        try:
            dir_fd = open_private_dir(self.folder)
        except PrivacyError as exc:
            raise OutputDirError(f"checkpoint {exc}") from None
        tmp = f".{name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                         | os.O_CLOEXEC, 0o600, dir_fd=dir_fd)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp, dir_fd=dir_fd)
                raise
        finally:
            os.close(dir_fd)

    def load_array(self, key: str, shape: tuple[int, ...]) -> np.ndarray | None:
        """The float64 array of ``shape`` stored under ``key``, or ``None``."""
        import io

        name = self._name(key, ".npy")
        data = self._read(name)
        if data is None:
            return None
        try:
            array = np.load(io.BytesIO(data), allow_pickle=False)
        except (ValueError, OSError, EOFError):
            array = None
        if (not isinstance(array, np.ndarray) or array.dtype != np.float64
                or array.shape != tuple(shape)):
            self._drop(name)
            return None
        return array

    def save_array(self, key: str, value: np.ndarray) -> None:
        """Store a float64 array under ``key``, whole or not at all."""
        import io

        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(value, dtype=np.float64), allow_pickle=False)
        self._write(self._name(key, ".npy"), buffer.getvalue())

    def load_json(self, key: str) -> Any:
        """The JSON value stored under ``key`` (the caller checks its types and shapes),
        or ``None``."""
        name = self._name(key, ".json")
        data = self._read(name)
        if data is None:
            return None
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            self._drop(name)
            return None

    def save_json(self, key: str, value: Any) -> None:
        """Store a JSON value under ``key``, whole or not at all."""
        self._write(self._name(key, ".json"), json.dumps(value).encode("utf-8"))

    def load(self, key: str) -> Any:
        """The value stored under ``key`` by :meth:`save` (numbers, strings, lists,
        tuples, string-keyed dicts and numeric arrays, rebuilt from JSON: never code),
        or ``None``. The caller checks it is what it expects (``accept`` of
        :func:`simulator.runner.map_ordered`)."""
        data = self.load_json(key)
        if data is None:
            return None
        try:
            return _decoded(data)
        except (TypeError, ValueError, KeyError, RecursionError):
            self.drop(key)
            return None

    def save(self, key: str, value: Any) -> None:
        """Store ``value`` (see :meth:`load` for the types) under ``key``, whole or not
        at all."""
        self.save_json(key, _encoded(value))

    def drop(self, key: str) -> None:
        """Forget the pieces under ``key`` (one the caller found malformed)."""
        for suffix in (".npy", ".json"):
            self._drop(self._name(key, suffix))

    def remove(self) -> None:
        """Delete the directory (once the analysis's output is written); one that is not
        this user's alone is left alone."""
        from ..private import is_private_dir

        if is_private_dir(self.folder):
            shutil.rmtree(self.folder, ignore_errors=True)


def _encoded(value: Any) -> Any:
    """``value`` as JSON data: tuples and numeric arrays tagged, dict keys strings."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"cannot keep an array of {value.dtype} in a checkpoint")
        return {"__array__": value.dtype.str, "shape": list(value.shape),
                "data": value.ravel().tolist()}
    if isinstance(value, tuple):
        return {"__tuple__": [_encoded(v) for v in value]}
    if isinstance(value, list):
        return [_encoded(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        if "__array__" in value or "__tuple__" in value:
            raise TypeError("a dict with a reserved key")
        return {k: _encoded(v) for k, v in value.items()}
    raise TypeError(f"cannot keep a {type(value).__name__} in a checkpoint")


def _decoded(data: Any) -> Any:
    """:func:`_encoded`'s inverse; only those types come back (ValueError otherwise)."""
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return [_decoded(v) for v in data]
    if isinstance(data, dict):
        if "__tuple__" in data:
            return tuple(_decoded(v) for v in data["__tuple__"])
        if "__array__" in data:
            dtype = np.dtype(data["__array__"])
            if dtype.kind not in "biuf":
                raise ValueError("not a numeric array")
            return np.asarray(data["data"], dtype=dtype).reshape(
                [int(n) for n in data["shape"]])
        return {k: _decoded(v) for k, v in data.items()}
    raise ValueError(f"not checkpoint data: {type(data).__name__}")


_CHECKPOINT_MAX_BYTES = 1 << 28
"""A kept piece larger than this is not one msp-sim wrote: it is dropped unread."""
