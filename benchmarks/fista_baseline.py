"""The 60-line FISTA of issue 19: the plain baseline SparseLens's path is timed
against.

The multinomial elastic net ``(1/n) Σ CE(B x_i + b, y_i) + λ[α‖B‖₁ + (1 − α)/2
‖B‖₂²]`` on already standardised features, solved at each λ of a decreasing
grid, warm-started from the λ before. Full-batch FISTA on every feature (no
screening, no working set), float32 products in torch: backtracking (``L``
doubled until the quadratic upper bound holds, halved at each new λ),
gradient-based adaptive restart (O'Donoghue & Candès 2015), stopped when the
proximal-gradient mapping ``L (y − x⁺)`` is at most
``tol · max |Xᵀ(Y − Ȳ)| / n`` in every entry (coefficients and intercept).
An iteration reads X twice: the candidate's predictions and the gradient at the
extrapolated point; ``epochs`` counts iterations. Its softmax is written as
whole-tensor operations, as SparseLens's is (``torch.softmax`` over 10 classes
is 5× slower on the CPU), and its two products are SparseLens's
(:func:`~core.sparse_layers.glm.design.affine`, oneDNN's ``X Bᵀ + b``, 2.6×
the BLAS matmul on P2; :func:`~core.sparse_layers.glm.design.transpose_product`,
``Rᵀ X`` split over threads): the comparison is of the algorithms.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from core.sparse_layers.glm.design import affine, transpose_product


def _log_softmax(Z: torch.Tensor) -> torch.Tensor:
    S = Z - Z.amax(1, keepdim=True)
    return S - S.exp().sum(1, keepdim=True).log()


def _loss(Z: torch.Tensor, Y: torch.Tensor) -> float:
    return -(_log_softmax(Z) * Y).sum(1).double().mean().item()


def fista_path(X, y, lambdas, alpha, tol=1e-4, max_epochs=2000, device="cpu"):
    """Coefficients (K, k, p), intercepts (K, k) and epochs per λ.

    ``X`` standardised (n × p), ``y`` class codes 0..k−1, ``lambdas``
    decreasing; the tensors live on ``device``.
    """
    X = torch.as_tensor(np.ascontiguousarray(X), dtype=torch.float32, device=device)
    n, p = X.shape
    Y = torch.nn.functional.one_hot(torch.as_tensor(y, device=device).long()).float()
    k = Y.shape[1]
    log_prior = Y.mean(0).clamp_min(1e-12).log()
    B, b = torch.zeros(k, p, device=device), log_prior - log_prior.mean()
    scale = ((Y - Y.mean(0)).T @ X).abs().max().item() / n
    L, coefs, intercepts, epochs = 1.0, [], [], []
    for lam in lambdas:
        l1, l2 = lam * alpha, lam * (1 - alpha)
        Z = affine(X, B, b)
        yB, yb, Zy, t, it = B, b, Z, 1.0, 0
        L = max(L / 2, 0.5)
        while it < max_epochs:
            it += 1
            R = _log_softmax(Zy).exp() - Y
            gB, gb, fy = transpose_product(R, X) / n, R.mean(0), _loss(Zy, Y)
            while True:  # backtracking
                Bn = torch.sign(yB - gB / L) * ((yB - gB / L).abs() - l1 / L).clamp_min(
                    0
                )
                Bn, bn = Bn / (1 + l2 / L), yb - gb / L
                Zn = affine(X, Bn, bn)
                dB, db = Bn - yB, bn - yb
                inner = (gB * dB).sum().item() + (gb * db).sum().item()
                sq = (dB * dB).sum().item() + (db * db).sum().item()
                if _loss(Zn, Y) <= fy + inner + L / 2 * sq + 1e-6 * (1 + abs(fy)):
                    break
                L *= 2
            mapping = L * max(dB.abs().max().item(), db.abs().max().item())
            if mapping <= tol * scale:
                B, b = Bn, bn
                break
            # Restart when the step goes against the momentum.
            if ((yB - Bn) * (Bn - B)).sum() + ((yb - bn) * (bn - b)).sum() > 0:
                t = 1.0
            t_next = (1 + math.sqrt(1 + 4 * t * t)) / 2
            w = (t - 1) / t_next
            yB, yb, Zy = Bn + w * (Bn - B), bn + w * (bn - b), Zn + w * (Zn - Z)
            B, b, Z, t = Bn, bn, Zn, t_next
        else:
            B, b = Bn, bn
        coefs.append(B.cpu().numpy().copy())
        intercepts.append(b.cpu().numpy().copy())
        epochs.append(it)
    return np.stack(coefs), np.stack(intercepts), np.array(epochs)
