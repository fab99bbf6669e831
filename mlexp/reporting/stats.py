"""How sure is a comparison? Intervals for scores and for differences, paired tests over seeds, Holm's
correction, and a verdict per config. NumPy and SciPy only (no TensorFlow, no pandas).

The methods, in the words the reports use:
- one run, accuracy: Wilson's interval for a proportion, from the n samples of the split it was measured on;
- one run, another score (MAE): the score ± z x its bootstrap standard error over the evaluation samples;
- a config run with several seeds: Student's t interval over the seeds' scores;
- two configs with shared seeds: the paired t-test on the per-seed differences (seed i of both saw the same
  split and data order), with a t interval for the mean difference;
- two configs with one seed each: the two runs' evaluation-set noise only (Newcombe's interval and a
  two-proportion z-test for accuracy, else a z-test from the bootstrap standard errors);
- all comparisons with the best config: Holm's step-down correction of the p-values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
POWER = 0.8  # "seeds that would likely settle it": those with which the test finds the difference 80% of the time
MAX_SEEDS_SHOWN = 100
BOOTSTRAP_RESAMPLES = 1000

PAIRED = "paired t-test over seeds"
WELCH = "Welch's t-test over seeds"
PROPORTIONS = "two-proportion z-test on the evaluation samples (one seed each: seed noise not measured)"
STANDARD_ERRORS = "z-test from bootstrap standard errors (one seed each: seed noise not measured)"
HOLM = "Holm"


@dataclass(frozen=True)
class Estimate:
    """A score with its interval: over seeds (n > 1), or from one run's evaluation samples."""

    mean: float
    low: float
    high: float
    n: int  # seeds
    method: str
    se: float = math.nan  # its standard error, where the method has one


def z(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2))


def wilson(accuracy: float, samples: int, confidence: float = CONFIDENCE) -> Estimate:
    """Wilson's score interval for an accuracy measured on `samples` independent samples."""
    hits = int(round(accuracy * samples))
    interval = stats.binomtest(hits, samples).proportion_ci(confidence, method="wilson")
    se = math.sqrt(max(accuracy * (1 - accuracy), 0.0) / samples)
    return Estimate(accuracy, float(interval.low), float(interval.high), 1, f"Wilson interval, n={samples}", se)


def from_standard_error(value: float, se: float, confidence: float = CONFIDENCE) -> Estimate:
    """value ± z x se: the interval of a score whose standard error was bootstrapped over samples."""
    half = z(confidence) * se
    return Estimate(value, value - half, value + half, 1, "bootstrap standard error over the samples", se)


def bootstrap_se(per_sample: np.ndarray, seed: int = 0) -> float:
    """The standard error of the mean of per-sample values (absolute errors, say), by the bootstrap."""
    values = np.asarray(per_sample, dtype=float).ravel()
    if len(values) < 2:
        return math.nan
    result = stats.bootstrap(
        (values,), np.mean, n_resamples=BOOTSTRAP_RESAMPLES, method="percentile", rng=np.random.default_rng(seed)
    )
    return float(result.standard_error)


def over_seeds(values: Sequence[float], confidence: float = CONFIDENCE) -> Estimate:
    """Student's t interval for the mean of a config's per-seed scores (n >= 2)."""
    x = np.asarray(values, dtype=float)
    mean, n = float(x.mean()), len(x)
    se = float(x.std(ddof=1) / math.sqrt(n))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * se
    return Estimate(mean, mean - half, mean + half, n, f"t interval over {n} seeds", se)


@dataclass(frozen=True)
class Difference:
    """How much better the best config is than another (positive: the best is better), with its test."""

    mean: float
    low: float
    high: float
    p: float
    method: str
    n: int  # pairs (seeds) or 1
    sd: float = math.nan  # the spread of the per-seed differences (paired only): for the seeds needed


def paired(best: Sequence[float], other: Sequence[float], confidence: float = CONFIDENCE) -> Difference:
    """The paired t-test and t interval on best - other, seed by seed (n >= 2 pairs)."""
    d = np.asarray(best, dtype=float) - np.asarray(other, dtype=float)
    n, mean, sd = len(d), float(d.mean()), float(d.std(ddof=1))
    if sd == 0:  # identical differences: no noise to test against
        return Difference(mean, mean, mean, 1.0 if mean == 0 else 0.0, PAIRED, n, sd)
    se = sd / math.sqrt(n)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * se
    p = float(stats.ttest_rel(best, other).pvalue)
    return Difference(mean, mean - half, mean + half, p, PAIRED, n, sd)


def welch(best: Sequence[float], other: Sequence[float], confidence: float = CONFIDENCE) -> Difference:
    """Welch's t-test, for seed groups that share fewer than two seeds."""
    result = stats.ttest_ind(best, other, equal_var=False)
    interval = result.confidence_interval(confidence)
    mean = float(np.mean(best) - np.mean(other))
    return Difference(mean, float(interval.low), float(interval.high), float(result.pvalue), WELCH, 1)


def proportions(best: Estimate, other: Estimate, n_best: int, n_other: int, confidence=CONFIDENCE) -> Difference:
    """Two accuracies on their evaluation samples: Newcombe's hybrid score interval for the difference
    (from the two Wilson intervals) and the pooled two-proportion z-test."""
    p1, p2 = best.mean, other.mean
    a, b = wilson(p1, n_best, confidence), wilson(p2, n_other, confidence)
    d = p1 - p2
    low = d - math.sqrt((p1 - a.low) ** 2 + (b.high - p2) ** 2)
    high = d + math.sqrt((a.high - p1) ** 2 + (p2 - b.low) ** 2)
    pooled = (p1 * n_best + p2 * n_other) / (n_best + n_other)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_best + 1 / n_other))
    p = 1.0 if se == 0 else float(2 * stats.norm.sf(abs(d) / se))
    return Difference(d, low, high, p, PROPORTIONS, 1)


def standard_errors(best: Estimate, other: Estimate, confidence: float = CONFIDENCE) -> Difference:
    """Two scores with bootstrap standard errors, as independent normal estimates."""
    d = best.mean - other.mean
    se = math.hypot(best.se, other.se)
    half = z(confidence) * se
    p = 1.0 if se == 0 else float(2 * stats.norm.sf(abs(d) / se))
    return Difference(d, d - half, d + half, p, STANDARD_ERRORS, 1)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (the family-wise error stays at alpha over all comparisons)."""
    order = sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    adjusted, running = [1.0] * len(pvalues), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(pvalues) - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def seeds_needed(difference: Difference, alpha: float) -> int | None:
    """Seeds with which a paired t-test would likely (80%) find the observed mean difference, from the
    observed spread of the per-seed differences; None when there is no spread or no difference to find."""
    if not math.isfinite(difference.sd) or difference.sd == 0 or difference.mean == 0:
        return None
    need = ((z(1 - alpha) + stats.norm.ppf(POWER)) * difference.sd / abs(difference.mean)) ** 2
    return max(difference.n + 1, math.ceil(need) + 1)  # +1: the t distribution's heavier tails at small n


@dataclass
class Config:
    """One config of a comparison: its per-seed scores (the seed -> score of each scored run)."""

    name: str
    scores: dict[int, float]
    estimate: Estimate | None = None  # with one seed: the run's evaluation-set interval (None: unknown)
    samples: int | None = None  # the evaluation samples behind a single accuracy (for Newcombe's interval)
    runs: int = 0  # runs of this config, failed ones included


@dataclass
class Verdict:
    name: str
    n: int
    mean: float | None
    low: float | None
    high: float | None
    interval_method: str
    verdict: str  # best | tied | worse | undecided | failed
    why: str
    difference: dict | None = None  # against the best: mean, low, high (best minus this, oriented to "better")
    p_value: float | None = None  # against the best, raw
    p_adjusted: float | None = None  # Holm
    test: str = ""
    seeds_needed: int | None = None
    runs: int = 0
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("extra")
        return data | self.extra


def estimate(config: Config, confidence: float = CONFIDENCE) -> Estimate | None:
    if len(config.scores) >= 2:
        return over_seeds(list(config.scores.values()), confidence)
    return config.estimate


def compare_to_best(best: Config, other: Config, sign: int, confidence: float) -> Difference | None:
    """best - other, oriented so that positive means the best is better; None when the noise is unknown."""
    shared = sorted(set(best.scores) & set(other.scores))
    if len(shared) >= 2:
        return _oriented(paired([best.scores[s] for s in shared], [other.scores[s] for s in shared], confidence), sign)
    if len(best.scores) >= 2 and len(other.scores) >= 2:
        return _oriented(welch(list(best.scores.values()), list(other.scores.values()), confidence), sign)
    a, b = estimate(best, confidence), estimate(other, confidence)
    if a is None or b is None or len(best.scores) != 1 or len(other.scores) != 1:
        return None
    if best.samples and other.samples:
        return _oriented(proportions(a, b, best.samples, other.samples, confidence), sign)
    if math.isfinite(a.se) and math.isfinite(b.se):
        return _oriented(standard_errors(a, b, confidence), sign)
    return None


def _oriented(d: Difference, sign: int) -> Difference:
    if sign > 0:
        return d
    return Difference(-d.mean, -d.high, -d.low, d.p, d.method, d.n, d.sd)


def decide(
    configs: list[Config], higher_is_better: bool, confidence: float = CONFIDENCE, min_difference: float = 0.0
) -> list[Verdict]:
    """A verdict per config: is the leader best, which configs are tied with it, worse, or undecided?

    Every config is compared with the leader (best mean); the p-values are Holm-corrected together. A config
    is worse when its corrected p-value is below 1 - confidence (and its interval is not inside
    ±min_difference); tied when its interval lies inside ±min_difference, or, with min_difference 0, when
    the difference is within noise; undecided otherwise (with min_difference > 0: the interval reaches both
    0 and min_difference), or when the noise cannot be measured.
    """
    alpha = 1 - confidence
    scored = [c for c in configs if c.scores]
    sign = 1 if higher_is_better else -1
    ranked = sorted(scored, key=lambda c: -sign * float(np.mean(list(c.scores.values()))))
    out = {c.name: _failed(c) for c in configs if not c.scores}
    if not ranked:
        return [out[c.name] for c in configs]
    leader, others = ranked[0], ranked[1:]
    differences = [compare_to_best(leader, other, sign, confidence) for other in others]
    tested = [i for i, d in enumerate(differences) if d is not None]
    adjusted = dict(zip(tested, holm([differences[i].p for i in tested]), strict=True))
    for i, (other, d) in enumerate(zip(others, differences, strict=True)):
        out[other.name] = _against_leader(other, d, adjusted.get(i), alpha, min_difference, confidence)
    out[leader.name] = _leader(leader, [out[o.name] for o in others], confidence)
    return [out[c.name] for c in ranked] + [out[c.name] for c in configs if not c.scores]


def _base(config: Config, confidence: float, verdict: str, why: str) -> Verdict:
    e = estimate(config, confidence)
    return Verdict(
        config.name, len(config.scores), e.mean if e else _mean(config), e.low if e else None,
        e.high if e else None, e.method if e else "no interval (noise unknown)", verdict, why, runs=config.runs,
    )  # fmt: skip


def _mean(config: Config) -> float | None:
    return float(np.mean(list(config.scores.values()))) if config.scores else None


def _failed(config: Config) -> Verdict:
    return _base(config, CONFIDENCE, "failed", "no run of this config has a score")


def _against_leader(other: Config, d: Difference | None, p_adj, alpha, min_difference, confidence) -> Verdict:
    if d is None:
        return _base(other, confidence, "undecided", "the noise is unknown: repeat it with seeds (sweep.seeds=5)")
    shown = f"difference {d.mean:.4g}, {confidence:.0%} interval [{d.low:.4g}, {d.high:.4g}]"
    need = seeds_needed(d, alpha) if d.method == PAIRED else None
    settle = f"; about {_seeds(need)} seeds would likely settle it" if need else ""
    if d.method in (PROPORTIONS, STANDARD_ERRORS):
        settle = "; seed noise not measured: sweep.seeds=5 would measure it"
    if min_difference > 0 and -min_difference < d.low and d.high < min_difference:
        verdict, why = "tied", f"{shown}: inside ±{min_difference:g}, too small to matter"
    elif p_adj < alpha:
        verdict, why = "worse", f"{shown}: worse than the best (Holm-adjusted p {_p_words(p_adj)})"
    elif min_difference == 0:
        verdict, why = "tied", f"{shown}: within noise (Holm-adjusted p {_p_words(p_adj)}){settle}"
    else:
        verdict, why = "undecided", f"{shown}: could be 0 or more than {min_difference:g}{settle}"
    result = _base(other, confidence, verdict, why)
    result.difference = {"mean": d.mean, "low": d.low, "high": d.high}
    result.p_value, result.p_adjusted, result.test = d.p, p_adj, d.method
    result.seeds_needed = need if verdict != "worse" else None
    return result


def _p_words(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3g}"


def p_text(p: float | None) -> str:
    return "-" if p is None else "< 0.001" if p < 0.001 else f"{p:.3g}"


def _seeds(need: int) -> str:
    return f"more than {MAX_SEEDS_SHOWN}" if need > MAX_SEEDS_SHOWN else str(need)


def _leader(leader: Config, others: list[Verdict], confidence: float) -> Verdict:
    kinds = {v.verdict for v in others if v.verdict != "failed"}
    if not kinds:
        why = "the only config with a score"
        return _base(leader, confidence, "best", why)
    if kinds == {"worse"}:
        return _base(leader, confidence, "best", "every other config is worse, at the chosen confidence")
    tied = [v.name for v in others if v.verdict == "tied"]
    if tied:
        return _base(leader, confidence, "tied", "highest mean, tied with " + ", ".join(tied))
    return _base(leader, confidence, "undecided", "highest mean; not yet told apart from every other config")
