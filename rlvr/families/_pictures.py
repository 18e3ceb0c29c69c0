"""What the picture puzzle families (Jigsaw, Rotation, PatchFit) share: their generator options."""

PICTURE_OPTIONS = {  # the generator options of every picture puzzle (rlvr.generators.images)
    "image_source": "where pictures come from: procedural (default, painted from the task's RNG) or photos "
    "(the photographs shipped inside scikit-image; all on the train side, so a test split of them raises)",
    "image_dir": "a folder of your own pictures (searched recursively), instead of image_source",
    "dataset": "a .parquet or .jsonl table of images, or a datasets-like object, instead of image_source",
}
