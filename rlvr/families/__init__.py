"""One module per task family, each ending with its ``FAMILY = Family(...)`` declaration (see
``rlvr.family``); ``rlvr.envs.registry`` collects them. A module here imports nothing heavy."""
