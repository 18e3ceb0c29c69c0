"""Adapters to other tools: ``hf`` (datasets), ``trl`` (GRPOTrainer rewards and datasets),
``verl`` (compute_score and Parquet export), ``openai_eval`` (any OpenAI-compatible endpoint),
``reference_server`` (an OpenAI-compatible server that replays reference answers, for dry runs
and tests), ``ray_backend`` (generation and verification on a Ray cluster). Each imports its
library lazily."""
