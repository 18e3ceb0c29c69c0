"""Tasks with images made by worker processes (rlvr.api): a chunk's images are made on the pages
of its own shared-memory segment, mapped privately by the caller, instead of copied out of it.
They must behave as images made in the caller do (same bytes, writable, picklable), each its own
(writing one changes no other), and the segment must be gone from ``/dev/shm`` once loaded, its
pages freed with the last of its images."""

from __future__ import annotations

import gc
import json
import pickle
import random
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

import rlvr
from rlvr import api
from rlvr.core import Task

pytestmark = pytest.mark.skipif(not api.SHARED_MEMORY_DIR.is_dir(), reason="no /dev/shm")


def left_behind(names) -> list[str]:
    return [name for name in names if (api.SHARED_MEMORY_DIR / name).exists()]


def mapped_segments(names) -> set[str]:
    """Which of the segment ``names`` this process still maps (``/proc/self/maps``)."""
    maps = Path("/proc/self/maps").read_text()
    return {name for name in names if f"/{name}" in maps}


def noise(mode, size, seed=0):
    rng = random.Random(seed)
    count = len(Image.new(mode, size).tobytes())
    return Image.frombytes(mode, size, bytes(rng.randrange(256) for _ in range(count)))


def own_chunk(items):
    """``items`` through a segment of their own: (loaded items, the segment's name)."""
    segments = api.ChunkSegments(limit=2, bytes_per_task=1 << 16, own_pages=True)
    try:
        name = segments.lend(1)
        packed = api.write_chunk(items, name)
        assert packed is not None and packed[0] == name
        return segments.load(*packed), name
    finally:
        segments.close()


def test_own_segment_images_load_as_pickle_would_and_live_on_its_pages():
    """Every stored mode (and the others, copied as before) comes back as a pickle round trip
    gives it; the segment is unlinked by the load, stays mapped while one of its images lives
    and is unmapped when the last one is collected."""
    images = [noise(mode, (37, 23), seed) for seed, mode in enumerate(("RGB", "RGBA", "RGBX", "L", "1", "P", "F"))]
    images[0].info["note"] = "kept"
    items = [({"images": tuple(images)}, b"key"), (images[3], images[3], "text")]
    loaded, name = own_chunk(items)
    assert not left_behind([name])
    expected = pickle.loads(pickle.dumps(items))
    for got, want in zip([*loaded[0][0]["images"], loaded[1][0]], [*expected[0][0]["images"], expected[1][0]]):
        assert (got.mode, got.size, got.info, got.getpalette(), got.tobytes()) == (
            want.mode,
            want.size,
            want.info,
            want.getpalette(),
            want.tobytes(),
        )
        assert not got.readonly
    assert loaded[1][0] is loaded[1][1]
    assert mapped_segments([name]) == {name}
    kept = loaded[0][0]["images"][0]
    del loaded, got, want
    gc.collect()
    assert mapped_segments([name]) == {name}  # the RGB image still lives on the segment's pages
    assert kept.tobytes() == images[0].tobytes()
    del kept
    gc.collect()
    assert not mapped_segments([name])


def test_writing_a_loaded_image_changes_it_alone():
    """paste, putpixel, pixel access and ImageDraw on an image made on a chunk's pages change
    that image only: not its chunk's other images, and not the segment (copy on write)."""
    first, second = noise("RGB", (40, 30), 1), noise("RGB", (40, 30), 2)
    loaded, _ = own_chunk([first, second, noise("L", (9, 9), 3)])
    image, neighbour, grey = loaded
    image.paste((255, 0, 0), (0, 0, 10, 10))
    image.putpixel((20, 20), (1, 2, 3))
    image.load()[21, 21] = (4, 5, 6)
    ImageDraw.Draw(image).line((0, 29, 39, 29), fill=(7, 8, 9))
    grey.load()[0, 0] = 17
    expected = first.copy()
    expected.paste((255, 0, 0), (0, 0, 10, 10))
    expected.putpixel((20, 20), (1, 2, 3))
    expected.putpixel((21, 21), (4, 5, 6))
    ImageDraw.Draw(expected).line((0, 29, 39, 29), fill=(7, 8, 9))
    assert image.tobytes() == expected.tobytes()
    assert neighbour.tobytes() == second.tobytes()
    assert grey.getpixel((0, 0)) == 17
    assert pickle.loads(pickle.dumps(image)).tobytes() == expected.tobytes()


@pytest.mark.parametrize("env_id", ["SudokuImage-v0", "Rotation-v0"])
def test_image_tasks_from_two_workers_are_those_of_one(env_id):
    """Same bytes as one process makes, through JSON and pickle alike, and a task's image can
    be drawn on without touching the next task's or a second run's."""
    one = rlvr.generate(env_id, 12, seed=7)
    two = rlvr.generate(env_id, 12, seed=7, workers=2)
    assert [t.to_json() for t in two] == [t.to_json() for t in one]
    assert [t.images[0].tobytes() for t in two] == [t.images[0].tobytes() for t in one]
    assert [pickle.loads(pickle.dumps(t)).to_json() for t in two] == [t.to_json() for t in one]
    assert Task.from_dict(json.loads(two[0].to_json())).to_json() == one[0].to_json()
    ImageDraw.Draw(two[0].images[0]).rectangle((0, 0, 50, 50), fill=(0, 0, 0))
    two[1].images[0].load()[0, 0] = (1, 1, 1)
    assert two[0].images[0].tobytes() != one[0].images[0].tobytes()
    assert [t.to_json() for t in two[2:]] == [t.to_json() for t in one[2:]]
    assert [t.to_json() for t in rlvr.generate(env_id, 3, seed=7, workers=2)] == [t.to_json() for t in one[:3]]


def rss_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096


def _rss_growth_over_rounds(rounds: int = 4) -> int:
    """Bytes of RSS this process gains over ``rounds`` generate calls of 24 image tasks each,
    every call's tasks dropped before the next, after two calls to settle. Every image's pixels
    are read, so their pages count in RSS (a page of a segment nobody touched counts nowhere)."""
    for round_ in range(2 + rounds):
        if round_ == 2:
            gc.collect()
            settled = rss_bytes()
        tasks = rlvr.generate("SudokuImage-v0", 24, seed=100 * round_, workers=2)
        assert len(tasks) == 24 and all(image.tobytes() for task in tasks for image in task.images)
        del tasks
        gc.collect()
    return rss_bytes() - settled


def test_dropped_image_tasks_give_their_pages_back():
    """RSS does not grow call after call: 24 tasks are ~26 MB of pixels a round, so keeping even
    a sixth of them would pass the limit. Measured in a fresh process, where the heap of the rest
    of the suite (over a GB by the end) cannot move the figure."""
    code = (
        "import sys\n"
        "sys.path.insert(0, 'tests')\n"
        "from test_generate_images import _rss_growth_over_rounds\n"
        "if __name__ == '__main__':\n"
        "    print(_rss_growth_over_rounds())\n"
    )
    assert printed_by_a_fresh_process(code) < 16 << 20


def printed_by_a_fresh_process(code: str) -> int:
    """The last integer ``code`` prints, run by a fresh interpreter from the project's root."""
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.split()[-1])


def test_image_streams_leave_no_segments(monkeypatch):
    """Nothing is left in /dev/shm after a call, after a stream closed early, or after a
    worker's error."""
    created = []
    real_create = api.ChunkSegments._create

    def create(self, size, own=False):
        segment = real_create(self, size, own)
        if segment is not None:
            created.append(segment.name)
        return segment

    monkeypatch.setattr(api.ChunkSegments, "_create", create)
    for round_ in range(3):
        tasks = rlvr.generate("SudokuImage-v0", 24, seed=100 * round_, workers=2)
        assert len(tasks) == 24 and not left_behind(created)
        del tasks
    stream = rlvr.iter_generate("Rotation-v0", 1000, 0, 0.5, workers=2)
    next(stream)
    stream.close()
    with pytest.raises(ValueError, match="unknown parameter"):
        rlvr.generate("Rotation-v0", 8, workers=2, colours="unknown")
    assert len(created) > 20 and not left_behind(created)


def _second_chunk_page_faults(env_id):
    """Minor page faults of making and packing a chunk of image tasks again, in this process."""
    import resource

    job = (env_id, [0, 1, 2, 3], 0.5, "train", {}, False, None, None)
    api._generate_chunk(job)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    api._generate_chunk(job)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def test_pool_processes_keep_freed_memory_for_the_next_task():
    """A pool process reuses the memory its last chunk freed (glibc told to keep it), instead
    of faulting in ~1 MB of fresh pages per image task again (~2,500 faults for these four) --
    also when multiprocessing's forkserver was started first by someone else (here a plain
    process; in a trainer, a verification pool), so the worker server never set it up."""
    import os

    if not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"):
        pytest.skip("glibc only")
    code = (
        "import multiprocessing, os, sys\n"
        "sys.path.insert(0, 'tests')\n"
        "from rlvr import api\n"
        "from test_generate_images import _second_chunk_page_faults\n"
        "if __name__ == '__main__':\n"
        "    other = multiprocessing.get_context('forkserver').Process(target=os.getpid)\n"
        "    other.start(); other.join()\n"
        "    with api.running_executor(1, 'process', ['SudokuImage-v0']) as pool:\n"
        "        print(pool.submit(_second_chunk_page_faults, 'rlvr/SudokuImage-v0').result())\n"
    )
    assert printed_by_a_fresh_process(code) < 500


def test_chunks_share_reused_segments_while_dev_shm_is_more_than_half_full(monkeypatch):
    """Own pages stay charged to /dev/shm while their images live: with less than half of it
    free, a chunk of images is lent a reused segment instead, its pixels copied out as before."""
    import os

    real_statvfs = os.statvfs

    def half_full(path):
        room = real_statvfs(path)
        total = max(room.f_blocks, 1 << 16)  # at least 64K blocks, so a chunk fits a quarter of the rest
        return os.statvfs_result((room.f_bsize, room.f_frsize, total, total * 2 // 5, total * 2 // 5, *room[5:]))

    monkeypatch.setattr(os, "statvfs", half_full)
    first = noise("RGB", (40, 30), 5)
    segments = api.ChunkSegments(limit=2, bytes_per_task=1 << 16, own_pages=True)
    try:
        name = segments.lend(1)
        loaded = segments.load(*api.write_chunk([first], name))
        segments.give_back(name)
        assert (api.SHARED_MEMORY_DIR / name).exists() and segments.lend(1) == name  # kept, lent again
        second = noise("RGB", (40, 30), 6)
        assert segments.load(*api.write_chunk([second], name))[0].tobytes() == second.tobytes()
        assert loaded[0].tobytes() == first.tobytes()  # copied out: the segment's new chunk changes nothing
    finally:
        segments.close()
    assert not left_behind([name])
