"""A download archive is unpacked safely: hostile names, links, bombs, size and count limits,
encrypted members and files that are no zip are clear errors (or notes), never a crash, and the
same archive unpacks to the same bytes (so a rerun finds every notebook's hash again)."""
from __future__ import annotations

import hashlib
import io
import stat
import zipfile

import pytest

from grader.lms.archive import ArchiveLimits, unpack
from grader.lms.platform import LmsError
from tests.lms import downloads


def _archive(tmp_path, build) -> object:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        build(archive)
    path = tmp_path / "download.zip"
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.parametrize("name", ["../evil.ipynb", "/etc/evil.ipynb", "a/../../evil.ipynb",
                                  "..\\evil.ipynb", "C:/evil.ipynb", "C:evil.ipynb"])
def test_names_that_leave_the_folder_are_refused(tmp_path, limits, name):
    path = _archive(tmp_path, lambda a: a.writestr(name, downloads.NOTEBOOK))
    with pytest.raises(LmsError, match="points outside the archive's folder"):
        unpack(path, tmp_path / "out", limits)
    assert not (tmp_path / "evil.ipynb").exists() and not (tmp_path / "out").exists()


def test_links_are_not_unpacked(tmp_path, limits):
    def build(archive):
        link = zipfile.ZipInfo("alice_1_2_week5.ipynb")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
        archive.writestr("bob_3_4_week5.ipynb", downloads.NOTEBOOK)
    done = unpack(_archive(tmp_path, build), tmp_path / "out", limits)
    assert [p.name for p in done.files] == ["bob_3_4_week5.ipynb"]
    assert done.skipped == ["download.zip: alice_1_2_week5.ipynb is a link, not unpacked"]


def test_a_zip_bomb_is_refused_before_unpacking(tmp_path, limits):
    path = _archive(tmp_path, lambda a: a.writestr("bomb_1_2_week5.ipynb", b"\0" * (8 << 20)))
    with pytest.raises(LmsError, match="zip bomb"):
        unpack(path, tmp_path / "out", limits)
    assert not (tmp_path / "out").exists()


def test_a_header_that_lies_about_the_size_is_refused(tmp_path, limits):
    path = _archive(tmp_path, lambda a: a.writestr("liar_1_2_week5.ipynb", b"x" * 5000))
    data = bytearray(path.read_bytes())
    # shrink the declared size in the central directory to 50 bytes
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = (50).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(LmsError):
        unpack(path, tmp_path / "out", limits)


@pytest.mark.parametrize("limit, message", [
    (ArchiveLimits(max_bytes=100, max_files=10, max_ratio=200), "unpacks to .* --archive-max-size"),
    (ArchiveLimits(max_bytes=1 << 30, max_files=2, max_ratio=200), "holds 3 files, more than"),
])
def test_size_and_count_limits(tmp_path, limit, message):
    path = _archive(tmp_path, lambda a: [a.writestr(f"s_{i}_{i}_w.ipynb", downloads.NOTEBOOK)
                                         for i in range(3)])
    with pytest.raises(LmsError, match=message):
        unpack(path, tmp_path / "out", limit)


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04truncated"])
def test_a_file_that_is_no_zip(tmp_path, limits, content):
    path = tmp_path / "submissions.zip"
    path.write_bytes(content)
    with pytest.raises(LmsError, match="not a readable zip archive.*download it"):
        unpack(path, tmp_path / "out", limits)


def test_a_damaged_member_is_an_error(tmp_path, limits):
    path = _archive(tmp_path, lambda a: a.writestr("a_1_2_w.ipynb", downloads.notebook_bytes("x") * 50))
    data = bytearray(path.read_bytes())
    data[60] ^= 0xFF  # inside the compressed data
    path.write_bytes(bytes(data))
    with pytest.raises(LmsError, match="not a readable zip archive"):
        unpack(path, tmp_path / "out", limits)


def test_an_encrypted_member_is_an_error(tmp_path, limits):
    path = _archive(tmp_path, lambda a: a.writestr("a_1_2_w.ipynb", b"x"))
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        data[at + offset] |= 0x1
    path.write_bytes(bytes(data))
    with pytest.raises(LmsError, match="encrypted"):
        unpack(path, tmp_path / "out", limits)


def test_names_without_the_utf8_flag_and_repeatable_bytes(tmp_path, limits):
    files = {"müllerjürgen_4711_1_wöche5.ipynb": downloads.NOTEBOOK}
    path = tmp_path / "old-tool.zip"
    path.write_bytes(downloads.zip_of(files, utf8_flag=False))
    assert not zipfile.ZipFile(path).infolist()[0].flag_bits & 0x800
    first = unpack(path, tmp_path / "out", limits)
    assert [p.name for p in first.files] == list(files)
    digest = hashlib.sha256(first.files[0].read_bytes()).hexdigest()
    (tmp_path / "out" / "stale.ipynb").write_text("left from an older run")
    again = unpack(path, tmp_path / "out", limits)
    assert hashlib.sha256(again.files[0].read_bytes()).hexdigest() == digest
    assert not (tmp_path / "out" / "stale.ipynb").exists()


def test_a_folder_the_grader_did_not_unpack_is_never_emptied(tmp_path, limits):
    path = tmp_path / "week5.zip"
    path.write_bytes(downloads.zip_of({"a_1_2_w.ipynb": downloads.NOTEBOOK}))
    mine = tmp_path / "week5"
    mine.mkdir()
    (mine / "my notes.txt").write_text("the instructor's own")
    with pytest.raises(LmsError, match="exists and was not unpacked by the grader"):
        unpack(path, mine, limits)
    assert (mine / "my notes.txt").read_text() == "the instructor's own"
