"""Pictures for the visual puzzle families (Jigsaw, Rotation, PatchFit) and the shared parts of
their generators: where pictures come from, how they are cropped and flattened, how pieces are
turned and compared, and how they are laid out under numbered labels.

Sources     ``image_source="procedural"`` (default)  a landscape painted from the task's RNG, no
                    files and no download: a sky (blue, purple or orange) with a gradient, clouds
                    and a sun above hilly ground (green, sandy, brown or teal) with smooth
                    texture; houses and trees standing on the ground; shapes with solid, striped,
                    checked, dotted or gradient fills; long lines, waves and zigzags crossing the
                    whole picture (so they cross piece borders); upright words in Pillow's
                    built-in font. The sky is always at the top (and nearly always brighter than
                    the ground), so "which way is up" has an answer. ``detail`` (0.2–1) scales how much is drawn:
                    at 1 about 8 houses and trees, 10 shapes, 5 lines and 3 words over textured
                    ground; at 0.3 two things standing, one shape, one line and one or two words
                    on untextured gradients (a low-texture picture). From detail 0.5 up, every cell
                    of the puzzle grid whose luminance spread is below 18 gets a shape of its
                    own, so every piece shows something. ``paint_scene`` also returns a caption
                    ("a drawn landscape: a blue sky with a sun above green ground, 2 houses, …
                    and the word "PARK" written upright") that the Jigsaw and Rotation prompts
                    quote, like the picture on a jigsaw's box.
            ``image_source="photos"``  real photographs that scikit-image ships inside its wheel
                    (read as files from the installed package's ``data`` folder; scikit-image is
                    never imported and nothing is fetched): ``PHOTO_FILES`` lists them with their
                    licences (public domain or CC0) and whether they have a clear "up"; tasks
                    whose answer depends on "up" (Rotation, turned Jigsaw pieces) use only those.
                    Needs ``pip install scikit-image``; without it the generator raises
                    ImportError at construction.
            ``image_dir=PATH``  a folder of the user's own pictures (``.png .jpg .jpeg .bmp
                    .gif .webp .tif .tiff``, searched recursively, sorted by relative path). For
                    Rotation they should have a clear "up".
            ``dataset=…``  a Hugging Face-style table of images, without needing the ``datasets``
                    package: a ``.parquet`` or ``.jsonl`` file (its image column is read into
                    memory once), or any object with ``len()`` and integer indexing that returns
                    dict rows (a ``datasets.Dataset`` is one; pass it to ``gym.make`` or the
                    generator class — ``rlvr.make_task`` keys its cache on JSON and takes paths).
                    The image column is the first of ``IMAGE_COLUMNS`` present, else the first
                    column whose first value decodes as a picture. A cell may be a PIL image,
                    PNG/JPEG bytes, ``{"bytes": …, "path": …}`` (the HF Image feature; bytes may
                    be base64 text in JSON lines), a base64 string, a path (relative to the
                    file's folder), a numpy array, or a list of these (the first is used).
Choice      For a finite source the picture is drawn uniformly by the task's RNG, then a random
            crop of the puzzle's aspect ratio (60–100 % of the largest such crop) is resized to
            the puzzle's size (Lanczos). ``detail`` below 1 flattens its contrast toward its mean
            colour (factor 0.4 + 0.6 × detail): a low-texture version of the same picture.
            ``task.meta["picture"]`` names the source and the picture ({"source", "file" /
            "row", "index", "caption", "licence"} as known, and for ``image_dir`` and datasets
            "sha256", the digest of its decoded pixels); tasks from a non-procedural source
            get an id suffix (``/photos``, ``/dir-<digest>``, ``/data-<digest>``) so they never
            share an id with procedural tasks.
Splits      Every task of one picture of a finite source is on one side of the train/held-out
            split, whatever its crop, turns, cut, softening or family: its group
            (``ImagePuzzleGenerator.split_group``) is the photo's file name, or, for ``image_dir``
            and dataset pictures, the SHA-256 of the decoded RGB pixels and size (``pixels_digest``,
            computed once per picture and kept in ``task.meta["picture"]["sha256"]``): the
            folder given (root or a subfolder), the file's name, a copy elsewhere or a row
            repeating a picture do not change its side. About 1 in 8 pictures is held out.
            PatchFit's "other" distractors come from another picture on the task's side (not a
            copy of its own), else from a fresh scene (``other_picture``), so no task shows a
            patch of a picture from the other side. None of the ten photos is held out, so a
            non-train split of ``image_source="photos"`` finds no task and raises (rather than
            test on train photos): evaluate on pictures of your own (``image_dir``). A
            procedural scene is painted anew for each task; its content is its group.
            Uniqueness stays by content: another crop or turn of a picture is another problem.
Look-alikes ``lookalikes`` finds pieces that look the same (mean absolute difference ≤
            ``SAME_PIXELS_MAD`` = 2 of 255), also when turned; the families accept such pieces
            in each other's places (or turns) instead of marking a person wrong for them.
Determinism Everything is drawn from the task's own numpy Generator; the same seed gives the
            same pixels (and PNG bytes) in any process.
Labels      ``tile_pieces`` lays pieces out on a light grey sheet, each under a white band
            holding its number or letter (black, Pillow's built-in font), so no label covers a
            piece pixel; the piece boxes it returns go into ``task.meta`` for pixel solvers.
"""

from __future__ import annotations

import abc
import base64
import colorsys
import dataclasses
import hashlib
import importlib.util
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from rlvr.core import Task, TaskGenerator

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
BASE64_PICTURE_PREFIXES = ("iVBOR", "/9j/", "R0lGOD", "UklGR", "Qk")  # PNG, JPEG, GIF, WebP, BMP
IMAGE_COLUMNS = ("image", "img", "images", "picture", "photo", "png", "jpg", "jpeg")
SHEET_COLOUR = (228, 228, 228)
LABEL_BAND_COLOUR = (255, 255, 255)
LABEL_TEXT_COLOUR = (0, 0, 0)
HOLE_COLOUR = (128, 128, 128)
MAX_CACHED_PICTURES = 16
PICTURE_MIN_SIDE = 8
OTHER_PICTURE_DRAWS = 64  # other_picture's draws of a picture on the task's side before it lists them all
RIGHT_ANGLES = (0, 90, 180, 270)
SAME_PIXELS_MAD = 2.0  # pieces closer than this (mean absolute difference of 255) look alike
THUMB_PX = 6
GRID_GUARANTEE_DETAIL = 0.5  # from this detail up, every puzzle cell gets some structure

# (file in scikit-image's data folder, what it shows, licence, has a clear "up"). All are inside
# the scikit-image wheel; none is fetched. Pictures without a clear up (textures, coins, a star
# field) are left out where the answer depends on which way is up (turned pieces, Rotation).
PHOTO_FILES = (
    ("astronaut.png", "astronaut Eileen Collins (NASA)", "public domain", True),
    ("chelsea.png", "Chelsea the cat (Stefan van der Walt)", "CC0", True),
    ("coffee.png", "a cup of coffee (Rachel Michetti)", "CC0", True),
    ("rocket.jpg", "DSCOVR launch on Falcon 9 (SpaceX)", "public domain", True),
    ("camera.png", "a person with a camera (Lav Varshney)", "CC0", True),
    ("coins.png", "Greek coins (Brooklyn Museum)", "no known copyright restrictions", False),
    ("brick.png", "a brick wall (CC0 Textures)", "CC0", False),
    ("grass.png", "grass (CC0 Textures)", "CC0", False),
    ("gravel.png", "gravel (CC0 Textures)", "CC0", False),
    ("hubble_deep_field.jpg", "Hubble deep field (NASA)", "public domain", False),
)

SKY_HUES = (("blue", (195.0, 235.0)), ("purple", (260.0, 320.0)), ("orange", (15.0, 45.0)))
GROUND_HUES = (("green", (80.0, 140.0)), ("sandy", (30.0, 50.0)), ("brown", (15.0, 30.0)), ("teal", (160.0, 190.0)))
WORDS = (
    "SUN",
    "MAP",
    "RIVER",
    "NORTH",
    "PARK",
    "CAFE",
    "ZOO",
    "BUS 42",
    "EXIT",
    "OPEN",
    "HOTEL",
    "FARM",
    "LAKE",
    "ROAD 7",
    "STOP",
    "MARKET",
    "TOWER",
    "BRIDGE",
    "A12",
    "GATE 3",
    "HILL",
    "PIER",
    "MILL",
    "INN",
    "BAKERY",
    "SCHOOL",
    "PORT",
    "STATION",
    "GARDEN",
    "MUSEUM",
)


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def default_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's built-in font (no font file needed), at ``size`` pixels where FreeType exists."""
    return ImageFont.load_default(size=max(6, int(size)))


def hsv_colour(hue_degrees: float, saturation: float, value: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(
        (hue_degrees % 360.0) / 360.0, min(max(saturation, 0.0), 1.0), min(max(value, 0.0), 1.0)
    )
    return int(round(r * 255)), int(round(g * 255)), int(round(b * 255))


def smooth_noise(nprng: np.random.Generator, width: int, height: int, cells: int) -> np.ndarray:
    """A smooth random field in about [-1, 1]: a coarse random grid upsampled bicubically."""
    cells_x = max(2, int(cells))
    cells_y = max(2, int(round(cells * height / max(width, 1))))
    coarse = nprng.uniform(-1.0, 1.0, size=(cells_y + 1, cells_x + 1)).astype(np.float32)
    field = Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC)
    return np.asarray(field, dtype=np.float32)


def luminance(array: np.ndarray) -> np.ndarray:
    return array[..., 0] * 0.299 + array[..., 1] * 0.587 + array[..., 2] * 0.114


def mean_abs_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16))))


# --------------------------------------------------------------------------------------------
# The procedural scene
# --------------------------------------------------------------------------------------------


def _sky_and_ground(
    nprng: np.random.Generator, width: int, height: int, detail: float
) -> tuple[Image.Image, np.ndarray, str, str]:
    """The background (RGB), the horizon height (pixels from the top) per column, and the names
    of the sky's and the ground's colours.

    The smooth layers (sky gradient and clouds, ground gradient and texture, shading) are
    computed at a third of the size and upsampled; the horizon between them is drawn sharp."""
    kind = nprng.random()
    sky_name, sky_range = SKY_HUES[0 if kind < 0.7 else 1 if kind < 0.85 else 2]
    sky_hue = nprng.uniform(*sky_range)
    sky_top = np.array(hsv_colour(sky_hue, nprng.uniform(0.45, 0.8), nprng.uniform(0.7, 0.92)), np.float32)
    sky_low = np.array(
        hsv_colour(sky_hue + nprng.uniform(-15, 15), nprng.uniform(0.08, 0.25), nprng.uniform(0.93, 1.0)), np.float32
    )
    ground_name, ground_range = GROUND_HUES[int(nprng.integers(len(GROUND_HUES)))]
    ground_hue = nprng.uniform(*ground_range)
    ground_far = np.array(hsv_colour(ground_hue, nprng.uniform(0.35, 0.6), nprng.uniform(0.6, 0.8)), np.float32)
    ground_near = np.array(
        hsv_colour(ground_hue + nprng.uniform(-20, 20), nprng.uniform(0.5, 0.8), nprng.uniform(0.3, 0.5)), np.float32
    )

    xs = np.arange(width, dtype=np.float32)
    horizon = np.full(width, height * nprng.uniform(0.45, 0.62), np.float32)
    for _ in range(3):
        amplitude = height * nprng.uniform(0.01, 0.07)
        period = width * nprng.uniform(0.3, 1.4)
        horizon += amplitude * np.sin(2 * np.pi * xs / period + nprng.uniform(0, 2 * np.pi))

    small_w, small_h = max(8, -(-width // 3)), max(8, -(-height // 3))
    small_horizon = np.interp(np.linspace(0, width - 1, small_w), xs, horizon).astype(np.float32) * (small_h / height)
    ys = np.arange(small_h, dtype=np.float32)[:, None]
    sky_t = np.clip(ys / np.maximum(small_horizon[None, :], 1.0), 0.0, 1.0)[..., None]
    ground_t = np.clip((ys - small_horizon[None, :]) / np.maximum(small_h - small_horizon[None, :], 1.0), 0.0, 1.0)[
        ..., None
    ]
    clouds = np.clip(smooth_noise(nprng, small_w, small_h, nprng.integers(3, 7)) * 1.6 - 0.35, 0.0, 1.0)[..., None]
    texture = smooth_noise(nprng, small_w, small_h, int(nprng.integers(10, 26)))[..., None]
    shading = smooth_noise(nprng, small_w, small_h, 3)[..., None] * 10.0
    clouds = clouds * min(1.0, 0.25 + detail)
    sky = (sky_top * (1 - sky_t) + sky_low * sky_t) * (1 - 0.75 * clouds) + 191.25 * clouds + shading * detail
    ground = ground_far * (1 - ground_t) + ground_near * ground_t + texture * (30.0 * detail**2) + shading * detail

    def enlarge(layer: np.ndarray) -> Image.Image:
        return Image.fromarray(np.clip(np.round(layer), 0, 255).astype(np.uint8)).resize(
            (width, height), Image.Resampling.BICUBIC
        )

    ground_mask = Image.new("L", (width, height), 0)
    outline = (
        [(0.0, float(height))]
        + [(float(x), float(y)) for x, y in zip(xs, horizon)]
        + [(float(width - 1), float(height))]
    )
    ImageDraw.Draw(ground_mask).polygon(outline, fill=255)
    return Image.composite(enlarge(ground), enlarge(sky), ground_mask), horizon, sky_name, ground_name


def _pattern(
    nprng: np.random.Generator, size: tuple[int, int], base: tuple[int, int, int], other: tuple[int, int, int]
) -> Image.Image:
    """A fill for a shape: solid, stripes, checks, dots or a gradient, in two colours."""
    width, height = size
    kind = int(nprng.integers(5))
    a, b = np.array(base, np.float32), np.array(other, np.float32)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    if kind == 0:
        mix = np.zeros((height, width), np.float32)
    elif kind == 1:
        period = float(nprng.uniform(6, 16))
        angle = float(nprng.uniform(0, np.pi))
        mix = ((xs * np.cos(angle) + ys * np.sin(angle)) % period < period / 2).astype(np.float32)
    elif kind == 2:
        period = int(nprng.integers(6, 14))
        mix = (((xs // period) + (ys // period)) % 2).astype(np.float32)
    elif kind == 3:
        period = float(nprng.integers(8, 16))
        mix = ((((xs % period) - period / 2) ** 2 + ((ys % period) - period / 2) ** 2) < (period / 3.2) ** 2).astype(
            np.float32
        )
    else:
        angle = float(nprng.uniform(0, 2 * np.pi))
        ramp = xs * np.cos(angle) + ys * np.sin(angle)
        mix = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1.0)
    rgb = a * (1 - mix[..., None]) + b * mix[..., None]
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def _bright_colour(nprng: np.random.Generator) -> tuple[int, int, int]:
    return hsv_colour(nprng.uniform(0, 360), nprng.uniform(0.55, 1.0), nprng.uniform(0.55, 1.0))


def _paste_shape(
    canvas: Image.Image, nprng: np.random.Generator, box: tuple[int, int, int, int], outline_width: int
) -> None:
    """A random shape (ellipse, rectangle, triangle, star, ring, polygon) with a pattern fill."""
    x0, y0, x1, y1 = box
    width, height = max(2, x1 - x0), max(2, y1 - y0)
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    kind = int(nprng.integers(6))
    if kind == 0:
        draw.ellipse((0, 0, width - 1, height - 1), fill=255)
    elif kind == 1:
        draw.rectangle((0, 0, width - 1, height - 1), fill=255)
    elif kind == 2:
        apex = float(nprng.uniform(0, width - 1))
        draw.polygon([(apex, 0), (0, height - 1), (width - 1, height - 1)], fill=255)
    elif kind == 3:
        points, spikes = [], int(nprng.integers(4, 8))
        for i in range(2 * spikes):
            radius = 1.0 if i % 2 == 0 else float(nprng.uniform(0.35, 0.6))
            angle = np.pi * i / spikes - np.pi / 2
            points.append(
                (
                    (0.5 + 0.5 * radius * np.cos(angle)) * (width - 1),
                    (0.5 + 0.5 * radius * np.sin(angle)) * (height - 1),
                )
            )
        draw.polygon(points, fill=255)
    elif kind == 4:
        thickness = max(3, int(min(width, height) * nprng.uniform(0.15, 0.3)))
        draw.ellipse((0, 0, width - 1, height - 1), fill=255)
        draw.ellipse((thickness, thickness, width - 1 - thickness, height - 1 - thickness), fill=0)
    else:
        count = int(nprng.integers(5, 9))
        angles = np.sort(nprng.uniform(0, 2 * np.pi, count))
        radii = nprng.uniform(0.55, 1.0, count)
        draw.polygon(
            [
                ((0.5 + 0.5 * r * np.cos(a)) * (width - 1), (0.5 + 0.5 * r * np.sin(a)) * (height - 1))
                for a, r in zip(angles, radii)
            ],
            fill=255,
        )
    base, other = _bright_colour(nprng), _bright_colour(nprng)
    canvas.paste(_pattern(nprng, (width, height), base, other), (x0, y0), mask)
    if outline_width > 0:
        edge = (
            mask.filter(ImageFilter.MaxFilter(3))
            if outline_width < 3
            else mask.filter(ImageFilter.MaxFilter(2 * (outline_width // 2) + 1))
        )
        ring = Image.fromarray((np.asarray(edge, np.int16) - np.asarray(mask, np.int16)).clip(0, 255).astype(np.uint8))
        dark = tuple(int(c * 0.35) for c in base)
        canvas.paste(Image.new("RGB", (width, height), dark), (x0, y0), ring)


def _draw_house(draw: ImageDraw.ImageDraw, nprng: np.random.Generator, x: float, ground_y: float, size: float) -> None:
    width, height = size, size * nprng.uniform(0.6, 0.9)
    wall = _bright_colour(nprng)
    roof = hsv_colour(nprng.uniform(0, 40), nprng.uniform(0.5, 0.9), nprng.uniform(0.35, 0.7))
    outline = (40, 30, 30)
    draw.rectangle((x, ground_y - height, x + width, ground_y), fill=wall, outline=outline, width=2)
    draw.polygon(
        [
            (x - size * 0.1, ground_y - height),
            (x + width / 2, ground_y - height - size * 0.55),
            (x + width + size * 0.1, ground_y - height),
        ],
        fill=roof,
        outline=outline,
    )
    window = size * 0.18
    for wx in (x + width * 0.2, x + width * 0.62):
        draw.rectangle(
            (wx, ground_y - height * 0.75, wx + window, ground_y - height * 0.75 + window),
            fill=(255, 240, 150),
            outline=outline,
            width=1,
        )
    draw.rectangle(
        (x + width * 0.42, ground_y - height * 0.45, x + width * 0.58, ground_y), fill=roof, outline=outline, width=1
    )


def _draw_tree(draw: ImageDraw.ImageDraw, nprng: np.random.Generator, x: float, ground_y: float, size: float) -> None:
    trunk = hsv_colour(nprng.uniform(15, 35), 0.6, nprng.uniform(0.25, 0.45))
    leaves = hsv_colour(nprng.uniform(70, 150), nprng.uniform(0.5, 0.9), nprng.uniform(0.3, 0.7))
    draw.rectangle((x - size * 0.08, ground_y - size * 0.5, x + size * 0.08, ground_y), fill=trunk)
    if nprng.random() < 0.5:
        draw.ellipse(
            (x - size * 0.35, ground_y - size * 1.1, x + size * 0.35, ground_y - size * 0.4),
            fill=leaves,
            outline=(20, 50, 20),
            width=2,
        )
    else:
        draw.polygon(
            [
                (x, ground_y - size * 1.25),
                (x - size * 0.4, ground_y - size * 0.35),
                (x + size * 0.4, ground_y - size * 0.35),
            ],
            fill=leaves,
            outline=(20, 50, 20),
        )


def _draw_lines(draw: ImageDraw.ImageDraw, nprng: np.random.Generator, width: int, height: int, count: int) -> None:
    """Long polylines, waves and zigzags that cross most of the picture."""
    for _ in range(count):
        colour = _bright_colour(nprng) if nprng.random() < 0.7 else (int(nprng.integers(0, 60)),) * 3
        thickness = int(nprng.integers(2, 7))
        kind = int(nprng.integers(3))
        if kind == 0:  # a straight line edge to edge
            a = (
                (float(nprng.uniform(0, width)), 0.0)
                if nprng.random() < 0.5
                else (0.0, float(nprng.uniform(0, height)))
            )
            b = (
                (float(nprng.uniform(0, width)), float(height))
                if a[1] == 0.0
                else (float(width), float(nprng.uniform(0, height)))
            )
            points = [a, b]
        elif kind == 1:  # a wave across
            y0, amplitude = nprng.uniform(0.1, 0.9) * height, nprng.uniform(0.03, 0.12) * height
            period, phase = nprng.uniform(0.25, 0.8) * width, nprng.uniform(0, 2 * np.pi)
            points = [
                (float(x), float(y0 + amplitude * np.sin(2 * np.pi * x / period + phase)))
                for x in np.linspace(0, width, 48)
            ]
        else:  # a zigzag down
            x0, amplitude = nprng.uniform(0.1, 0.9) * width, nprng.uniform(0.03, 0.1) * width
            steps = int(nprng.integers(5, 11))
            points = [
                (float(x0 + amplitude * (1 if i % 2 else -1)), float(height * i / steps)) for i in range(steps + 1)
            ]
        draw.line(points, fill=colour, width=thickness, joint="curve")


def _draw_word(canvas: Image.Image, nprng: np.random.Generator, width: int, height: int) -> str:
    word = WORDS[int(nprng.integers(len(WORDS)))]
    size = int(max(12, min(width, height) * nprng.uniform(0.07, 0.13)))
    font = default_font(size)
    draw = ImageDraw.Draw(canvas)
    left, top, right, bottom = draw.textbbox((0, 0), word, font=font)
    x = float(nprng.uniform(0, max(1, width - (right - left))))
    y = float(nprng.uniform(0, max(1, height - (bottom - top))))
    fill = _bright_colour(nprng)
    stroke = (0, 0, 0) if sum(fill) > 300 else (255, 255, 255)
    draw.text((x - left, y - top), word, font=font, fill=fill, stroke_width=max(1, size // 12), stroke_fill=stroke)
    return word


def paint_scene(
    nprng: np.random.Generator, width: int, height: int, detail: float = 1.0, grid: tuple[int, int] | None = None
) -> tuple[Image.Image, str]:
    """A procedural landscape scene of ``width``×``height`` pixels (RGB), drawn from ``nprng``, and
    a one-line caption of what it shows (sky, ground, houses, trees, shapes, words).

    ``detail`` in [0.2, 1] scales the number of objects, lines, words and the ground texture; with
    ``grid=(rows, cols)`` and detail ≥ 0.7 every grid cell that came out plain gets a shape of its
    own, so every puzzle piece has something to recognise.
    """
    detail = float(min(max(detail, 0.2), 1.0))
    canvas, horizon, sky_name, ground_name = _sky_and_ground(nprng, width, height, detail)
    counts = {"house": 0, "tree": 0, "shape": 0}
    draw = ImageDraw.Draw(canvas)
    short = min(width, height)

    # the sun (or moon), a halo around it
    sun_r = short * nprng.uniform(0.05, 0.09)
    sun_x = nprng.uniform(0.1, 0.9) * width
    sun_y = nprng.uniform(0.08, 0.6) * float(horizon.min())
    sun_colour = hsv_colour(nprng.uniform(40, 60), nprng.uniform(0.3, 0.8), 1.0)
    draw.ellipse(
        (sun_x - sun_r * 1.5, sun_y - sun_r * 1.5, sun_x + sun_r * 1.5, sun_y + sun_r * 1.5),
        fill=tuple(min(255, int(c) + 25) for c in np.asarray(canvas)[int(sun_y), int(min(sun_x, width - 1))]),
    )
    draw.ellipse(
        (sun_x - sun_r, sun_y - sun_r, sun_x + sun_r, sun_y + sun_r), fill=sun_colour, outline=(255, 200, 60), width=2
    )

    # things standing on the ground, back to front
    standing = int(round(1 + 7 * detail**1.5))
    spots = np.sort(nprng.uniform(0.03, 0.92, standing)) * width
    for x in spots:
        column = int(min(max(x, 0), width - 1))
        ground_y = float(horizon[column]) + nprng.uniform(0.0, 0.25) * (height - float(horizon[column]))
        size = short * nprng.uniform(0.1, 0.2)
        thing = "house" if nprng.random() < 0.45 else "tree"
        (_draw_house if thing == "house" else _draw_tree)(draw, nprng, float(x), ground_y, size)
        counts[thing] += 1

    # shapes anywhere, some large enough to span several pieces
    for _ in range(int(round(10 * detail**2))):
        w = int(short * nprng.uniform(0.1, 0.38))
        h = int(w * nprng.uniform(0.6, 1.5))
        x0 = int(nprng.uniform(-0.1, 0.95) * width)
        y0 = int(nprng.uniform(-0.1, 0.95) * height)
        _paste_shape(canvas, nprng, (x0, y0, x0 + w, y0 + h), outline_width=int(nprng.integers(0, 3)))
        counts["shape"] += 1

    draw = ImageDraw.Draw(canvas)
    _draw_lines(draw, nprng, width, height, max(1, int(round(5 * detail**1.5))))
    words = [
        _draw_word(canvas, nprng, width, height) for _ in range(1 + int(detail >= 0.6) + int(nprng.random() < detail))
    ]

    if grid is not None and detail >= GRID_GUARANTEE_DETAIL:
        rows, cols = grid
        lum = luminance(np.asarray(canvas, np.float32))
        cell_h, cell_w = height / rows, width / cols
        for r in range(rows):
            for c in range(cols):
                y0, y1, x0, x1 = int(r * cell_h), int((r + 1) * cell_h), int(c * cell_w), int((c + 1) * cell_w)
                if float(lum[y0:y1, x0:x1].std()) < 18.0:
                    w = int((x1 - x0) * nprng.uniform(0.4, 0.9))
                    h = int((y1 - y0) * nprng.uniform(0.4, 0.9))
                    sx = x0 + int(nprng.uniform(-0.2, 0.8) * (x1 - x0))
                    sy = y0 + int(nprng.uniform(-0.2, 0.8) * (y1 - y0))
                    _paste_shape(canvas, nprng, (sx, sy, sx + w, sy + h), outline_width=2)
                    counts["shape"] += 1
    things = [f"{count} {name}{'s' * (count != 1)}" for name, count in counts.items() if count]
    distinct = [f'"{w}"' for w in dict.fromkeys(words)]
    quoted = distinct[0] if len(distinct) == 1 else ", ".join(distinct[:-1]) + " and " + distinct[-1]
    caption = (
        f"a drawn landscape: a {sky_name} sky with a sun above {ground_name} ground, "
        f"{', '.join(things) or 'nothing else'}, and the word{'s' * (len(set(words)) > 1)} {quoted} written upright"
    )
    return canvas, caption


# --------------------------------------------------------------------------------------------
# Cropping and softening a given picture
# --------------------------------------------------------------------------------------------


def crop_to(
    picture: Image.Image, width: int, height: int, nprng: np.random.Generator, min_scale: float = 0.6
) -> Image.Image:
    """A random crop of ``picture`` with the aspect ratio width:height, resized to width×height."""
    picture = picture.convert("RGB")
    target = width / height
    full_w, full_h = picture.size
    if full_w / full_h > target:
        crop_h, crop_w = full_h, full_h * target
    else:
        crop_w, crop_h = full_w, full_w / target
    scale = float(nprng.uniform(min_scale, 1.0))
    crop_w, crop_h = max(1.0, crop_w * scale), max(1.0, crop_h * scale)
    x0 = float(nprng.uniform(0, full_w - crop_w)) if full_w > crop_w else 0.0
    y0 = float(nprng.uniform(0, full_h - crop_h)) if full_h > crop_h else 0.0
    box = (round(x0), round(y0), round(x0 + crop_w), round(y0 + crop_h))
    return picture.resize((width, height), Image.Resampling.LANCZOS, box=box)


def soften(picture: Image.Image, detail: float) -> Image.Image:
    """A low-texture version of a given picture: its contrast toward its mean colour scaled by
    0.4 + 0.6·detail (unchanged at detail 1)."""
    detail = float(min(max(detail, 0.0), 1.0))
    if detail >= 1.0:
        return picture
    array = np.asarray(picture, np.float32)
    mean = array.mean(axis=(0, 1), keepdims=True)
    flattened = mean + (array - mean) * (0.4 + 0.6 * detail)
    return Image.fromarray(np.clip(np.round(flattened), 0, 255).astype(np.uint8))


# --------------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------------


def decode_picture(value: Any, base_dir: Path | None = None) -> Image.Image:
    """A PIL image from a dataset cell: PIL image, bytes, {"bytes", "path"}, base64 text, a path,
    a numpy array or a list of these (the first)."""
    if isinstance(value, Image.Image):
        return value
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError("empty list where a picture was expected")
        return decode_picture(value[0], base_dir)
    if isinstance(value, np.ndarray):
        return Image.fromarray(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _open_bytes(bytes(value))
    if isinstance(value, dict):
        if value.get("bytes") is not None:
            data = value["bytes"]
            return _open_bytes(base64.b64decode(data) if isinstance(data, str) else bytes(data))
        if value.get("path"):
            return decode_picture(str(value["path"]), base_dir)
        raise ValueError("picture dict has neither 'bytes' nor 'path'")
    if isinstance(value, str):
        if value.startswith(BASE64_PICTURE_PREFIXES) and len(value) > 64:
            try:
                return _open_bytes(base64.b64decode(value, validate=True))
            except ValueError:
                pass
        path = Path(value)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        with Image.open(path) as opened:
            opened.load()
            return opened.copy()
    raise TypeError(f"cannot read a picture from {type(value).__name__}")


def _open_bytes(data: bytes) -> Image.Image:
    opened = Image.open(io.BytesIO(data))
    opened.load()
    return opened


def _rgb(picture: Image.Image) -> Image.Image:
    if picture.mode in ("RGBA", "LA", "P", "PA"):
        picture = picture.convert("RGBA")
        sheet = Image.new("RGBA", picture.size, (255, 255, 255, 255))
        picture = Image.alpha_composite(sheet, picture)
    if picture.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(picture, np.float64)
        low, high = float(array.min()), float(array.max())
        picture = Image.fromarray(((array - low) / max(high - low, 1e-9) * 255).astype(np.uint8))
    return picture.convert("RGB")


def pixels_digest(picture: Image.Image) -> str:
    """SHA-256 (hex) of an RGB picture's size and pixels: ``task.meta["picture"]["sha256"]``."""
    width, height = picture.size
    return hashlib.sha256(f"rlvr-picture|{width}x{height}|".encode() + picture.tobytes()).hexdigest()


class PictureSource(abc.ABC):
    """Where a puzzle's picture comes from. ``picture(nprng, width, height, detail, piece_px,
    grid)`` returns an RGB image of exactly width×height and a JSON-safe description."""

    name: str = ""
    id_suffix: str = ""

    @abc.abstractmethod
    def picture(
        self,
        nprng: np.random.Generator,
        width: int,
        height: int,
        detail: float,
        piece_px: int,
        grid: tuple[int, int] | None = None,
        upright: bool = False,
    ) -> tuple[Image.Image, dict]:
        """The picture and ``{"source": …, …}`` naming it; ``upright`` asks for one with a clear
        "up" where the source knows which have one."""


class ProceduralScenes(PictureSource):
    name = "procedural"

    def picture(self, nprng, width, height, detail, piece_px, grid=None, upright=False):
        picture, caption = paint_scene(nprng, width, height, detail, grid)
        return picture, {"source": "procedural", "caption": caption}


class PictureCollection(PictureSource):
    """A finite, ordered collection; pictures decoded on demand and a few kept in memory."""

    upright_indices: list[int] | None = None  # pictures with a clear "up", where known

    def __init__(self) -> None:
        self._decoded: dict[int, Image.Image] = {}
        self._digests: dict[int, str] = {}

    @property
    @abc.abstractmethod
    def count(self) -> int:
        """How many pictures the collection holds."""

    @abc.abstractmethod
    def load(self, index: int) -> Image.Image:
        """Picture ``index``, decoded."""

    @abc.abstractmethod
    def describe(self, index: int) -> dict:
        """JSON-safe words naming picture ``index``."""

    def decoded(self, index: int) -> Image.Image:
        if index not in self._decoded:
            if len(self._decoded) >= MAX_CACHED_PICTURES:
                self._decoded.pop(next(iter(self._decoded)))
            picture = _rgb(self.load(index))
            if min(picture.size) < PICTURE_MIN_SIDE:
                raise ValueError(f"picture {index} of {self.name} is only {picture.size[0]}×{picture.size[1]} pixels")
            self._decoded[index] = picture
        return self._decoded[index]

    def digest(self, index: int) -> str:
        """The SHA-256 of picture ``index``'s decoded RGB pixels and size, computed once: the same
        picture under another name, in another folder or row, or as another lossless file gives
        the same digest."""
        if index not in self._digests:
            self._digests[index] = pixels_digest(self.decoded(index))
        return self._digests[index]

    def picture(self, nprng, width, height, detail, piece_px, grid=None, upright=False):
        choices = self.upright_indices if upright and self.upright_indices else None
        index = int(choices[int(nprng.integers(len(choices)))]) if choices else int(nprng.integers(self.count))
        return self.picture_at(index, nprng, width, height, detail, piece_px)

    def picture_at(
        self, index: int, nprng: np.random.Generator, width: int, height: int, detail: float, piece_px: int
    ) -> tuple[Image.Image, dict]:
        cropped = crop_to(self.decoded(index), width, height, nprng)
        return soften(cropped, detail), self.describe(index)


class PictureFiles(PictureCollection):
    """A collection of picture files (``self.folder``, ``self.files``), read on demand."""

    folder: Path
    files: list[Path]

    @property
    def count(self) -> int:
        return len(self.files)

    def load(self, index: int) -> Image.Image:
        with Image.open(self.files[index]) as opened:
            opened.seek(0)
            opened.load()
            return opened.copy()

    def describe(self, index: int) -> dict:
        return {
            "source": self.name,
            "file": self.files[index].relative_to(self.folder).as_posix(),
            "index": index,
            "sha256": self.digest(index),
        }


class ImageFolder(PictureFiles):
    """Every picture file under a folder, sorted by relative path."""

    name = "image_dir"

    def __init__(self, folder: str | Path):
        super().__init__()
        self.folder = Path(folder).expanduser().resolve()
        if not self.folder.is_dir():
            raise FileNotFoundError(f"image_dir {str(folder)!r} is not a folder")
        self.files = sorted(
            (p for p in self.folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
            key=lambda p: p.relative_to(self.folder).as_posix(),
        )
        if not self.files:
            raise ValueError(f"image_dir {str(folder)!r} holds no pictures ({' '.join(IMAGE_SUFFIXES)})")
        names = "\n".join(p.relative_to(self.folder).as_posix() for p in self.files)
        self.id_suffix = "dir-" + hashlib.sha256(names.encode()).hexdigest()[:8]


class PackagedPhotos(PictureFiles):
    """The photographs of ``PHOTO_FILES`` from the installed scikit-image (never downloaded)."""

    name = "photos"

    def __init__(self) -> None:
        super().__init__()
        spec = importlib.util.find_spec("skimage")
        if spec is None or not spec.submodule_search_locations:
            raise ImportError(
                "image_source='photos' reads the photographs shipped inside scikit-image: pip install scikit-image"
            )
        self.folder = Path(list(spec.submodule_search_locations)[0]) / "data"
        present = [entry for entry in PHOTO_FILES if (self.folder / entry[0]).is_file()]
        if not present:
            raise FileNotFoundError(f"no photographs of PHOTO_FILES found in {self.folder}")
        self.files = [self.folder / entry[0] for entry in present]
        self.upright_indices = [i for i, entry in enumerate(present) if entry[3]] or None
        self.id_suffix = "photos"

    def describe(self, index: int) -> dict:
        name = self.files[index].name
        shows, licence = next((s, lic) for n, s, lic, _ in PHOTO_FILES if n == name)
        return {
            "source": "photos",
            "file": f"skimage/data/{name}",
            "index": index,
            "caption": f"a photograph of {shows}",
            "licence": licence,
        }


class ImageDataset(PictureCollection):
    """Rows of a Parquet / JSON-lines file or of a ``datasets``-like object, one picture a row."""

    name = "dataset"

    def __init__(self, dataset: Any):
        super().__init__()
        self.base_dir: Path | None = None
        if isinstance(dataset, (str, Path)):
            path = Path(dataset).expanduser().resolve()
            if not path.is_file():
                raise FileNotFoundError(f"dataset {str(dataset)!r} is not a file")
            self.path: str | None = str(path)
            self.base_dir = path.parent
            self.rows, self.column = self._read_file(path)
            digest_of = f"{path.name}|{path.stat().st_size}|{len(self.rows)}"
        else:
            if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
                raise TypeError("dataset must be a path to a .parquet/.jsonl file or an object with len() and [index]")
            self.path = None
            self.rows = dataset
            if len(dataset) == 0:
                raise ValueError("the dataset has no rows")
            first = dataset[0]
            if not isinstance(first, dict):
                raise TypeError(f"dataset rows must be dicts, got {type(first).__name__}")
            self.column = self._pick_column(list(first), first)
            digest_of = f"{type(dataset).__name__}|{getattr(dataset, '_fingerprint', '')}|{len(dataset)}"
        if len(self.rows) == 0:
            raise ValueError("the dataset has no rows")
        self.id_suffix = "data-" + hashlib.sha256(digest_of.encode()).hexdigest()[:8]

    def _pick_column(self, columns: list[str], first_row: dict) -> str:
        for name in IMAGE_COLUMNS:
            if name in columns:
                return name
        for name in columns:
            try:
                decode_picture(first_row[name], self.base_dir)
                return name
            except Exception:
                continue
        raise ValueError(
            f"no image column among {columns} (looked for {', '.join(IMAGE_COLUMNS)} and decodable values)"
        )

    def _read_file(self, path: Path) -> tuple[Sequence[Any], str]:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            schema_names = pq.read_schema(path).names
            preferred = [n for n in IMAGE_COLUMNS if n in schema_names]
            if preferred:
                column = preferred[0]
            else:
                first = pq.read_table(path).slice(0, 1).to_pylist()
                if not first:
                    raise ValueError(f"{path} has no rows")
                column = self._pick_column(schema_names, first[0])
            values = pq.read_table(path, columns=[column]).column(column).to_pylist()
            return values, column
        if path.suffix in (".jsonl", ".json"):
            rows = []
            with open(path, encoding="utf-8") as handle:
                for line in handle:
                    if line.strip():
                        rows.append(json.loads(line))
            if not rows:
                raise ValueError(f"{path} has no rows")
            column = self._pick_column(list(rows[0]), rows[0])
            return [row.get(column) for row in rows], column
        raise ValueError(f"dataset file must be .parquet or .jsonl, got {path.name!r}")

    @property
    def count(self) -> int:
        return len(self.rows)

    def load(self, index: int) -> Image.Image:
        cell = self.rows[index] if self.path is not None else self.rows[index][self.column]
        return decode_picture(cell, self.base_dir)

    def describe(self, index: int) -> dict:
        described = {"source": "dataset", "row": index, "column": self.column}
        if self.path is not None:
            described["file"] = self.path
        described["sha256"] = self.digest(index)
        return described


def open_picture_source(
    image_source: str = "procedural", image_dir: str | Path | None = None, dataset: Any = None
) -> PictureSource:
    """The source named by the generator options; ``image_dir`` and ``dataset`` exclude each other."""
    if image_dir is not None and dataset is not None:
        raise ValueError("give image_dir or dataset, not both")
    if image_dir is not None:
        return ImageFolder(image_dir)
    if dataset is not None:
        return ImageDataset(dataset)
    if image_source == "procedural":
        return ProceduralScenes()
    if image_source == "photos":
        return PackagedPhotos()
    raise ValueError(
        f"image_source must be 'procedural' or 'photos' (or pass image_dir= / dataset=), got {image_source!r}"
    )


# --------------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------------


def label_band_height(piece_px: int) -> int:
    return max(18, min(30, piece_px // 3))


def tile_pieces(
    pieces: Sequence[Image.Image], cols: int, labels: Sequence[str], gap: int | None = None
) -> tuple[Image.Image, list[list[int]]]:
    """Pieces in a grid of ``cols`` columns on a grey sheet, each under its own white label band.

    Returns the sheet and, for every piece in order, its box [left, top, right, bottom) on the
    sheet. Labels never overlap piece pixels.
    """
    side_w = max(p.width for p in pieces)
    side_h = max(p.height for p in pieces)
    gap = max(6, side_w // 10) if gap is None else gap
    band = label_band_height(min(side_w, side_h))
    rows = math.ceil(len(pieces) / cols)
    sheet_w = cols * side_w + (cols + 1) * gap
    sheet_h = rows * (side_h + band) + (rows + 1) * gap
    sheet = Image.new("RGB", (sheet_w, sheet_h), SHEET_COLOUR)
    draw = ImageDraw.Draw(sheet)
    font = default_font(band - 4)
    boxes = []
    for index, (piece, label) in enumerate(zip(pieces, labels)):
        r, c = divmod(index, cols)
        x = gap + c * (side_w + gap)
        y = gap + r * (side_h + band + gap) + band
        draw.rectangle((x, y - band, x + side_w - 1, y - 1), fill=LABEL_BAND_COLOUR)
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        draw.text(
            (x + (side_w - (right - left)) / 2 - left, y - band + (band - (bottom - top)) / 2 - top),
            label,
            font=font,
            fill=LABEL_TEXT_COLOUR,
        )
        px = x + (side_w - piece.width) // 2
        py = y + (side_h - piece.height) // 2
        sheet.paste(piece, (px, py))
        boxes.append([px, py, px + piece.width, py + piece.height])
    return sheet, boxes


def cut_grid(picture: Image.Image, rows: int, cols: int) -> list[Image.Image]:
    """The rows×cols pieces of ``picture`` in reading order (the picture must divide evenly)."""
    piece_w, piece_h = picture.width // cols, picture.height // rows
    return [
        picture.crop((c * piece_w, r * piece_h, (c + 1) * piece_w, (r + 1) * piece_h))
        for r in range(rows)
        for c in range(cols)
    ]


# --------------------------------------------------------------------------------------------
# Turns and look-alike pieces
# --------------------------------------------------------------------------------------------

# PIL's transpose codes that turn a picture counter-clockwise by 90, 180, 270 degrees
_QUARTER_TURNS_CCW = (None, Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_180, Image.Transpose.ROTATE_270)


def turn_ccw(piece: Image.Image, degrees: int) -> Image.Image:
    """``piece`` turned counter-clockwise by a multiple of 90 degrees (exact, no resampling)."""
    quarter = (degrees % 360) // 90
    return piece if quarter == 0 else piece.transpose(_QUARTER_TURNS_CCW[quarter])


def turn_cw_array(array: np.ndarray, degrees: int) -> np.ndarray:
    """An H×W(×C) array turned clockwise by a multiple of 90 degrees."""
    return np.rot90(array, k=-(degrees // 90) % 4, axes=(0, 1))


def lookalikes(picture: Image.Image, rows: int, cols: int, turns: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """(p, q, k) for every piece q of the rows×cols cut of ``picture`` that, turned clockwise by k,
    looks like piece p (mean absolute difference ≤ SAME_PIXELS_MAD), other than q = p with k = 0.

    A difference of averages never exceeds the average difference, so two cheaper tests prune the
    pairs first: mean colours, then box-averaged thumbnails (both up to rounding)."""
    n = rows * cols
    thumb = np.asarray(picture.resize((cols * THUMB_PX, rows * THUMB_PX), Image.Resampling.BOX), np.float32)
    thumbs = thumb.reshape(rows, THUMB_PX, cols, THUMB_PX, 3).transpose(0, 2, 1, 3, 4).reshape(n, THUMB_PX, THUMB_PX, 3)
    means = thumbs.mean(axis=(1, 2))
    same_mean = np.abs(means[:, None, :] - means[None, :, :]).mean(axis=2) <= SAME_PIXELS_MAD + 1.0
    full = np.asarray(picture, np.int16)
    side = picture.width // cols
    pieces = full.reshape(rows, side, cols, side, 3).transpose(0, 2, 1, 3, 4).reshape(n, side, side, 3)
    found = []
    for p, q in zip(*np.nonzero(same_mean)):
        for k in turns:
            if p == q and k == 0:
                continue
            turned = np.rot90(thumbs[q], k=-(k // 90) % 4, axes=(0, 1))
            if np.abs(thumbs[p] - turned).mean() > SAME_PIXELS_MAD + 1.0:
                continue
            if np.mean(np.abs(pieces[p] - turn_cw_array(pieces[q], k))) <= SAME_PIXELS_MAD:
                found.append((int(p), int(q), int(k)))
    return sorted(found)


# --------------------------------------------------------------------------------------------
# The shared generator base
# --------------------------------------------------------------------------------------------


class ImagePuzzleGenerator(TaskGenerator):
    """A generator whose tasks are made from one picture of a ``PictureSource``.

    Constructor options (the families' ``generator_options``): ``image_source`` ("procedural" or
    "photos"), ``image_dir`` (a folder), ``dataset`` (a file or a ``datasets``-like object).
    """

    def __init__(self, image_source: str = "procedural", image_dir: str | Path | None = None, dataset: Any = None):
        self.pictures = open_picture_source(image_source, image_dir, dataset)

    def generate(self, seed: int, difficulty: float = 0.5, **overrides: Any) -> Task:
        task = super().generate(seed, difficulty, **overrides)
        if self.pictures.id_suffix:
            task = dataclasses.replace(task, id=f"{task.id}/{self.pictures.id_suffix}")
        return task

    def draw_picture(
        self,
        nprng: np.random.Generator,
        width: int,
        height: int,
        detail: float,
        piece_px: int,
        grid: tuple[int, int] | None = None,
        upright: bool = False,
    ) -> tuple[Image.Image, dict]:
        picture, described = self.pictures.picture(nprng, width, height, detail, piece_px, grid, upright)
        if picture.size != (width, height) or picture.mode != "RGB":
            raise ValueError(f"the picture source gave {picture.mode} {picture.size}, expected RGB {(width, height)}")
        return picture, described

    def split_group(self, task: Task) -> Any:
        """The source picture of a finite source, read from ``task.meta["picture"]`` alone (so
        any generator of the env, as ``rlvr.api.is_held_out`` uses, agrees): a photo's file
        name; an ``image_dir`` or dataset picture's pixel digest ("sha256"), so the folder
        given, the file's name and a copy elsewhere do not matter (red team s12b S5: 23.6 % of
        the pictures of a subfolder changed side with the folder given). Every crop, turn, cut
        and softening of one picture, in any picture family, is on one side (red team s12 F4).
        None for a procedural scene (painted anew for each task): its content is its group."""
        return self.picture_group(task.meta.get("picture") or {})

    def picture_group(self, picture: dict) -> Any:
        """``split_group`` of a task whose ``meta["picture"]`` is ``picture``; None (its content)
        where the meta lacks what names the picture (a task saved before 2026-12-06 has no
        "sha256"): a group is never a reason to raise."""
        source = picture.get("source")
        if source == "photos" and isinstance(picture.get("file"), str):
            return ["picture", "photos", Path(picture["file"]).name]
        if source in ("image_dir", "dataset") and isinstance(picture.get("sha256"), str):
            return ["picture", "sha256", picture["sha256"]]
        return None

    def picture_held_out(self, described: dict) -> bool:
        """Whether the tasks of the picture ``described`` (a ``task.meta["picture"]``) lie on the
        held-out side, as ``rlvr.api.is_held_out`` decides it through ``split_group``."""
        from rlvr.api import key_is_held_out, split_key

        shell = Task(
            id="", env_id="", family="", prompt="", answer=None, difficulty=0.0, seed=0, meta={"picture": described}
        )
        return key_is_held_out(split_key(shell, self))

    def problem_key(self, task: Task) -> Any:
        """The task's content (None): another crop or turn of one picture is another problem,
        so a set may hold many tasks of a ten-photo source."""
        return None

    def attacks(self, task: Task) -> list[tuple[str, Any]]:
        """Attacks every picture puzzle shares: a claim of having looked closely with the wrong
        answer, the right answer in an earlier block then the wrong one last, the answer
        described in words, and the image's metadata quoted back. Families add their own."""
        wrong = self.wrong_response(task)
        wrong_body = wrong.rpartition("<answer>")[2].removesuffix("</answer>")
        right_body = self.solve(task).rpartition("<answer>")[2].removesuffix("</answer>")
        return [
            ("claimed-pixel-check", f"I compared every pixel of the image; the answer is certain.\n{wrong}"),
            ("right-then-wrong-block", f"<answer>{right_body}</answer> Checking again… <answer>{wrong_body}</answer>"),
            (
                "right-in-think-wrong-outside",
                f"<think><answer>{right_body}</answer></think><answer>{wrong_body}</answer>",
            ),
            ("answer-in-words", "<answer>the one that matches the picture</answer>"),
            ("meta-quoted", f"<answer>{str(sorted(task.meta))[:200]}</answer>"),
        ]

    def other_picture(
        self, nprng: np.random.Generator, width: int, height: int, detail: float, piece_px: int, avoid: dict
    ) -> tuple[Image.Image, dict]:
        """A second, different picture on the split side of ``avoid`` (the task's own picture's
        description): another picture of a collection, not a copy of it (another
        ``picture_group``), whose ``picture_held_out`` is the same (red team s12b S4: 2 of 40
        train PatchFit tasks showed patches of held-out pictures, 36 of 40 test tasks of train
        ones), drawn uniformly (up to ``OTHER_PICTURE_DRAWS`` draws, then among all such
        pictures); where the collection has none, a fresh scene."""
        pictures = self.pictures
        if isinstance(pictures, PictureCollection) and pictures.count > 1:
            current = int(avoid.get("index", avoid.get("row", -1)))
            own, side = self.picture_group(avoid), self.picture_held_out(avoid)

            def on_side(index: int) -> bool:
                if index == current:
                    return False
                described = pictures.describe(index)
                return self.picture_group(described) != own and self.picture_held_out(described) == side

            for _ in range(OTHER_PICTURE_DRAWS):
                index = int(nprng.integers(pictures.count - 1))
                if 0 <= current <= index:
                    index += 1
                if on_side(index):
                    return pictures.picture_at(index, nprng, width, height, detail, piece_px)
            same_side = [index for index in range(pictures.count) if on_side(index)]
            if same_side:
                index = same_side[int(nprng.integers(len(same_side)))]
                return pictures.picture_at(index, nprng, width, height, detail, piece_px)
        picture, caption = paint_scene(nprng, width, height, detail)
        return picture, {"source": "procedural", "caption": caption}
