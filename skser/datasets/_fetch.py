"""Download corpora that may be fetched automatically (EmoDB), into a local data home.

Follows scikit-learn's ``datasets/_base.py`` pattern: a data home from an
argument, the ``SKSER_DATA`` environment variable or ``~/skser_data``; a
registry of remote archives with their SHA-256; download to a temporary file
in the data home, verify, then an atomic ``os.replace``; extraction into a
temporary folder, then an atomic move. Nothing half-written is ever left
under the final names.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import urllib.request
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from ._emodb import load_emodb

__all__ = ["get_data_home", "fetch_emodb", "ARCHIVES", "RemoteArchive"]


@dataclass(frozen=True)
class RemoteArchive:
    """A zip archive to download: where from, its digest, where it unpacks.

    Attributes
    ----------
    url : str
        Download address.
    filename : str
        Name of the archive in the data home.
    folder : str
        Folder of the data home it is extracted into.
    sha256 : str or None
        Expected SHA-256 (hex) of the archive. ``None`` means the digest is
        not pinned: the download is then not verified, and a warning gives
        the digest it had so that it can be pinned here.
    """

    url: str
    filename: str
    folder: str
    sha256: str | None


#: The archives :func:`fetch_emodb` knows. The EmoDB digest is ``None`` because
#: it could not be confirmed when this registry was written (the archive cannot
#: be redistributed with skser and the build machine had no access to the
#: server): fill in the value printed by the first download's warning after
#: checking it against a trusted copy.
ARCHIVES: dict[str, RemoteArchive] = {
    "emodb": RemoteArchive(
        url="http://emodb.bilderbar.info/download/download.zip",
        filename="emodb_download.zip",
        folder="emodb",
        sha256=None,
    ),
}

_CHUNK = 1 << 20


def get_data_home(data_home: str | os.PathLike | None = None) -> str:
    """Return the folder where skser keeps downloaded corpora, creating it.

    Parameters
    ----------
    data_home : str or PathLike, optional
        The folder to use. Defaults to the ``SKSER_DATA`` environment variable,
        else ``~/skser_data``. ``~`` is expanded.

    Returns
    -------
    data_home : str
        The folder's path.

    Examples
    --------
    >>> import tempfile, os
    >>> home = get_data_home(os.path.join(tempfile.mkdtemp(), "skser"))
    >>> os.path.isdir(home)
    True
    """
    if data_home is None:
        data_home = os.environ.get("SKSER_DATA", os.path.join("~", "skser_data"))
    data_home = os.path.expanduser(os.fspath(data_home))
    os.makedirs(data_home, exist_ok=True)
    return data_home


def _download(url: str, dest: str) -> None:
    """Write the resource at ``url`` to the file ``dest`` (module level, so tests replace it)."""
    with urllib.request.urlopen(url, timeout=60) as response, open(dest, "wb") as out:
        shutil.copyfileobj(response, out, _CHUNK)


def _sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _download_verified(remote: RemoteArchive, dest: Path) -> None:
    """Download ``remote`` to ``dest`` through a temporary file; verify; atomic move."""
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    try:
        try:
            _download(remote.url, tmp)
        except OSError as exc:  # urllib.error.URLError and socket timeouts are OSErrors
            raise OSError(
                f"Could not download {remote.url} ({exc}). This machine seems to be offline "
                "or the server unreachable: download the archive by hand, unpack it, and "
                "pass the folder to the loader."
            ) from exc
        digest = _sha256(tmp)
        if remote.sha256 is None:
            warnings.warn(
                f"{remote.url} is not verified: skser has no pinned SHA-256 for it. The "
                f"downloaded file's SHA-256 is {digest}.",
                UserWarning,
                stacklevel=3,
            )
        elif digest != remote.sha256.lower():
            raise OSError(
                f"The file downloaded from {remote.url} has SHA-256 {digest}, expected "
                f"{remote.sha256}: it is corrupted or was changed, and has been removed."
            )
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_member(info: zipfile.ZipInfo, root: Path, archive: Path) -> None:
    """Refuse a zip member that would land outside ``root`` or is a symbolic link."""
    name = info.filename
    parts = name.replace("\\", "/").split("/")
    if (
        PurePosixPath(name).is_absolute()
        or PureWindowsPath(name).is_absolute()
        or (PureWindowsPath(name).drive)
    ):
        problem = "has an absolute path"
    elif ".." in parts:
        problem = "contains '..'"
    elif stat.S_ISLNK(info.external_attr >> 16):
        problem = "is a symbolic link"
    elif not (root / name).resolve().is_relative_to(root.resolve()):
        problem = "would be extracted outside the target folder"
    else:
        return
    raise ValueError(f"Unsafe archive {str(archive)!r}: member {name!r} {problem}; not extracted.")


def _extract_zip(archive: Path, target: Path) -> None:
    """Extract ``archive`` into a temporary folder next to ``target``, then move it there."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        try:
            with zipfile.ZipFile(archive) as zf:
                members = zf.infolist()
                for info in members:  # check all before writing anything
                    _check_member(info, tmp, archive)
                for info in members:
                    zf.extract(info, tmp)
        except zipfile.BadZipFile as exc:
            raise OSError(f"{archive} is not a valid zip archive ({exc}).") from exc
        os.chmod(tmp, 0o755)  # mkdtemp makes it private
        if target.exists():  # another process finished first: keep its copy
            shutil.rmtree(tmp)
            return
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _fetch_archive(remote: RemoteArchive, home: Path) -> Path:
    """Make sure ``remote`` is unpacked in ``home``; return its folder."""
    target = home / remote.folder
    archive = home / remote.filename
    if archive.is_file() and remote.sha256 is not None and _sha256(archive) != remote.sha256:
        archive.unlink()  # stale or corrupted earlier download
    if not archive.is_file():
        _download_verified(remote, archive)
    try:
        _extract_zip(archive, target)
    finally:
        archive.unlink(missing_ok=True)  # the folder is what loaders read
    return target


def fetch_emodb(
    data_home=None, *, download_if_missing=True, emotions=None, label_map=None, return_X_y=False
):
    """Load EmoDB from the data home, downloading it first if needed.

    The archive (about 40 MB) comes from
    http://emodb.bilderbar.info/download/download.zip and is unpacked into
    ``<data_home>/emodb``; later calls read that folder without network. See
    :func:`skser.datasets.load_emodb` for the corpus, its naming scheme,
    licence and citation.

    The download goes to a temporary file in the data home, is checked
    against the SHA-256 in :data:`ARCHIVES` and only then moved in place;
    extraction refuses members with absolute paths, ``..`` or symbolic links.
    The registry's EmoDB digest is currently ``None`` (not pinned, see
    :data:`ARCHIVES`): the download is then accepted with a ``UserWarning``
    giving its SHA-256, which must be confirmed against a trusted copy before
    being pinned.

    Parameters
    ----------
    data_home : str or PathLike, optional
        See :func:`get_data_home`.
    download_if_missing : bool, default=True
        If False, raise an ``OSError`` instead of downloading when the corpus
        is not in the data home.
    emotions : sequence of str, optional
        Keep only these emotions (after ``label_map``).
    label_map : {"fser8", "4class"}, dict or None
        Relabel emotions; see :data:`skser.datasets.LABEL_MAPS`.
    return_X_y : bool, default=False
        Return ``(X, y, groups)`` instead of a :class:`~skser.datasets.Corpus`.

    Returns
    -------
    corpus : Corpus
        As :func:`skser.datasets.load_emodb`: ``X`` file paths of shape
        (n_clips,), ``y`` emotions, ``groups`` speakers. Or ``(X, y, groups)``.

    Raises
    ------
    OSError
        If the corpus is absent and ``download_if_missing=False``, the
        download fails (offline), or its checksum does not match.
    ValueError
        If the archive holds an unsafe member.

    Examples
    --------
    >>> import tempfile
    >>> fetch_emodb(tempfile.mkdtemp(), download_if_missing=False)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    OSError: EmoDB is not in the data home ...
    """
    home = Path(get_data_home(data_home))
    remote = ARCHIVES["emodb"]
    target = home / remote.folder
    if not target.is_dir():
        if not download_if_missing:
            raise OSError(
                f"EmoDB is not in the data home ({target}) and download_if_missing=False; "
                f"call with download_if_missing=True to download {remote.url}."
            )
        _fetch_archive(remote, home)
    return load_emodb(target, emotions=emotions, label_map=label_map, return_X_y=return_X_y)
