#!/usr/bin/env bash
# GRPO with verl on a mix of rlvr envs: the data from `rlvr generate --format verl`, the reward
# from rlvr.integrations.verl.compute_score (each row's ground truth is its whole task).
#
#   bash examples/verl/run_grpo.sh                      # needs a GPU node with verl + vLLM
#   DRY_RUN=1 bash examples/verl/run_grpo.sh            # write the data, print the command, stop
#   MODEL=/path/to/model N_GPUS=8 bash examples/verl/run_grpo.sh trainer.total_epochs=3
#
# Settings (environment): MODEL, DATA (where the Parquet goes), N_TRAIN and N_VAL (tasks per env),
# DIFFICULTY, N_GPUS, PYTHON. Extra arguments are more Hydra overrides for verl.
set -euo pipefail

MODEL=${MODEL:-Qwen/Qwen2.5-0.5B-Instruct}
DATA=${DATA:-$HOME/data/rlvr}
N_TRAIN=${N_TRAIN:-5000}
N_VAL=${N_VAL:-200}
DIFFICULTY=${DIFFICULTY:-0.3}
N_GPUS=${N_GPUS:-1}
PYTHON=${PYTHON:-python}
ENVS=(rlvr/Maze-v0 rlvr/SubsetSum-v0 rlvr/Math-v0)

train_files=() val_files=()
for env in "${ENVS[@]}"; do
  name=$(basename "$env")
  # validation tasks use seeds far from the training seeds
  "$PYTHON" -m rlvr.cli generate "$env" -n "$N_TRAIN" --difficulty "$DIFFICULTY" --seed 0 --format verl -q -o "$DATA/$name/train.parquet"
  "$PYTHON" -m rlvr.cli generate "$env" -n "$N_VAL" --difficulty "$DIFFICULTY" --seed 1000000 --format verl -q -o "$DATA/$name/val.parquet"
  train_files+=("'$DATA/$name/train.parquet'") val_files+=("'$DATA/$name/val.parquet'")
done
join() { local IFS=,; echo "[$*]"; }
REWARD=$("$PYTHON" -c "import rlvr.integrations.verl as v; print(v.__file__)")

command=(
  "$PYTHON" -m verl.trainer.main_ppo
  algorithm.adv_estimator=grpo
  algorithm.use_kl_in_reward=False
  data.train_files="$(join "${train_files[@]}")"
  data.val_files="$(join "${val_files[@]}")"
  data.train_batch_size=128
  data.max_prompt_length=2048
  data.max_response_length=2048
  data.filter_overlong_prompts=True
  data.truncation=error
  actor_rollout_ref.model.path="$MODEL"
  actor_rollout_ref.model.use_remove_padding=True
  actor_rollout_ref.model.enable_gradient_checkpointing=True
  actor_rollout_ref.actor.optim.lr=1e-6
  actor_rollout_ref.actor.ppo_mini_batch_size=64
  actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=8
  actor_rollout_ref.actor.use_kl_loss=True
  actor_rollout_ref.actor.kl_loss_coef=0.001
  actor_rollout_ref.rollout.name=vllm
  actor_rollout_ref.rollout.n=8
  actor_rollout_ref.rollout.tensor_model_parallel_size=1
  actor_rollout_ref.rollout.gpu_memory_utilization=0.6
  actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=16
  actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu=16
  reward.custom_reward_function.path="$REWARD"
  reward.custom_reward_function.name=compute_score
  trainer.logger="['console']"
  trainer.project_name=rlvr
  trainer.experiment_name=grpo-mix
  trainer.n_gpus_per_node="$N_GPUS"
  trainer.nnodes=1
  trainer.val_before_train=True
  trainer.test_freq=10
  trainer.save_freq=50
  trainer.total_epochs=1
  "$@"
)

if [ "${DRY_RUN:-0}" = 1 ]; then
  printf '%q ' "${command[@]}"
  echo
  exit 0
fi
exec "${command[@]}"
