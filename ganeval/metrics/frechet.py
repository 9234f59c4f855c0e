"""The Fréchet distance between two Gaussians, computed through one symmetric eigenproblem.

FID(N(mu1, S1), N(mu2, S2)) = |mu1 - mu2|^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^(1/2)).

The references take ``scipy.linalg.sqrtm(S1 @ S2)``: a non-symmetric square root that is slow
(minutes on 2048-d on a CPU), returns complex numbers on rank-deficient inputs and has broken
across SciPy releases. Here the trace term uses the identity

    Tr((S1 S2)^(1/2)) = sum_i sqrt(lambda_i(S1^(1/2) S2 S1^(1/2))),

where ``S1^(1/2) S2 S1^(1/2)`` is symmetric positive semi-definite (similar to ``S1 S2``). Any
factor ``S1 = A A^T`` gives the same eigenvalues through ``A^T S2 A``: a Cholesky factor when S1 is
positive definite (one ``eigvalsh``, the fast path), else ``A = V diag(w)^(1/2)`` from ``eigh``
(rank-deficient S1, e.g. fewer samples than dimensions). Round-off can make a few eigenvalues
slightly negative; they are clipped to 0 and reported. Everything is float64.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import GanevalValueError

if TYPE_CHECKING:
    import torch

__all__ = ["frechet_distance", "frechet_details", "FrechetDetails", "SmallSampleWarning", "warn_small_sample"]


class SmallSampleWarning(UserWarning):
    """Fewer samples than feature dimensions: the covariance is rank-deficient and FID is biased."""


@dataclass(frozen=True)
class FrechetDetails:
    """The Fréchet distance and the diagnostics of its computation.

    Attributes:
        value: the squared Fréchet distance (>= 0 up to round-off; clipped at 0).
        mean_term: ``|mu1 - mu2|^2``.
        trace_term: ``Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^(1/2))``.
        rank1, rank2: numerical ranks of the covariances (eigenvalues above
            ``max_eig * dim * eps``).
        num_clipped: negative eigenvalues (round-off) set to zero, over both eigenproblems.
        most_negative: the most negative eigenvalue clipped (0.0 when none).
    """

    value: float
    mean_term: float
    trace_term: float
    rank1: int
    rank2: int
    num_clipped: int
    most_negative: float


_MAX_ABS = 1e100  # larger statistics overflow float64 in the squared terms (|mu|^2, S1 S2)
_PSD_TOL = 1e-6  # negative eigenvalues beyond this fraction of the largest are not round-off


def _check(name: str, a: np.ndarray, ndim: int) -> np.ndarray:
    try:
        a = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise GanevalValueError(f"Argument `{name}` must be a numeric {ndim}-d array, but got {exc}.") from None
    if a.ndim != ndim or a.shape[0] == 0:
        raise GanevalValueError(f"Argument `{name}` must be a non-empty {ndim}-d array, but got shape {list(a.shape)}.")
    if not np.isfinite(a).all():
        raise GanevalValueError(f"Argument `{name}` must be finite, but it holds NaN or Inf.")
    big = float(np.abs(a).max())
    if big > _MAX_ABS:
        raise GanevalValueError(
            f"Argument `{name}` must hold values of magnitude <= {_MAX_ABS:g} (larger ones "
            f"overflow the distance), but holds {big:g}; these are not feature statistics."
        )
    return a


def _check_symmetric(name: str, m: np.ndarray) -> None:
    scale = float(np.abs(m).max())
    if float(np.abs(m - m.T).max()) > 1e-5 * scale:
        raise GanevalValueError(
            f"Argument `{name}` must be a symmetric covariance matrix, but it is not "
            f"(largest asymmetry {float(np.abs(m - m.T).max()):.3g} of entries up to {scale:.3g})."
        )


def _check_psd(name: str, eigvals: torch.Tensor) -> None:
    """Refuse a matrix whose eigenvalues (or those of a congruent one) are clearly negative."""
    if not eigvals.numel():
        return
    low, top = float(eigvals.min()), float(eigvals.abs().max())
    if low < -_PSD_TOL * top:
        raise GanevalValueError(
            f"Argument `{name}` must be positive semi-definite (a covariance matrix), but it has an eigenvalue "
            f"{low:.4g} (largest magnitude {top:.4g}); the statistics are corrupt or were not computed as a covariance."
        )


def _rank(eigvals: torch.Tensor) -> int:
    """Numerical rank: eigenvalues above ``max |eig| * 1e-10`` (round-off of float64 eigh on
    covariances sits near ``1e-13`` relative; genuine directions of features lie far above)."""
    top = float(eigvals.abs().max()) if eigvals.numel() else 0.0
    return int((eigvals > top * 1e-10).sum()) if top > 0 else 0


def frechet_details(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> FrechetDetails:
    """Fréchet distance with diagnostics; see :func:`frechet_distance` for the arguments."""
    mu1, mu2 = _check("mu1", mu1, 1), _check("mu2", mu2, 1)
    s1, s2 = _check("sigma1", sigma1, 2), _check("sigma2", sigma2, 2)
    d = mu1.shape[0]
    for name, m in (("sigma1", s1), ("sigma2", s2)):
        if m.shape != (d, d):
            raise GanevalValueError(
                f"Argument `{name}` must have shape [{d}, {d}] to match `mu1`, but got {list(m.shape)}."
            )
    if mu2.shape != (d,):
        raise GanevalValueError(f"Argument `mu2` must have shape [{d}] to match `mu1`, but got {list(mu2.shape)}.")
    _check_symmetric("sigma1", s1)
    _check_symmetric("sigma2", s2)
    import torch  # LAPACK through torch (MKL) is several times faster than NumPy's here

    t1 = torch.from_numpy(0.5 * (s1 + s1.T))  # float32-saved inputs may be asymmetric in the last bit
    t2 = torch.from_numpy(0.5 * (s2 + s2.T))
    negatives: list[torch.Tensor] = []
    factor, info = torch.linalg.cholesky_ex(t1)
    if int(info) == 0:
        # S1 = L L^T is positive definite: eig(S1 S2) = eig(L^T S2 L), and rank(S2) = rank of that.
        m = factor.T @ t2 @ factor
        lam = torch.linalg.eigvalsh(0.5 * (m + m.T))
        _check_psd("sigma2", lam)  # L^T S2 L has the inertia of S2 (Sylvester)
        rank1, rank2 = d, _rank(lam)
    else:
        # Rank-deficient S1 (e.g. fewer samples than dimensions): S1^(1/2) through eigh, clipped.
        w1, v1 = torch.linalg.eigh(t1)
        w2 = torch.linalg.eigvalsh(t2)
        _check_psd("sigma1", w1)
        _check_psd("sigma2", w2)
        negatives.append(w1[w1 < 0])
        root = w1.clamp(min=0.0).sqrt()
        m = root[:, None] * (v1.T @ t2 @ v1) * root[None, :]
        lam = torch.linalg.eigvalsh(0.5 * (m + m.T))
        rank1, rank2 = _rank(w1), _rank(w2)
    negatives.append(lam[lam < 0])
    tr_sqrt = float(lam.clamp(min=0.0).sqrt().sum())
    diff = mu1 - mu2
    mean_term = float(diff @ diff)
    trace_term = float(np.trace(s1) + np.trace(s2) - 2.0 * tr_sqrt)
    clipped = torch.cat(negatives)
    if not (np.isfinite(mean_term) and np.isfinite(trace_term) and np.isfinite(tr_sqrt)):
        raise GanevalValueError(
            "The Fréchet distance overflowed float64 (statistics of magnitude "
            f"{max(float(np.abs(s1).max()), float(np.abs(s2).max())):.3g}); these are not "
            "feature statistics of images."
        )
    return FrechetDetails(
        value=max(mean_term + trace_term, 0.0),
        mean_term=mean_term,
        trace_term=trace_term,
        rank1=rank1,
        rank2=rank2,
        num_clipped=int(clipped.numel()),
        most_negative=float(clipped.min()) if clipped.numel() else 0.0,
    )


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Squared Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    Args:
        mu1, mu2: means ``[D]``.
        sigma1, sigma2: covariances ``[D, D]`` (symmetric positive semi-definite; rank-deficient
            ones, e.g. from fewer than ``D + 1`` samples, are fine).

    Returns:
        The distance as a float >= 0 (never NaN, never complex).

    >>> import numpy as np
    >>> frechet_distance(np.zeros(2), np.eye(2), np.ones(2), np.eye(2))
    2.0
    """
    return frechet_details(mu1, sigma1, mu2, sigma2).value


def warn_small_sample(num_items: int, dim: int, what: str) -> None:
    """Warn that ``num_items`` samples cannot give a full-rank ``dim``-d covariance."""
    if num_items <= dim:
        warnings.warn(
            f"{what}: {num_items} samples for {dim}-d features give a rank-deficient covariance "
            f"(rank <= {num_items - 1}); the Fréchet distance is finite but strongly biased upward. "
            f"Use more than {dim} samples (the references use 50,000).",
            SmallSampleWarning,
            stacklevel=3,
        )
