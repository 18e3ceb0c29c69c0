"""What the picture puzzle families (Jigsaw, Rotation, PatchFit) share: their generator options.

Splits: with ``image_source="photos"``, ``image_dir`` or ``dataset`` the train/held-out side of a
task goes by its source picture (``ImagePuzzleGenerator.split_group``), not by the task's pixels,
so no picture is on both sides as another crop or turn (red team s12 F4: before, Rotation had 5
of 5 photos on both sides, Jigsaw 6 of 10, PatchFit 7 of 10). A packaged photo's group is its
name; an ``image_dir`` or dataset picture's is the SHA-256 of its decoded pixels, recorded as
``task.meta["picture"]["sha256"]`` (s12b S5): neither the folder given (23.6 % of a subfolder's
pictures changed side with it when the path was the key) nor a file's name or a copy elsewhere
moves a picture across.  The ten packaged photos all fall on the train side, so a non-train
split of them raises after its attempts: evaluate on ``image_dir=`` pictures.
"""

PICTURE_OPTIONS = {  # the generator options of every picture puzzle (rlvr.generators.images)
    "image_source": "where pictures come from: procedural (default, painted from the task's RNG) or photos "
    "(the photographs shipped inside scikit-image; all on the train side, so a test split of them raises)",
    "image_dir": "a folder of your own pictures (searched recursively), instead of image_source",
    "dataset": "a .parquet or .jsonl table of images, or a datasets-like object, instead of image_source",
}
