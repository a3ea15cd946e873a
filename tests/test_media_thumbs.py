"""fluxcull.media.thumbs: keyed by content, atomic, long side 512."""

from __future__ import annotations

import os

from PIL import Image

from fluxcull.media.thumbs import THUMB_SIZE, make_thumbnail, save_thumbnail, thumb_key, thumb_path
from tests.photogen import scene


def test_thumbnail_size_and_aspect():
    t = make_thumbnail(scene(1, (2000, 1000)))
    assert t.size == (THUMB_SIZE, THUMB_SIZE // 2)
    small = make_thumbnail(scene(1, (100, 80)))
    assert small.size == (100, 80)


def test_save_is_atomic_and_keyed(tmp_path, library):
    key = thumb_key("ab" * 32)
    dest = save_thumbnail(library, key, scene(2, (800, 600)))
    assert dest == thumb_path(library, key) and dest.parent.parent == library.thumbs_dir
    with Image.open(dest) as im:
        assert im.format == "JPEG" and max(im.size) == THUMB_SIZE
    assert [n for n in os.listdir(dest.parent) if n.startswith(".tmp")] == []
    assert thumb_key("cd" * 32) != key
