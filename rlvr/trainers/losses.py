r"""Policy-gradient objectives of the GRPO family, as small functions of tensors.

Shapes      ``logp``, ``old_logp``, ``ref_logp``, ``entropy``, ``mask``: [B, T] over the response
            tokens of B sequences (``mask`` 1 on tokens the model wrote, 0 on padding and on
            env-produced tokens); ``advantages``: [B]; ``rewards`` for advantages: [groups, G].
Advantages  ``group_advantages``        A = r − mean(group), divided by the group's standard
                                         deviation (unbiased, + eps) when ``scale_by_std``.
            ``w_reinforce_advantages``   W-REINFORCE (Zhu et al. 2025, negative-sample
                                         reinforcement): no baseline; A = λ·r − (1 − r), so a
                                         correct answer gets +λ (λ = 0.1 by default) and a wrong
                                         one −1: mistakes are pushed down, successes only gently up.
            ``pass_at_k_advantages``     pass@k training (Chen et al. 2025, "Pass@k Training for
                                         Adaptively Balancing Exploration and Exploitation", the
                                         analytical advantage): the G responses are seen through
                                         all C(G, k) k-subsets, a subset scores the best reward in
                                         it (for 0/1 rewards: 1 if any member is correct, so the
                                         mean over subsets is the unbiased pass@k estimate
                                         R̄ = 1 − C(G−c, k)/C(G, k) with c correct), and a response's
                                         advantage is the mean, over the C(G−1, k−1) subsets that
                                         hold it, of (subset score − R̄)/σ, σ the population std of
                                         the subset scores (√(R̄(1 − R̄)) for 0/1 rewards). For 0/1
                                         rewards that is, exactly, the paper's
                                             correct    A⁺ = (1 − R̄)/σ
                                             incorrect  A⁻ = (1 − R̄ − C(G−c−1, k−1)/C(G−1, k−1))/σ
                                         Any other rewards (partial credit, DAPO's overlong penalty)
                                         use the same definition with max@k, which needs no
                                         threshold. k = 1 gives r − mean(r) over the population std.
                                         ÷σ only when ``scale_by_std`` (Dr. GRPO: not). A group
                                         whose subset scores are all equal (all correct,
                                         all wrong, or fewer than k wrong) gets 0.
Rewards     ``majority_rewards``         label-free reward (self-consistency, as in TTRL): within a
                                         group, each response's canonical answer key (from its
                                         verifier's ``canonical_answer``, None when it has none);
                                         the most common non-None key is the pseudo-label and a
                                         response scores 1 if its key equals it, else 0. A tie
                                         for the most common key, or no key at all, names no
                                         label: every response of the group scores 0.
Ratios      token level     ρ_t = exp(logp_t − old_logp_t)
            sequence level  s = exp(Σ_t mask·(logp_t − old_logp_t) / |y|)  (GSPO; gradient flows
                            through every token of the sequence)
Surrogate   ℓ = −min(ρ·A, clip(ρ, 1 − ε_low, 1 + ε_high)·A), per token (token ratios) or per
            sequence, then spread over the sequence's tokens (sequence ratios).
Objectives  (``OBJECTIVES``; one config field, ``loss``, picks one)
            name      ratio     ε_low / ε_high   std scaling   aggregation of per-token ℓ
            grpo      token     0.2 / 0.2        yes           mean over sequences of each one's token mean
            dr_grpo   token     0.2 / 0.2        no            Σ ℓ / (B · max_tokens), a constant normaliser
            dapo      token     0.2 / 0.28       yes           Σ ℓ / Σ mask (token level); the trainer also
                                                              drops zero-variance groups and refills
                                                              (dynamic sampling) and adds the overlong
                                                              penalty to rewards
            gspo      sequence  3e-4 / 4e-4      yes           mean over sequences
            luspo     sequence  3e-4 / 4e-4      yes           Σ_i |y_i|·ℓ_i / Σ_i |y_i|: each sequence's GSPO
                                                              term weighted by its length (equal lengths
                                                              give GSPO exactly)
Options     KL to a frozen reference, k3 estimator: kl_t = exp(ref_t − logp_t) − (ref_t − logp_t) − 1,
            added as β·kl_t per token; entropy bonus: −c·H_t per token; both aggregated like ℓ.
            High-entropy tokens only (Wang et al. 2025; token-level objectives): the surrogate
            keeps only tokens whose entropy is in the top ρ fraction of the batch's response
            tokens; normalisers still count every response token.
Overlong    DAPO's soft penalty for a response of L tokens with budget L_max and cache L_c:
            0 if L ≤ L_max − L_c; (L_max − L_c − L) / L_c if L_max − L_c < L ≤ L_max; −1 beyond.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType

import torch


@dataclass(frozen=True)
class Objective:
    """How one named loss builds its surrogate and averages it."""

    ratio_level: str  # "token" | "sequence"
    aggregation: str  # "sequence_mean" | "token_mean" | "constant"
    scale_by_std: bool
    epsilon_low: float
    epsilon_high: float
    dynamic_sampling: bool = False
    overlong_penalty: bool = False


OBJECTIVES = MappingProxyType(
    {
        "grpo": Objective("token", "sequence_mean", True, 0.2, 0.2),
        "dr_grpo": Objective("token", "constant", False, 0.2, 0.2),
        "dapo": Objective("token", "token_mean", True, 0.2, 0.28, dynamic_sampling=True, overlong_penalty=True),
        "gspo": Objective("sequence", "sequence_mean", True, 3e-4, 4e-4),
        "luspo": Objective("sequence", "token_mean", True, 3e-4, 4e-4),
    }
)


@dataclass
class LossOutput:
    """The scalar to minimise and what to log about it (floats, detached)."""

    loss: torch.Tensor
    policy_loss: float
    kl: float
    entropy: float
    clip_fraction: float
    ratio_mean: float


# --------------------------------------------------------------------------------------------
# Advantages and reward shaping
# --------------------------------------------------------------------------------------------


def group_advantages(rewards: torch.Tensor, scale_by_std: bool = True, eps: float = 1e-4) -> torch.Tensor:
    """[groups, G] rewards → [groups·G] advantages relative to each group's mean (GRPO, Dr. GRPO)."""
    if rewards.dim() != 2 or rewards.shape[1] < 2:
        raise ValueError(f"rewards must be [groups, G] with G ≥ 2, got {tuple(rewards.shape)}")
    centred = rewards - rewards.mean(dim=1, keepdim=True)
    if scale_by_std:
        centred = centred / (rewards.std(dim=1, keepdim=True) + eps)
    return centred.reshape(-1)


def w_reinforce_advantages(rewards: torch.Tensor, positive_weight: float = 0.1) -> torch.Tensor:
    """W-REINFORCE: +λ·r for the correct part of a reward, −(1 − r) for the wrong part; no baseline."""
    flat = rewards.reshape(-1)
    return positive_weight * flat - (1.0 - flat)


def pass_at_k_advantages(rewards: torch.Tensor, k: int, scale_by_std: bool = True) -> torch.Tensor:
    """[groups, G] rewards → [groups·G] pass@k advantages (module docstring: each response's mean
    over the k-subsets that hold it of (subset score − mean subset score), over the subset scores'
    population std when ``scale_by_std``; a subset scores its best reward).

    Computed in O(G log G) per group, not by enumerating subsets: with the group's rewards sorted
    ascending as v_0 ≤ … ≤ v_{G−1}, position i is a subset's best (ties broken by position, which
    changes no score) in C(i, k−1) of the C(G, k) subsets, so the mean score is
    Σ_i v_i·C(i, k−1)/C(G, k). Of the C(G−1, k−1) subsets holding position j, C(j, k−1) have j as
    their best and C(i−1, k−2) have position i > j as their best."""
    if rewards.dim() != 2 or rewards.shape[1] < 2:
        raise ValueError(f"rewards must be [groups, G] with G ≥ 2, got {tuple(rewards.shape)}")
    size = rewards.shape[1]
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= size:
        raise ValueError(f"k must be an integer in [1, G = {size}], got {k!r}")
    values, order = torch.sort(rewards.to(torch.float64), dim=1)
    subsets, holding = math.comb(size, k), math.comb(size - 1, k - 1)
    best_share = torch.tensor([choose(i, k - 1) / subsets for i in range(size)], dtype=torch.float64)
    own_share = torch.tensor([choose(j, k - 1) / holding for j in range(size)], dtype=torch.float64)
    above_share = torch.tensor([choose(i - 1, k - 2) / holding for i in range(size)], dtype=torch.float64)
    mean = (values * best_share).sum(dim=1, keepdim=True)
    above = values * above_share
    above_later = above.flip(1).cumsum(dim=1).flip(1) - above  # Σ_{i>j} C(i−1, k−2)·v_i / C(G−1, k−1)
    advantages = own_share * values + above_later - mean
    if scale_by_std:
        std = (((values - mean) ** 2) * best_share).sum(dim=1, keepdim=True).sqrt()
        advantages = advantages / torch.where(std > 0, std, torch.ones_like(std))
    constant = values[:, k - 1] == values[:, size - 1]  # the least and the largest subset score
    advantages[constant] = 0.0
    return torch.empty_like(advantages).scatter_(1, order, advantages).to(rewards.dtype).reshape(-1)


def choose(n: int, r: int) -> int:
    """C(n, r), 0 outside 0 ≤ r ≤ n."""
    return math.comb(n, r) if 0 <= r <= n else 0


def majority_label(keys: Sequence[str | None]) -> str | None:
    """The group's pseudo-label: its most common non-None answer key; None when no response has a
    key or when two keys share the top count (a tie names no label)."""
    ranked = Counter(key for key in keys if key is not None).most_common(2)
    if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def majority_rewards(groups: Sequence[Sequence[str | None]]) -> torch.Tensor:
    """[groups, G] label-free rewards: 1 where a response's key equals its group's
    ``majority_label``, else 0 (all 0 in a group without a label)."""
    rows = []
    for keys in groups:
        label = majority_label(keys)
        rows.append([1.0 if label is not None and key == label else 0.0 for key in keys])
    return torch.tensor(rows, dtype=torch.float32)


def overlong_penalty(lengths: torch.Tensor, max_tokens: int, cache_tokens: int) -> torch.Tensor:
    """DAPO's soft overlong punishment, added to the reward of each response of ``lengths`` tokens."""
    if not 0 < cache_tokens <= max_tokens:
        raise ValueError(f"need 0 < cache_tokens ≤ max_tokens, got {cache_tokens} and {max_tokens}")
    lengths = lengths.to(torch.float32)
    safe = max_tokens - cache_tokens
    ramp = (safe - lengths) / cache_tokens
    return torch.where(
        lengths <= safe, torch.zeros_like(lengths), torch.where(lengths <= max_tokens, ramp, -torch.ones_like(lengths))
    )


# --------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------


def k3_kl(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Per-token k3 estimate of KL(π‖π_ref): exp(ref − logp) − (ref − logp) − 1 ≥ 0."""
    delta = ref_logp - logp
    return torch.exp(delta) - delta - 1.0


def high_entropy_mask(entropy: torch.Tensor, mask: torch.Tensor, top_fraction: float) -> torch.Tensor:
    """1 on the response tokens whose entropy is among the top ``top_fraction`` of the batch."""
    if not 0.0 < top_fraction <= 1.0:
        raise ValueError(f"top_fraction must be in (0, 1], got {top_fraction}")
    valid = entropy[mask.bool()]
    if valid.numel() == 0 or top_fraction == 1.0:
        return mask.clone()
    keep = max(1, int(round(top_fraction * valid.numel())))
    threshold = torch.topk(valid, keep).values.min()
    return mask * (entropy >= threshold).to(mask.dtype)


def clipped_surrogate(
    ratio: torch.Tensor, advantages: torch.Tensor, epsilon_low: float, epsilon_high: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """(−min(ρA, clip(ρ)A), where the clipped branch is the one taken); shapes of ``ratio``."""
    unclipped = ratio * advantages
    clipped = torch.clamp(ratio, 1.0 - epsilon_low, 1.0 + epsilon_high) * advantages
    return -torch.minimum(unclipped, clipped), clipped < unclipped


def sequence_log_ratio(logp: torch.Tensor, old_logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[B] mean per-token log-ratio of each sequence (log of GSPO's s_i)."""
    lengths = mask.sum(dim=1).clamp(min=1)
    return ((logp - old_logp) * mask).sum(dim=1) / lengths


def aggregate(per_token: torch.Tensor, mask: torch.Tensor, how: str, max_tokens: int | None = None) -> torch.Tensor:
    """Average a [B, T] per-token quantity over the response tokens the way an objective does."""
    if how == "sequence_mean":
        return ((per_token * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)).mean()
    if how == "token_mean":
        return (per_token * mask).sum() / mask.sum().clamp(min=1)
    if how == "constant":
        if not max_tokens:
            raise ValueError("the constant normaliser needs max_tokens")
        return (per_token * mask).sum() / (per_token.shape[0] * max_tokens)
    raise ValueError(f"unknown aggregation {how!r}")


# --------------------------------------------------------------------------------------------
# The objectives
# --------------------------------------------------------------------------------------------


def policy_loss(
    objective: Objective,
    logp: torch.Tensor,
    old_logp: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    *,
    max_tokens: int | None = None,
    ref_logp: torch.Tensor | None = None,
    kl_coef: float = 0.0,
    entropy: torch.Tensor | None = None,
    entropy_coef: float = 0.0,
    high_entropy_fraction: float | None = None,
    epsilon_low: float | None = None,
    epsilon_high: float | None = None,
) -> LossOutput:
    """The loss of ``objective`` plus the optional KL, entropy and high-entropy-token terms."""
    mask = mask.to(logp.dtype)
    eps_low = objective.epsilon_low if epsilon_low is None else epsilon_low
    eps_high = objective.epsilon_high if epsilon_high is None else epsilon_high
    if objective.ratio_level == "token":
        ratio = torch.exp(logp - old_logp)
        per_token, clipped = clipped_surrogate(ratio, advantages[:, None], eps_low, eps_high)
        clip_fraction = (clipped.to(mask.dtype) * mask).sum() / mask.sum().clamp(min=1)
        ratio_mean = (ratio.detach() * mask).sum() / mask.sum().clamp(min=1)
    elif objective.ratio_level == "sequence":
        ratio = torch.exp(sequence_log_ratio(logp, old_logp, mask))
        per_sequence, clipped = clipped_surrogate(ratio, advantages, eps_low, eps_high)
        per_token = per_sequence[:, None].expand_as(logp)
        clip_fraction = clipped.to(mask.dtype).mean()
        ratio_mean = ratio.detach().mean()
    else:
        raise ValueError(f"unknown ratio level {objective.ratio_level!r}")

    if high_entropy_fraction is not None and high_entropy_fraction < 1.0:
        if objective.ratio_level != "token":
            raise ValueError("high-entropy token selection needs a token-level objective (grpo, dr_grpo, dapo)")
        if entropy is None:
            raise ValueError("high_entropy_fraction needs per-token entropy")
        per_token = per_token * high_entropy_mask(entropy.detach(), mask, high_entropy_fraction)
    pg = aggregate(per_token, mask, objective.aggregation, max_tokens)
    loss = pg
    kl_value = torch.zeros(())
    if ref_logp is not None:
        kl_value = aggregate(k3_kl(logp, ref_logp), mask, objective.aggregation, max_tokens)
        if kl_coef:
            loss = loss + kl_coef * kl_value
    entropy_value = torch.zeros(())
    if entropy is not None:
        entropy_value = aggregate(entropy, mask, objective.aggregation, max_tokens)
        if entropy_coef:
            loss = loss - entropy_coef * entropy_value
    return LossOutput(
        loss=loss,
        policy_loss=float(pg.detach()),
        kl=float(kl_value.detach()),
        entropy=float(entropy_value.detach()),
        clip_fraction=float(clip_fraction),
        ratio_mean=float(ratio_mean),
    )


def grpo_loss(logp, old_logp, advantages, mask, **options) -> LossOutput:
    """GRPO (Shao et al. 2024): token ratios clipped at 0.2, each sequence's token mean, averaged."""
    return policy_loss(OBJECTIVES["grpo"], logp, old_logp, advantages, mask, **options)


def dr_grpo_loss(logp, old_logp, advantages, mask, *, max_tokens: int, **options) -> LossOutput:
    """Dr. GRPO (Liu et al. 2025): GRPO with a constant normaliser B·max_tokens (and no std scaling
    in the advantages)."""
    return policy_loss(OBJECTIVES["dr_grpo"], logp, old_logp, advantages, mask, max_tokens=max_tokens, **options)


def dapo_loss(logp, old_logp, advantages, mask, **options) -> LossOutput:
    """DAPO (Yu et al. 2025): clip-higher (0.2 / 0.28) and a token-level mean over the batch."""
    return policy_loss(OBJECTIVES["dapo"], logp, old_logp, advantages, mask, **options)


def gspo_loss(logp, old_logp, advantages, mask, **options) -> LossOutput:
    """GSPO (Zheng et al. 2025): one length-normalised ratio per sequence, clipped at 3e-4 / 4e-4."""
    return policy_loss(OBJECTIVES["gspo"], logp, old_logp, advantages, mask, **options)


def luspo_loss(logp, old_logp, advantages, mask, **options) -> LossOutput:
    """LUSPO (Liu et al. 2026): GSPO with each sequence's term weighted by its length."""
    return policy_loss(OBJECTIVES["luspo"], logp, old_logp, advantages, mask, **options)
