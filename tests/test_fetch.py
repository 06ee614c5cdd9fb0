"""fetch_emodb / get_data_home, with the downloader replaced: no test touches the network."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import shutil
import stat
import urllib.error
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from skser.datasets import _fetch, fetch_emodb, get_data_home


def wav_bytes() -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.zeros(320, dtype=np.float32), 16000, format="WAV")
    return buf.getvalue()


def build_zip(path: Path, members: dict[str, bytes], symlinks: dict[str, str] = ()) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data)
        for name, target in dict(symlinks).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


@pytest.fixture
def emodb_zip(tmp_path):
    (tmp_path / "server").mkdir()
    return build_zip(
        tmp_path / "server" / "download.zip",
        {"wav/03a01Fa.wav": wav_bytes(), "wav/16b10Wb.wav": wav_bytes(), "erkennung.txt": b"x"},
    )


@pytest.fixture
def server(monkeypatch):
    """Serve one local file as the archive and pin its digest in the registry."""
    calls = []

    def serve(archive: Path | None, *, sha256="auto"):
        def fake_download(url, dest):
            calls.append(url)
            if archive is None:
                raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
            shutil.copyfile(archive, dest)

        digest = hashlib.sha256(archive.read_bytes()).hexdigest() if archive else None
        remote = dataclasses.replace(
            _fetch.ARCHIVES["emodb"], sha256=digest if sha256 == "auto" else sha256
        )
        monkeypatch.setitem(_fetch.ARCHIVES, "emodb", remote)
        monkeypatch.setattr(_fetch, "_download", fake_download)
        return calls

    return serve


def test_get_data_home(tmp_path, monkeypatch):
    assert get_data_home(tmp_path / "a" / "b") == str(tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b").is_dir()
    monkeypatch.setenv("SKSER_DATA", str(tmp_path / "env"))
    assert get_data_home() == str(tmp_path / "env") and (tmp_path / "env").is_dir()
    monkeypatch.delenv("SKSER_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert get_data_home() == str(tmp_path / "home" / "skser_data")
    assert (tmp_path / "home" / "skser_data").is_dir()


def test_fetch_downloads_verifies_extracts_once(tmp_path, emodb_zip, server):
    calls = server(emodb_zip)
    home = tmp_path / "home"
    corpus = fetch_emodb(home)
    assert calls == ["http://emodb.bilderbar.info/download/download.zip"]
    assert sorted(corpus.y) == ["anger", "happiness"] and sorted(corpus.groups) == ["03", "16"]
    assert all(Path(p).parent == home / "emodb" / "wav" for p in corpus.X)
    # Only the extracted folder is left: no archive, no temporary file or folder.
    assert sorted(p.name for p in home.iterdir()) == ["emodb"]
    # Second call: read from the data home, no download.
    X, y, groups = fetch_emodb(
        home, download_if_missing=False, label_map="4class", return_X_y=True
    )
    assert calls == ["http://emodb.bilderbar.info/download/download.zip"] and len(y) == 2


def test_fetch_checksum_mismatch_leaves_nothing(tmp_path, emodb_zip, server):
    server(emodb_zip, sha256="0" * 64)
    home = tmp_path / "home"
    with pytest.raises(OSError, match="SHA-256") as err:
        fetch_emodb(home)
    assert hashlib.sha256(emodb_zip.read_bytes()).hexdigest() in str(err.value)
    assert list(home.iterdir()) == []


def test_fetch_unpinned_digest_warns_with_it(tmp_path, emodb_zip, server):
    server(emodb_zip, sha256=None)
    digest = hashlib.sha256(emodb_zip.read_bytes()).hexdigest()
    with pytest.warns(UserWarning, match=digest):
        corpus = fetch_emodb(tmp_path / "home")
    assert len(corpus.y) == 2


def test_fetch_offline_error(tmp_path, server):
    server(None)
    home = tmp_path / "home"
    with pytest.raises(OSError, match="offline") as err:
        fetch_emodb(home)
    assert "http://emodb.bilderbar.info/download/download.zip" in str(err.value)
    assert list(home.iterdir()) == []


def test_fetch_absent_without_download(tmp_path, server):
    calls = server(None)
    with pytest.raises(OSError, match="download_if_missing=False"):
        fetch_emodb(tmp_path / "home", download_if_missing=False)
    assert calls == []


@pytest.mark.parametrize(
    "members, symlinks, why",
    [
        ({"../evil.wav": b"x"}, {}, r"'\.\.'"),
        ({"wav/../../evil.wav": b"x"}, {}, r"'\.\.'"),
        ({"/tmp/evil.wav": b"x"}, {}, "absolute"),
        ({"C:/evil.wav": b"x"}, {}, "absolute"),
        ({}, {"wav/link.wav": "/etc/passwd"}, "symbolic link"),
    ],
)
def test_fetch_rejects_unsafe_members(tmp_path, server, members, symlinks, why):
    archive = build_zip(
        tmp_path / "evil.zip", {"wav/03a01Fa.wav": wav_bytes(), **members}, symlinks
    )
    server(archive)
    home = tmp_path / "data" / "home"
    with pytest.raises(ValueError, match=why):
        fetch_emodb(home)
    assert list(home.iterdir()) == []  # nothing extracted, archive removed
    assert not (tmp_path / "data" / "evil.wav").exists()
