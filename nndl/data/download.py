"""Fetching published data sets into a local cache: known sources, verified checksums, atomic writes.

A :class:`DataSource` names the mirrors a data set is published on and,
for every file, its name, size and MD5 checksum as published. :func:`fetch`
makes the files present and verified in a folder:

1. a file already there with the right size and checksum is used as it is
   (nothing is requested); the loaders call :func:`fetch` only for files
   they do not find, so a cache hit costs no request and no hashing;
2. otherwise each mirror is tried in turn: the response is streamed into a
   temporary file in the same folder, never beyond the file's known size,
   hashed on the way, and renamed over the final name only when size and
   checksum match (a failed or interrupted download leaves nothing behind);
3. members of an archive (CIFAR's ``.tar.gz``) are extracted by name from a
   list the source gives: only regular files, never links, at most their
   bound in bytes, each checked against its own checksum, written to a
   temporary folder and renamed into place. A path stored in the archive
   is never used to write a file.

When every mirror fails, :class:`DownloadError` names each URL and what went
wrong, and says where to put the file by hand.

The cache folder is ``root`` when given, else the environment variable
``NNDL_DATA``, else ``$XDG_CACHE_HOME/nndl`` (``~/.cache/nndl``); each data
set has its own subfolder (``mnist``, ``fashion_mnist``, ``cifar10``,
``cifar100``).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass

from nndl.data.errors import DataFormatError

CHUNK = 1 << 20
MAX_MEMBER_BYTES = 256 * 2**20
"""Bound on an archive member whose exact size is not listed (CIFAR's batches are about 30 MB)."""


@dataclass(frozen=True)
class RemoteFile:
    """One published file: its name (on the mirror and on disk), MD5 checksum and size in bytes.

    ``size`` may be None for an archive member, which is then bounded by
    :data:`MAX_MEMBER_BYTES`; a downloaded file always has its exact size.
    """

    name: str
    md5: str
    size: int | None


@dataclass(frozen=True)
class DataSource:
    """Where a data set is published and what its files are.

    Parameters
    ----------
    title : str
        Human name used in messages ("MNIST").
    mirrors : tuple of str
        Base URLs (``http://`` or ``https://``, ending in ``/``); a file's URL is
        ``mirror + file.name``. Tried in order.
    files : tuple of RemoteFile
        The files downloaded as they are.
    members : tuple of RemoteFile
        For an archive source (``files`` holds one ``.tar.gz``): the members
        extracted from it, by their path inside the archive.
    homepage : str
        Where the data set is described (quoted in error messages).

    A local or private mirror is ``dataclasses.replace(SOURCE, mirrors=(...))``.
    """

    title: str
    mirrors: tuple[str, ...]
    files: tuple[RemoteFile, ...]
    members: tuple[RemoteFile, ...] = ()
    homepage: str = ""


class DownloadError(OSError):
    """A file could not be fetched from any mirror, or its checksum did not match.

    The message lists every URL tried with its failure and where to put the file by hand.
    """


def data_home(root: str | os.PathLike | None = None) -> str:
    """The cache folder: ``root``, else ``$NNDL_DATA``, else ``$XDG_CACHE_HOME/nndl`` (``~/.cache/nndl``)."""
    if root is not None:
        return os.fspath(root)
    if os.environ.get("NNDL_DATA"):
        return os.environ["NNDL_DATA"]
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "nndl")


def file_md5(path: str | os.PathLike, limit: int | None = None) -> tuple[str, int]:
    """(hex MD5, size) of a file, reading at most ``limit + 1`` bytes when a limit is given."""
    digest, size = hashlib.md5(usedforsecurity=False), 0
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if limit is not None and size > limit:
                break
    return digest.hexdigest(), size


def is_verified(path: str, expected: RemoteFile) -> bool:
    """The file exists with the expected size (if known) and MD5."""
    if not os.path.isfile(path):
        return False
    if expected.size is not None and os.path.getsize(path) != expected.size:
        return False
    return file_md5(path)[0] == expected.md5


def fetch(source: DataSource, directory: str | os.PathLike, names=None, *, timeout: float = 60.0,
          verbose: bool = True) -> dict[str, str]:
    """Make the files ``names`` of ``source`` present and verified in ``directory``; their paths by name.

    ``names`` are names of ``source.files`` or, for an archive source, of
    ``source.members`` (default: all of them). A file present and verified is
    used without any request.

    Raises
    ------
    DownloadError
        No mirror delivered a file of the right size and checksum (offline,
        HTTP error, timeout, mismatch).
    DataFormatError
        The archive is corrupt, lacks a listed member or holds it as a link;
        an extracted member does not match its checksum.
    """
    directory = os.fspath(directory)
    listed = source.members or source.files
    by_name = {f.name: f for f in listed}
    names = list(by_name) if names is None else list(names)
    for name in by_name:
        _check_relative(name)
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValueError(f"fetch: {source.title} has no file {', '.join(unknown)}; listed: {', '.join(by_name)}")
    paths = {n: os.path.join(directory, *n.split("/")) for n in names}
    if all(is_verified(paths[n], by_name[n]) for n in names):
        return paths
    os.makedirs(directory, exist_ok=True)
    if not source.members:
        for name in names:
            if not is_verified(paths[name], by_name[name]):
                _download(source, by_name[name], paths[name], timeout, verbose)
        return paths
    archive = source.files[0]
    archive_path = os.path.join(directory, archive.name)
    if not is_verified(archive_path, archive):
        _download(source, archive, archive_path, timeout, verbose)
    extract_members(archive_path, directory, source.members)
    return paths


def _download(source: DataSource, remote: RemoteFile, path: str, timeout: float, verbose: bool) -> None:
    failures = []
    for mirror in source.mirrors:
        url = mirror + remote.name
        if not url.startswith(("http://", "https://")):
            failures.append(f"{url}: not an http(s) URL")
            continue
        if verbose:
            print(f"nndl: downloading {url} ({remote.size / 1e6:.1f} MB) to {path}", file=sys.stderr)
        try:
            _download_from(url, remote, path, timeout)
            return
        except _Mismatch as error:
            failures.append(f"{url}: {error}")
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
            # offline, refused, HTTP error status, timeout, connection cut mid-file
            failures.append(f"{url}: {getattr(error, 'reason', None) or error}")
    tried = "\n  ".join(failures) or "(no mirror listed)"
    home = f" ({source.homepage})" if source.homepage else ""
    raise DownloadError(
        f"could not download {source.title} file {remote.name}:\n  {tried}\n"
        f"Check the connection, or download it by hand{home} and put it at {path} "
        f"(expected {remote.size} bytes, MD5 {remote.md5})")


def _check_relative(name: str) -> None:
    """A listed file name is a relative path of plain components (it becomes a path under the cache)."""
    parts = name.split("/")
    if not name or name.startswith("/") or any(part in ("", ".", "..") or "\\" in part for part in parts):
        raise ValueError(f"DataSource: file name {name!r} must be a relative path without '..' or empty parts")


class _Mismatch(Exception):
    """The delivered bytes are not the published file (size or checksum)."""


def _download_from(url: str, remote: RemoteFile, path: str, timeout: float) -> None:
    """Stream ``url`` into a temporary file beside ``path``; rename it over ``path`` once verified."""
    folder = os.path.dirname(path) or "."
    handle, partial = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            declared = response.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) != remote.size:
                raise _Mismatch(f"the server announces {declared} bytes, the published file has {remote.size}")
            digest, size = hashlib.md5(usedforsecurity=False), 0
            while chunk := response.read(CHUNK):
                size += len(chunk)
                if size > remote.size:
                    raise _Mismatch(f"more than the published {remote.size} bytes; not kept")
                digest.update(chunk)
                out.write(chunk)
        if size != remote.size:
            raise _Mismatch(f"received {size} bytes, the published file has {remote.size}; not kept")
        if digest.hexdigest() != remote.md5:
            raise _Mismatch(f"checksum mismatch: MD5 {digest.hexdigest()}, expected {remote.md5}; not kept")
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def extract_members(archive_path: str, directory: str, members: tuple[RemoteFile, ...]) -> None:
    """Extract the listed members of a tar archive into ``directory``, verified, atomically per file.

    Members are matched by name against ``members``; the archive's other
    entries are skipped, a listed one that is a link, a device or a folder is
    refused, as is one listed twice or over its bound. Files go to a temporary
    folder first and are renamed into place after all have been checked.
    """
    wanted = {m.name: m for m in members}
    for name in wanted:
        _check_relative(name)
    staging = tempfile.mkdtemp(dir=directory, prefix=".extract-")
    try:
        found = set()
        try:
            with tarfile.open(archive_path, "r:*") as tar:
                for info in tar:
                    if info.name not in wanted:
                        continue
                    if info.name in found:
                        raise DataFormatError(archive_path, f"member {info.name} appears twice")
                    if not info.isreg():
                        raise DataFormatError(archive_path, f"member {info.name} is not a regular file (a link, "
                                                            "folder or device); refused")
                    _copy_member(archive_path, tar, info, wanted[info.name], staging)
                    found.add(info.name)
        except (tarfile.TarError, EOFError, zlib.error, OSError) as error:  # gzip's BadGzipFile is an OSError
            raise DataFormatError(archive_path, f"corrupt or truncated archive ({type(error).__name__}: "
                                                f"{error})") from error
        missing = [name for name in wanted if name not in found]
        if missing:
            raise DataFormatError(archive_path, f"missing member(s) {', '.join(missing)}")
        for name in wanted:
            target = os.path.join(directory, *name.split("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.replace(os.path.join(staging, *name.split("/")), target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _copy_member(archive_path: str, tar: tarfile.TarFile, info: tarfile.TarInfo, member: RemoteFile,
                 staging: str) -> None:
    bound = MAX_MEMBER_BYTES if member.size is None else member.size
    if info.size > bound or (member.size is not None and info.size != member.size):
        raise DataFormatError(archive_path, f"member {info.name} has {info.size} bytes, expected "
                                            f"{'at most ' if member.size is None else ''}{bound}")
    # The destination is built from the listed name, never from the archive's own path.
    target = os.path.join(staging, *member.name.split("/"))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    digest = hashlib.md5(usedforsecurity=False)
    source = tar.extractfile(info)
    with source, open(target, "wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != member.md5:
        raise DataFormatError(archive_path, f"member {info.name}: MD5 {digest.hexdigest()}, expected {member.md5}")
