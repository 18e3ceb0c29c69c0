"""Every family's declaration (rlvr/families/*) against its code and its docs."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import gymnasium as gym
import pytest

import rlvr
from rlvr.envs.registry import ENV_SPECS, family_declarations, load_object
from rlvr.family import Family

DECLARED = family_declarations()
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
# generator options an env cannot be made without (the project ships no copy of its data)
REQUIRED_OPTIONS = {"rlvr/VerilogEval-v0": {"dataset": SHARED_DATA / "verilog-eval" / "dataset_spec-to-rtl"}}


def normalise(text: str) -> list[str]:
    return [re.sub(r"\s+", " ", line).strip() for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("module,family", DECLARED, ids=[f.name for _, f in DECLARED])
def test_the_docstring_shows_the_declared_difficulty_table(module, family):
    doc = normalise(importlib.import_module(module).__doc__)
    table = normalise(family.table.doc_table())
    starts = [i for i, line in enumerate(doc) if line == table[0]]
    assert any(doc[i : i + len(table)] == table for i in starts), (
        f"{module}'s docstring must show the table rlvr.params renders:\n{family.table.doc_table()}"
    )


@pytest.mark.parametrize("module,family", DECLARED, ids=[f.name for _, f in DECLARED])
def test_the_docstring_has_a_version_history_naming_every_env_version(module, family):
    doc = importlib.import_module(module).__doc__
    assert "Version history" in doc
    history = doc[doc.index("Version history") :]
    for decl in family.envs:
        version = decl.id.rpartition("-")[2]
        assert re.search(rf"\b{version}\b", history), f"{decl.id}: no {version} entry in the Version history"


@pytest.mark.parametrize("module,family", DECLARED, ids=[f.name for _, f in DECLARED])
def test_the_generator_serves_the_declaration_and_every_env(module, family):
    generator_class = load_object(family.generator)
    assert generator_class.declaration is family
    assert "env_id" not in vars(generator_class) and "family" not in vars(generator_class)
    for decl in family.envs:
        assert decl.id in gym.registry
        required = {name: str(path) for name, path in REQUIRED_OPTIONS.get(decl.id, {}).items()}
        if not all(Path(path).exists() for path in required.values()):
            pytest.skip(f"{decl.id} needs {required} (absent)")
        generator = rlvr.make_generator(decl.id, **required)
        assert generator.env_id == decl.id and generator.family == family.name
        direct = family.env(generator_class(**decl.generator_kwargs, **required).env_id)  # constructed directly
        assert dict(direct.generator_kwargs) == dict(decl.generator_kwargs)


@pytest.mark.parametrize("module,family", DECLARED, ids=[f.name for _, f in DECLARED])
def test_the_verifier_takes_the_declared_options(module, family):
    import inspect

    verifier_parameters = inspect.signature(load_object(family.verifier)).parameters
    assert set(family.verifier_options) <= set(verifier_parameters), "a declared verifier option the verifier lacks"
    generator_parameters = inspect.signature(load_object(family.generator)).parameters
    assert set(family.generator_options) <= set(generator_parameters), "a declared generator option the generator lacks"


def test_flat_options_route_to_their_group_and_ambiguity_is_refused():
    from rlvr.family import EnvDecl
    from rlvr.params import DifficultyTable, Int

    family = Family(
        "toy",
        "x:Y",
        "x:Z",
        DifficultyTable(
            {"size": Int(1, 9), "partial": Int(0, 1)}, {0.0: {"size": 1, "partial": 0}, 1.0: {"size": 9, "partial": 1}}
        ),
        (EnvDecl("rlvr/Toy-v0", "toy"),),
        generator_options={"dataset": "file"},
        verifier_options={"partial": "x"},
    )
    grouped = family.group_options("rlvr/Toy-v0", {"size": 3, "dataset": "f"})
    assert (grouped.params, grouped.generator, grouped.verifier) == ({"size": 3}, {"dataset": "f"}, {})
    with pytest.raises(ValueError, match="ambiguous.*verifier_options"):
        family.group_options("rlvr/Toy-v0", {"partial": 1})
    grouped = family.group_options("rlvr/Toy-v0", {"params": {"partial": 1}, "verifier_options": {"partial": True}})
    assert grouped.params == {"partial": 1} and grouped.verifier == {"partial": True}
    with pytest.raises(ValueError, match="unknown parameter 'sise'; known: size, partial"):
        family.group_options("rlvr/Toy-v0", {"sise": 3})
    with pytest.raises(ValueError, match="no verifier option 'size'"):
        family.group_options("rlvr/Toy-v0", {"verifier_options": {"size": 3}})


def test_grouped_options_reach_make_task_gym_and_verify():
    task = rlvr.make_task("Maze-v0", 3, 0.0, params={"rows": 5, "cols": 4})
    assert task.params["rows"] == 5 and task.id == rlvr.make_task("Maze-v0", 3, 0.0, rows=5, cols=4).id
    env = gym.make("rlvr/Maze-v0", difficulty=0.0, params={"rows": 6}, verifier_options={"shortest": False})
    _, info = env.reset(seed=1)
    assert len(info["task"].answer["grid"]) == 13 and env.unwrapped.verifier.shortest is False
    with pytest.raises(ValueError, match="unknown parameter 'rowz'"):
        gym.make("rlvr/Maze-v0", rowz=6)


def test_every_env_comes_from_a_declaration():
    undeclared = [spec.id for spec in ENV_SPECS if spec.family is None]
    assert not undeclared, f"envs not yet declared in rlvr/families: {undeclared}"


def test_make_task_reuses_its_checked_setting_without_caching_errors_or_mixing_settings():
    first = [rlvr.make_task("rlvr/Maze-v0", seed=s, difficulty=0.3, rows=9).to_json() for s in range(3)]
    again = [rlvr.make_task("rlvr/Maze-v0", seed=s, difficulty=0.3, rows=9).to_json() for s in range(3)]
    other = [rlvr.make_task("rlvr/Maze-v0", seed=s, difficulty=0.3, rows=11).to_json() for s in range(3)]
    assert first == again and not set(first) & set(other)
    for _ in range(2):  # a refused setting is refused every time
        with pytest.raises(ValueError, match="unknown parameter 'mazesize'"):
            rlvr.make_task("rlvr/Maze-v0", seed=0, difficulty=0.3, mazesize=9)
    with pytest.raises(ValueError, match="split"):
        rlvr.make_task("rlvr/Maze-v0", seed=0, split=["train"])
    ones = rlvr.make_task("rlvr/SubsetSum-v0", seed=0, numbers=5, max_number=1)
    assert ones.answer["instance"]["numbers"] == [1] * 5
    for _ in range(2):  # True equals 1 and hashes alike, yet is its own setting: refused every time
        with pytest.raises(ValueError, match="max_number must be an integer"):
            rlvr.make_task("rlvr/SubsetSum-v0", seed=0, numbers=5, max_number=True)
    assert rlvr.make_task("rlvr/SubsetSum-v0", seed=0, numbers=5.0, max_number=1) == ones  # a whole float is accepted


def test_list_valued_parameters_are_checked_every_time_they_differ():
    generator = rlvr.make_generator("rlvr/Math-v0")
    first = generator.generate(4, 0.5, kinds=["fraction_arithmetic"])
    assert generator.generate(4, 0.5, kinds=["fraction_arithmetic"]) == first
    assert generator.generate(4, 0.5, kinds=("fraction_arithmetic",)).prompt == first.prompt
    for _ in range(2):
        with pytest.raises(ValueError, match="kinds"):
            generator.generate(4, 0.5, kinds=["fraction_arithmetic", "no_such_kind"])
