"""A fast, deterministic linear SVM: LinearSVC's primal problem solved by preconditioned Newton-CG.

The problem is exactly the one scikit-learn's ``LinearSVC()`` solves with its default
arguments (liblinear, L2-regularised squared hinge loss, ``C = 1``, ``fit_intercept=True``,
``intercept_scaling = 1``, so the intercept is regularised like any weight)::

    minimise over (v, b):  0.5 * (|v|^2 + b^2) + C * sum_i max(0, 1 - y_i (v . x_i + b))^2

with ``y_i`` in {-1, +1}. liblinear solves it with a trust-region Newton method in double
precision, one sample at a time; here each Newton step solves ``H s = -g`` by conjugate
gradients whose Hessian-vector products are float32 matrix-vector products over the active
samples only (those inside the margin), preconditioned by ``I + 2 C |A| E[x x^T]`` (a
Cholesky factor of a ``[d+1, d+1]`` matrix; ``E[x x^T]`` may be shared by every attribute).
A backtracking (Armijo) line search keeps each step a descent step. There is no random
shuffling anywhere, so the same inputs give the same coefficients.

Stopping rule (liblinear's primal criterion): ``|grad| <= tol * max(min(n_pos, n_neg), 1) / n
* |grad at 0|``, or a line search that cannot decrease the objective any more (float32
precision reached), or ``max_iter`` Newton steps (then ``converged`` is False).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["LinearSVMFit", "fit_linear_svm", "second_moment"]


@dataclass(frozen=True)
class LinearSVMFit:
    """A fitted linear SVM.

    Attributes:
        coef: normal vector ``[d]`` (float64, not normalised); positive side = class 1.
        intercept: bias ``b``; the decision function is ``x . coef + intercept``.
        n_iter: Newton iterations run.
        converged: the stopping rule was met before ``max_iter``.
    """

    coef: np.ndarray
    intercept: float
    n_iter: int
    converged: bool

    def decision_function(self, x: np.ndarray | torch.Tensor) -> np.ndarray:
        """Signed distances (unnormalised) ``[n]`` for points ``[n, d]``."""
        x = torch.as_tensor(x, dtype=torch.float32)
        return (x @ torch.from_numpy(self.coef.astype(np.float32))).double().numpy() + self.intercept

    def predict(self, x: np.ndarray | torch.Tensor) -> np.ndarray:
        """Predicted class ``[n]`` in {0, 1} (1 where the decision function is > 0, as LinearSVC)."""
        return (self.decision_function(x) > 0).astype(np.int64)


def second_moment(x: torch.Tensor) -> torch.Tensor:
    """``E[x' x'^T]`` of the bias-augmented points ``x' = [x, 1]``: float64 ``[d+1, d+1]``."""
    x = torch.as_tensor(x, dtype=torch.float32)
    n, d = x.shape
    out = torch.empty(d + 1, d + 1, dtype=torch.float64)
    out[:d, :d] = (x.T @ x).double() / n
    mean = x.double().mean(0)
    out[:d, d] = mean
    out[d, :d] = mean
    out[d, d] = 1.0
    return out


def fit_linear_svm(
    x: np.ndarray | torch.Tensor,
    y: np.ndarray,
    *,
    C: float = 1.0,
    tol: float = 1e-4,
    max_iter: int = 50,
    max_cg: int = 100,
    moment: torch.Tensor | None = None,
) -> LinearSVMFit:
    """Fit LinearSVC's default primal problem (see the module docstring).

    Args:
        x: points ``[n, d]`` (any float; used as float32).
        y: labels ``[n]`` in {0, 1} (or bool); both classes must be present.
        C: inverse regularisation strength (LinearSVC's ``C``).
        tol: relative gradient tolerance (LinearSVC's ``tol``, liblinear's primal rule).
        max_iter: maximum Newton iterations.
        max_cg: maximum conjugate-gradient steps per Newton iteration.
        moment: optional ``E[x' x'^T]`` from :func:`second_moment` (of these or similar points)
            used for preconditioning; computed from ``x`` when ``None``.

    Returns:
        :class:`LinearSVMFit`.

    Raises:
        ValueError: ``y`` holds a single class, or the inputs hold NaN/Inf.
    """
    xt = torch.as_tensor(x, dtype=torch.float32)
    yy = np.asarray(y).astype(bool)
    n, d = xt.shape
    n_pos = int(yy.sum())
    if n_pos in (0, n):
        raise ValueError(f"a linear SVM needs both classes, but all {n} labels are {int(yy[0])}")
    if not torch.isfinite(xt).all():
        raise ValueError("the points hold NaN or Inf")
    ys = torch.from_numpy(np.where(yy, 1.0, -1.0).astype(np.float32))
    if moment is None:
        moment = second_moment(xt)
    c2 = 2.0 * C

    v = torch.zeros(d, dtype=torch.float32)
    b = 0.0

    def objective(v: torch.Tensor, b: float) -> tuple[float, torch.Tensor]:
        slack = (1.0 - ys * (xt @ v + b)).clamp_min_(0.0)
        return 0.5 * (float(v.double() @ v.double()) + b * b) + C * float((slack.double() ** 2).sum()), slack

    f, slack = objective(v, b)
    g0_norm = None
    eps = tol * max(min(n_pos, n - n_pos), 1) / n
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        r = slack * ys  # nonzero on the active set only
        gv = v - c2 * (xt.T @ r)
        gb = b - c2 * float(r.double().sum())
        g = torch.cat([gv.double(), torch.tensor([gb], dtype=torch.float64)])
        g_norm = float(g.norm())
        if g0_norm is None:
            g0_norm = g_norm
        if g_norm <= eps * g0_norm:
            converged = True
            it -= 1
            break
        active = slack > 0
        xa = xt[active]
        m_active = int(active.sum())
        precond = torch.linalg.cholesky(torch.eye(d + 1, dtype=torch.float64) + c2 * m_active * moment)

        def hess_vec(s: torch.Tensor, xa: torch.Tensor = xa) -> torch.Tensor:  # binds this iteration's active set
            s32 = s[:d].float()
            u = xa @ s32 + float(s[d])
            return s + c2 * torch.cat([(xa.T @ u).double(), u.double().sum().reshape(1)])

        step = _pcg(hess_vec, -g, precond, max_cg)
        # Armijo backtracking on the true objective
        slope = float(g @ step)
        alpha = 1.0
        accepted = False
        for _ in range(30):
            v_new = v + (alpha * step[:d]).float()
            b_new = b + alpha * float(step[d])
            f_new, slack_new = objective(v_new, b_new)
            if f_new <= f + 1e-4 * alpha * slope:
                accepted = True
                break
            alpha *= 0.5
        if not accepted or f - f_new <= 1e-12 * max(abs(f), 1.0):
            # float32 precision reached: nothing decreases the objective any more
            if accepted:
                v, b, f, slack = v_new, b_new, f_new, slack_new
            converged = True
            break
        v, b, f, slack = v_new, b_new, f_new, slack_new
    return LinearSVMFit(coef=v.double().numpy(), intercept=float(b), n_iter=it, converged=converged)


def _pcg(hess_vec, rhs: torch.Tensor, chol: torch.Tensor, max_steps: int, rel_tol: float = 0.1) -> torch.Tensor:
    """Preconditioned CG for ``H s = rhs`` (float64 vectors), stopped at ``|res| <= rel_tol |rhs|``."""
    s = torch.zeros_like(rhs)
    res = rhs.clone()
    z = torch.cholesky_solve(res.unsqueeze(1), chol).squeeze(1)
    p = z.clone()
    rz = float(res @ z)
    target = rel_tol * float(rhs.norm())
    for _ in range(max_steps):
        if float(res.norm()) <= target:
            break
        hp = hess_vec(p)
        denom = float(p @ hp)
        if not math.isfinite(denom) or denom <= 0:
            break
        a = rz / denom
        s += a * p
        res -= a * hp
        z = torch.cholesky_solve(res.unsqueeze(1), chol).squeeze(1)
        rz_new = float(res @ z)
        p = z + (rz_new / rz) * p
        rz = rz_new
    return s
