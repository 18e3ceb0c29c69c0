"""The Gymnasium layer: single-turn env, spaces and the registry of every rlvr env."""

from rlvr.envs.registry import ENV_SPECS, EnvSpec, get_spec, register_all

__all__ = ["ENV_SPECS", "EnvSpec", "get_spec", "register_all"]
