"""The per-setting task maker (``TaskGenerator.task_maker``), which ``generate`` and
``make_task`` go through: its tasks are the ones the plain construction gives (the RNG seeded as
``random.Random(seed_material(...))``, a Task equal to ``Task(**fields)`` in every respect), a
setting is checked every time it is refused, and cached makers never mix settings."""

import copy
import dataclasses
import pickle
import random

import pytest

import rlvr
from rlvr.api import seeded_generate
from rlvr.core import (
    DeferredNumpyRng,
    Task,
    canonical_difficulty,
    make_task_id,
    overrides_digest,
    seed_material,
    seeded_random,
)


def test_seeded_random_is_random_random_of_the_material():
    for material in [0, 1, 2**32 - 1, 2**32, 2**63, 2**64 - 1, *range(12345, 12345 + 300)]:
        ours, theirs = seeded_random(material), random.Random(material)
        assert ours.getstate() == theirs.getstate() and type(ours) is random.Random
        assert [ours.random() for _ in range(3)] == [theirs.random() for _ in range(3)]
        assert ours.gauss(0, 1) == theirs.gauss(0, 1) and ours.gauss(0, 1) == theirs.gauss(0, 1)


class Recorder:
    """Wraps a generator's build, keeping the RNG state each task starts from."""

    def __init__(self, generator):
        self.generator, self.states = generator, []
        self.build = generator.build

    def __call__(self, rng, nprng, params):
        self.states.append((rng.getstate(), nprng._material))
        return self.build(rng, nprng, params)


@pytest.mark.parametrize(
    ("env_id", "overrides"),
    [("rlvr/Math-v0", {}), ("rlvr/Math-v0", {"kinds": "counting", "terms": 4}), ("rlvr/Maze-v0", {"rows": 7})],
)
def test_tasks_are_the_plain_construction(env_id, overrides, monkeypatch):
    generator = rlvr.make_generator(env_id)
    recorder = Recorder(generator)
    monkeypatch.setattr(generator, "build", recorder)
    for seed in [0, 1, 17, 2**40 + 3]:
        for difficulty in (0.0, 0.3, 0.123456, 1):
            task = generator.generate(seed, difficulty, **overrides)
            d = canonical_difficulty(difficulty)
            checked = generator.table.check(overrides) if overrides else {}
            digest = overrides_digest(checked) if checked else ""
            material = seed_material(generator.family, seed, d, digest)
            state, deferred_material = recorder.states[-1]
            assert state == random.Random(material).getstate() and deferred_material == material
            rebuilt = generator.build(random.Random(material), DeferredNumpyRng(material), dict(task.params))
            plain = Task(
                id=make_task_id(env_id.split("/")[1].rsplit("-", 1)[0].lower() + "/v0", seed, d, checked, digest),
                env_id=env_id,
                family=generator.family,
                prompt=rebuilt["prompt"],
                answer=rebuilt["answer"],
                difficulty=d,
                seed=seed,
                params=generator.resolve(d, checked),
                images=tuple(rebuilt.get("images", ())),
                meta=dict(rebuilt.get("meta", {})),
            )
            assert task == plain and task.to_json() == plain.to_json() and hash(task) == hash(plain)
            assert list(vars(task)) == [f.name for f in dataclasses.fields(Task)] == list(vars(plain))
            assert pickle.loads(pickle.dumps(task)) == task and copy.deepcopy(task) == task
            assert dataclasses.replace(task, id="other").prompt == task.prompt
            with pytest.raises(dataclasses.FrozenInstanceError):
                task.prompt = "changed"


def test_each_task_gets_its_own_params_and_meta():
    generator = rlvr.make_generator("rlvr/Math-v0")
    first, second = generator.generate(1, 0.5), generator.generate(2, 0.5)
    first.params["terms"] = 99
    first.meta["kind"] = "changed"
    assert generator.generate(1, 0.5).params["terms"] != 99 and second.params["terms"] != 99
    assert generator.generate(1, 0.5).meta["kind"] != "changed"


def test_cached_makers_keep_settings_apart_and_refuse_bad_ones_every_time():
    generator = rlvr.make_generator("rlvr/Math-v0")
    by_kind = {kinds: generator.generate(3, 0.5, kinds=kinds).to_json() for kinds in ("counting", "number_theory")}
    assert by_kind["counting"] != by_kind["number_theory"]
    assert generator.generate(3, 0.5, kinds="counting").to_json() == by_kind["counting"]
    assert generator.generate(3, 0.5, kinds=["counting"]).to_json() == by_kind["counting"]
    # equal but differently typed values are different keys, each checked on its own
    three = generator.generate(3, 0.5, terms=3)
    assert generator.generate(3, 0.5, terms="3") == generator.generate(3, 0.5, terms=3.0) == three
    for bad in (True, 2.5):
        for _ in range(2):
            with pytest.raises(ValueError, match="terms"):
                generator.generate(3, 0.5, terms=bad)
    for _ in range(2):
        with pytest.raises(ValueError, match="difficulty"):
            generator.generate(3, 1.5)
        with pytest.raises(ValueError, match="difficulty"):
            generator.generate(3, [0.5])
    # difficulties that round to the same value make the same task under either key
    assert generator.generate(3, 0.30000000004).to_json() == generator.generate(3, 0.3).to_json()
    unhashable = {"kinds": [["counting"]]}  # refused by the table, and never cached
    for _ in range(2):
        with pytest.raises(ValueError):
            generator.generate(3, 0.5, **unhashable)


def test_make_task_option_keys_keep_types_apart():
    seven = rlvr.make_task("rlvr/Maze-v0", seed=2, difficulty=0.3, rows=7)
    assert seven.params["rows"] == 7 and rlvr.make_task("rlvr/Maze-v0", seed=2, difficulty=0.3, rows="7") == seven
    for _ in range(2):  # True == 1 and hashes alike, yet is its own (refused) setting
        with pytest.raises(ValueError, match="rows"):
            rlvr.make_task("rlvr/Maze-v0", seed=2, difficulty=0.3, rows=True)
        assert rlvr.make_task("rlvr/Maze-v0", seed=2, difficulty=0.3, rows=7) == seven
    assert rlvr.make_task("rlvr/Math-v0", seed=2, difficulty=0.5, nesting=1).params["nesting"] == 1
    for _ in range(2):  # equal to the cached 1 and hashed alike, but a bool: refused, not served 1's tasks
        with pytest.raises(ValueError, match="nesting"):
            rlvr.make_task("rlvr/Math-v0", seed=2, difficulty=0.5, nesting=True)
        with pytest.raises(ValueError, match="nesting"):
            rlvr.make_generator("rlvr/Math-v0").generate(2, 0.5, nesting=True)
    listed = rlvr.make_task("rlvr/Math-v0", seed=2, difficulty=0.5, kinds=["counting", "number_theory"])
    assert listed == rlvr.make_task("rlvr/Math-v0", seed=2, difficulty=0.5, kinds="counting,number_theory")


def test_generators_that_change_generate_are_called_as_they_are():
    generator = rlvr.make_generator("rlvr/Math-v0")
    assert seeded_generate(generator, 0.5, {})(4) == generator.generate(4, 0.5)

    class Suffixed(type(generator)):
        def generate(self, seed, difficulty=0.5, **overrides):
            task = super().generate(seed, difficulty, **overrides)
            return dataclasses.replace(task, id=task.id + "/suffixed")

    suffixed = Suffixed()
    assert seeded_generate(suffixed, 0.5, {"kinds": "counting"})(4).id.endswith("/suffixed")

    class Custom:
        def generate(self, seed, difficulty=0.5, **overrides):
            return (seed, difficulty, overrides)

    assert seeded_generate(Custom(), 0.2, {"a": 1})(9) == (9, 0.2, {"a": 1})


def test_a_dataset_replaces_the_synthetic_makers(tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"problem": "What is 2 + 2?", "answer": "4"}\n')
    generator = type(rlvr.make_generator("rlvr/Math-v0"))()
    synthetic = generator.generate(0, 0.5)
    generator.use_dataset(rows, [{"problem": "What is 2 + 2?", "gold": "4", "working": []}])
    served = generator.generate(0, 0.5)
    assert served.prompt.startswith("What is 2 + 2?") and served.prompt != synthetic.prompt
    assert served.id.endswith("/dataset/rows/0")
    with pytest.raises(ValueError, match="no parameters"):
        generator.generate(0, 0.5, terms=3)
