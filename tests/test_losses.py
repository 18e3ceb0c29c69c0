"""Each objective and option of rlvr.trainers.losses against values worked out by hand.

The batch: two responses, three token slots, the second response two tokens long.
    logp      [[-1.0, -0.5, -2.0], [-0.2, -1.5, pad]]
    old_logp  [[-1.1, -0.5, -1.8], [-0.4, -1.2, pad]]
    log-ratio [[ 0.1,  0.0, -0.2], [ 0.2, -0.3]]
    ratio     [[e^0.1, 1, e^-0.2], [e^0.2, e^-0.3]] = [[1.105171, 1, 0.818731], [1.221403, 0.740818]]
    advantage [1.0, -0.5]
Per-token surrogate −min(ρA, clip(ρ)A) with ε = 0.2:
    row 0 (A = 1): every ratio is inside [0.8, 1.2]  → −1.105171, −1, −0.818731
    row 1 (A = −0.5): ρ = 1.221403 → min(−0.610701, −0.6) = −0.610701 → +0.610701 (not clipped)
                      ρ = 0.740818 → min(−0.370409, −0.4) = −0.4 → +0.4 (clipped)
"""

import math

import pytest
import torch

from rlvr.trainers import losses

E = math.exp
ROW0 = [-E(0.1), -1.0, -E(-0.2)]  # per-token surrogate of row 0
ROW1 = [E(0.2) * 0.5, 0.4]  # per-token surrogate of row 1 (ε_low 0.2)


@pytest.fixture
def batch():
    logp = torch.tensor([[-1.0, -0.5, -2.0], [-0.2, -1.5, 0.0]], dtype=torch.float64, requires_grad=True)
    old_logp = torch.tensor([[-1.1, -0.5, -1.8], [-0.4, -1.2, 0.0]], dtype=torch.float64)
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]], dtype=torch.float64)
    advantages = torch.tensor([1.0, -0.5], dtype=torch.float64)
    return logp, old_logp, advantages, mask


def test_grpo_is_the_mean_of_each_sequences_token_mean(batch):
    out = losses.grpo_loss(*batch)
    expected = (sum(ROW0) / 3 + sum(ROW1) / 2) / 2
    assert out.loss.item() == pytest.approx(expected, abs=1e-9)
    assert expected == pytest.approx(-0.2346418, abs=1e-6)
    assert out.clip_fraction == pytest.approx(1 / 5)


def test_grpo_clipped_token_gets_no_gradient(batch):
    logp = batch[0]
    losses.grpo_loss(*batch).loss.backward()
    assert logp.grad[1, 1].item() == 0.0  # the clipped token (ρ < 0.8 with A < 0)
    assert logp.grad[0, 0].item() == pytest.approx(
        -E(0.1) / 3 / 2, abs=1e-9
    )  # d/dlogp of −ρA/3, halved by the batch mean


def test_dr_grpo_divides_by_a_constant(batch):
    out = losses.dr_grpo_loss(*batch, max_tokens=4)
    assert out.loss.item() == pytest.approx((sum(ROW0) + sum(ROW1)) / (2 * 4), abs=1e-9)
    assert out.loss.item() == pytest.approx(-0.2391501, abs=1e-6)


def test_dapo_clips_higher_and_averages_over_tokens(batch):
    out = losses.dapo_loss(*batch)
    # ε_high 0.28: nothing of row 0 changes; in row 1 the ratio 1.2214 is inside [0.8, 1.28]
    expected = (sum(ROW0) + E(0.2) * 0.5 + 0.4) / 5
    assert out.loss.item() == pytest.approx(expected, abs=1e-9)
    assert expected == pytest.approx(-0.3826402, abs=1e-6)
    # a ratio above 1.2 but below 1.28 with A > 0 is clipped by GRPO and not by DAPO
    logp = torch.tensor([[0.25]], dtype=torch.float64)  # ratio e^0.25 = 1.284 > 1.28
    old = torch.zeros((1, 1), dtype=torch.float64)
    one = torch.ones(1, dtype=torch.float64)
    assert losses.dapo_loss(logp, old, one, torch.ones((1, 1), dtype=torch.float64)).loss.item() == pytest.approx(-1.28)
    assert losses.grpo_loss(logp, old, one, torch.ones((1, 1), dtype=torch.float64)).loss.item() == pytest.approx(-1.2)


def sequence_ratios():
    s0 = E((0.1 + 0.0 - 0.2) / 3)  # 0.967216
    s1 = E((0.2 - 0.3) / 2)  # 0.951229
    return s0, s1


def test_gspo_uses_one_length_normalised_ratio_per_sequence(batch):
    out = losses.gspo_loss(*batch)
    s0, s1 = sequence_ratios()
    row0 = -min(s0 * 1.0, min(max(s0, 1 - 3e-4), 1 + 4e-4) * 1.0)  # −s0: below the band, A > 0 keeps ρA
    row1 = -min(s1 * -0.5, min(max(s1, 1 - 3e-4), 1 + 4e-4) * -0.5)  # clipped to 0.9997·A
    assert row0 == pytest.approx(-0.9672161, abs=1e-6) and row1 == pytest.approx(0.49985, abs=1e-9)
    assert out.loss.item() == pytest.approx((row0 + row1) / 2, abs=1e-9)
    assert out.clip_fraction == pytest.approx(0.5)


def test_gspo_gradient_reaches_every_token_of_an_unclipped_sequence(batch):
    logp = batch[0]
    losses.gspo_loss(*batch).loss.backward()
    s0, _ = sequence_ratios()
    # d(−s0·A/2)/dlogp_t = −s0·A/(2·3) for each of row 0's three tokens; row 1 is clipped
    assert logp.grad[0].tolist() == pytest.approx([-s0 / 6] * 3, abs=1e-9)
    assert logp.grad[1].tolist() == pytest.approx([0.0, 0.0, 0.0], abs=1e-12)


def test_luspo_weights_each_sequence_by_its_length(batch):
    out = losses.luspo_loss(*batch)
    s0, _ = sequence_ratios()
    expected = (3 * -s0 + 2 * 0.49985) / 5
    assert out.loss.item() == pytest.approx(expected, abs=1e-9)
    assert expected == pytest.approx(-0.3803896, abs=1e-6)


def test_luspo_equals_gspo_when_lengths_are_equal():
    logp = torch.tensor([[-1.0, -0.3], [-0.7, -0.2]], dtype=torch.float64)
    old = torch.tensor([[-1.2, -0.3], [-0.6, -0.2]], dtype=torch.float64)
    mask = torch.ones_like(logp)
    advantages = torch.tensor([0.7, -0.7], dtype=torch.float64)
    assert losses.luspo_loss(logp, old, advantages, mask).loss.item() == pytest.approx(
        losses.gspo_loss(logp, old, advantages, mask).loss.item()
    )


def test_k3_kl_term_is_added_with_its_coefficient(batch):
    logp, old_logp, advantages, mask = batch
    ref = torch.tensor([[-1.0, -0.7, -2.0], [-0.1, -1.5, 0.0]], dtype=torch.float64)
    # ref − logp = [[0, −0.2, 0], [0.1, 0]]: k3 = e^d − d − 1 → [[0, 0.018731, 0], [0.005171, 0]]
    kl_row0 = (E(-0.2) + 0.2 - 1) / 3
    kl_row1 = (E(0.1) - 0.1 - 1) / 2
    assert losses.k3_kl(logp, ref)[0, 1].item() == pytest.approx(0.0187308, abs=1e-6)
    out = losses.grpo_loss(logp, old_logp, advantages, mask, ref_logp=ref, kl_coef=0.1)
    assert out.kl == pytest.approx((kl_row0 + kl_row1) / 2, abs=1e-9)
    assert out.loss.item() == pytest.approx(-0.2346418 + 0.1 * (kl_row0 + kl_row1) / 2, abs=1e-6)


def test_entropy_bonus_lowers_the_loss(batch):
    entropy = torch.tensor([[1.0, 2.0, 3.0], [0.5, 0.5, 9.0]], dtype=torch.float64)
    out = losses.grpo_loss(*batch, entropy=entropy, entropy_coef=0.01)
    assert out.entropy == pytest.approx((2.0 + 0.5) / 2)  # the padded 9.0 does not count
    assert out.loss.item() == pytest.approx(-0.2346418 - 0.01 * 1.25, abs=1e-6)


def test_high_entropy_tokens_only(batch):
    entropy = torch.tensor([[1.0, 2.0, 3.0], [0.5, 0.5, 9.0]], dtype=torch.float64)
    kept = losses.high_entropy_mask(entropy, batch[3], 0.4)  # top 2 of the 5 response tokens: 3.0 and 2.0
    assert kept.tolist() == [[0.0, 1.0, 1.0], [0.0, 0.0, 0.0]]
    out = losses.grpo_loss(*batch, entropy=entropy, high_entropy_fraction=0.4)
    assert out.loss.item() == pytest.approx((ROW0[1] + ROW0[2]) / 3 / 2, abs=1e-9)  # normalisers keep every token
    with pytest.raises(ValueError, match="token-level"):
        losses.gspo_loss(*batch, entropy=entropy, high_entropy_fraction=0.4)


def test_group_advantages_with_and_without_std():
    rewards = torch.tensor([[1.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
    std = math.sqrt((4 * 0.25) / 3)  # unbiased
    scaled = losses.group_advantages(rewards)
    assert scaled.tolist() == pytest.approx(
        [0.5 / (std + 1e-4), -0.5 / (std + 1e-4), -0.5 / (std + 1e-4), 0.5 / (std + 1e-4), 0, 0, 0, 0], abs=1e-6
    )
    assert losses.group_advantages(rewards, scale_by_std=False).tolist() == [0.5, -0.5, -0.5, 0.5, 0, 0, 0, 0]
    with pytest.raises(ValueError):
        losses.group_advantages(torch.ones(3, 1))


def test_w_reinforce_pushes_mistakes_down_harder():
    rewards = torch.tensor([[1.0, 0.0, 0.5]])
    assert losses.w_reinforce_advantages(rewards, positive_weight=0.1).tolist() == pytest.approx(
        [0.1, -1.0, 0.05 - 0.5]
    )


def test_overlong_penalty_ramps_inside_the_cache():
    lengths = torch.tensor([10, 12, 13, 15, 16, 20])
    # budget 16, cache 4: safe up to 12, then (12 − L)/4, and −1 past the budget
    assert losses.overlong_penalty(lengths, 16, 4).tolist() == pytest.approx([0.0, 0.0, -0.25, -0.75, -1.0, -1.0])
    with pytest.raises(ValueError):
        losses.overlong_penalty(lengths, 16, 0)


def test_the_config_offers_every_objective():
    from rlvr.trainers.config import LOSSES

    assert set(LOSSES) == set(losses.OBJECTIVES)


def test_every_objective_has_its_published_clip_range():
    assert (losses.OBJECTIVES["grpo"].epsilon_low, losses.OBJECTIVES["grpo"].epsilon_high) == (0.2, 0.2)
    assert (losses.OBJECTIVES["dapo"].epsilon_low, losses.OBJECTIVES["dapo"].epsilon_high) == (0.2, 0.28)
    assert (losses.OBJECTIVES["gspo"].epsilon_low, losses.OBJECTIVES["gspo"].epsilon_high) == (3e-4, 4e-4)
    assert not losses.OBJECTIVES["dr_grpo"].scale_by_std and losses.OBJECTIVES["dapo"].dynamic_sampling


# --------------------------------------------------------------------------------------------
# pass@k advantages
# --------------------------------------------------------------------------------------------


def brute_force_pass_at_k(rewards: list[float], k: int, scale_by_std: bool = True) -> list[float]:
    """Every k-subset scores its best reward; a response's advantage is the mean over the subsets
    holding it of (score − mean score), over the population std of the scores."""
    import itertools

    subsets = list(itertools.combinations(range(len(rewards)), k))
    score = {s: max(rewards[i] for i in s) for s in subsets}
    mean = sum(score.values()) / len(subsets)
    std = math.sqrt(sum((v - mean) ** 2 for v in score.values()) / len(subsets))
    advantages = []
    for j in range(len(rewards)):
        mine = [score[s] - mean for s in subsets if j in s]
        credit = sum(mine) / len(mine)
        advantages.append(0.0 if std < 1e-12 else credit / std if scale_by_std else credit)
    return advantages


def test_pass_at_k_one_correct_of_four_with_k_2():
    # G = 4, c = 1, k = 2. Subsets: {0,1} {0,2} {0,3} score 1; {1,2} {1,3} {2,3} score 0.
    # pass@2 = 1 − C(3,2)/C(4,2) = 1 − 3/6 = 1/2; σ = √(½·½) = ½.
    # correct:   A⁺ = (1 − ½)/½ = 1
    # incorrect: A⁻ = (1 − ½ − C(2,1)/C(3,1))/½ = (½ − ⅔)/½ = −⅓
    rewards = [1.0, 0.0, 0.0, 0.0]
    got = losses.pass_at_k_advantages(torch.tensor([rewards], dtype=torch.float64), 2).tolist()
    assert got == pytest.approx([1.0, -1 / 3, -1 / 3, -1 / 3], abs=1e-12)
    assert got == pytest.approx(brute_force_pass_at_k(rewards, 2), abs=1e-12)
    # the correct response need not come first: the advantages follow the responses
    moved = losses.pass_at_k_advantages(torch.tensor([[0.0, 0.0, 1.0, 0.0]], dtype=torch.float64), 2).tolist()
    assert moved == pytest.approx([-1 / 3, -1 / 3, 1.0, -1 / 3], abs=1e-12)


def test_pass_at_k_two_correct_of_four_with_k_2():
    # pass@2 = 1 − C(2,2)/C(4,2) = 5/6; σ = √(5/6 · 1/6) = √5/6
    # A⁺ = (1/6)/(√5/6) = 1/√5;  A⁻ = (1 − 5/6 − C(1,1)/C(3,1))/σ = (−1/6)/(√5/6) = −1/√5
    rewards = [0.0, 1.0, 1.0, 0.0]
    got = losses.pass_at_k_advantages(torch.tensor([rewards], dtype=torch.float64), 2).tolist()
    s = 1 / math.sqrt(5)
    assert got == pytest.approx([-s, s, s, -s], abs=1e-12)
    assert got == pytest.approx(brute_force_pass_at_k(rewards, 2), abs=1e-12)


def test_pass_at_k_partial_credit_is_max_at_k():
    # rewards [1, ½, 0, 0], k = 2: scores {0,1} {0,2} {0,3} → 1, {1,2} {1,3} → ½, {2,3} → 0
    # mean 4/6 = ⅔; deviations ⅓ ⅓ ⅓ −⅙ −⅙ −⅔; variance (3/9 + 2/36 + 4/9)/6 = 5/36, σ = √5/6
    # response 0: mean(⅓, ⅓, ⅓) = ⅓ → 2/√5; response 1: mean(⅓, −⅙, −⅙) = 0;
    # responses 2, 3: mean(⅓, −⅙, −⅔) = −⅙ → −1/√5
    rewards = [1.0, 0.5, 0.0, 0.0]
    got = losses.pass_at_k_advantages(torch.tensor([rewards], dtype=torch.float64), 2).tolist()
    s = 1 / math.sqrt(5)
    assert got == pytest.approx([2 * s, 0.0, -s, -s], abs=1e-12)
    assert got == pytest.approx(brute_force_pass_at_k(rewards, 2), abs=1e-12)
    # with std scaling the reward's scale does not matter: ½ for correct is 1 for correct
    half = losses.pass_at_k_advantages(torch.tensor([[0.5, 0.0, 0.0, 0.0]], dtype=torch.float64), 2).tolist()
    assert half == pytest.approx([1.0, -1 / 3, -1 / 3, -1 / 3], abs=1e-12)


def test_pass_at_k_matches_enumeration_on_many_groups():
    import random

    rng = random.Random(7)
    for _ in range(200):
        size = rng.randint(2, 8)
        k = rng.randint(1, size)
        rewards = [rng.choice([0.0, 1.0, 1.0, 0.5, -0.25, 0.3]) for _ in range(size)]
        for scale in (True, False):
            got = losses.pass_at_k_advantages(
                torch.tensor([rewards], dtype=torch.float64), k, scale_by_std=scale
            ).tolist()
            assert got == pytest.approx(brute_force_pass_at_k(rewards, k, scale), abs=1e-9), (rewards, k, scale)


def test_pass_at_k_batches_groups_and_zeroes_groups_without_spread():
    rewards = torch.tensor([[1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 0.0]])
    got = losses.pass_at_k_advantages(rewards, 2)
    assert got.shape == (16,) and got.dtype == torch.float32
    assert got[:4].tolist() == pytest.approx([1.0, -1 / 3, -1 / 3, -1 / 3], abs=1e-6)
    # all correct, all wrong, and one wrong with k = 2 (every pair holds a correct response): nothing to learn
    assert got[4:].tolist() == [0.0] * 12


def test_pass_at_1_is_the_group_baseline_over_the_population_std():
    rewards = torch.tensor([[1.0, 0.0, 0.0, 1.0, 1.0]])
    population_std = rewards.std(unbiased=False)
    expected = ((rewards - rewards.mean()) / population_std).reshape(-1)
    assert losses.pass_at_k_advantages(rewards, 1).tolist() == pytest.approx(expected.tolist(), abs=1e-6)


def test_pass_at_k_refuses_bad_k():
    for k in (0, 5, 1.5, True):
        with pytest.raises(ValueError, match="k must be"):
            losses.pass_at_k_advantages(torch.zeros(2, 4), k)


# --------------------------------------------------------------------------------------------
# Majority (label-free) rewards
# --------------------------------------------------------------------------------------------


def test_majority_label_and_rewards():
    assert losses.majority_label(["2", "2", "3", None]) == "2"
    assert losses.majority_rewards([["2", "2", "3", None]]).tolist() == [[1.0, 1.0, 0.0, 0.0]]
    assert losses.majority_label(["7", None, None, None]) == "7"  # Nones never vote
    assert losses.majority_label([None, None, None, None]) is None


def test_majority_tie_names_no_label():
    for keys in (["2", "3", None, None], ["2", "2", "3", "3"], ["1", "2", "3", "4"]):
        assert losses.majority_label(keys) is None
        assert losses.majority_rewards([keys]).tolist() == [[0.0, 0.0, 0.0, 0.0]]
    # one group's tie does not touch the next group
    assert losses.majority_rewards([["2", "3"], ["4", "4"]]).tolist() == [[0.0, 0.0], [1.0, 1.0]]
