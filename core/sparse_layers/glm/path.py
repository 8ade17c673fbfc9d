"""Elastic-net regularisation paths for GLMs on (deep) features.

:func:`elastic_net_path` fits ``min (1/n) Σ loss(x_iᵀβ + β₀, y_i) +
λ[(1 − α)/2 ‖β‖₂² + α‖β‖₁]`` for a decreasing sequence of λ, warm-starting each
fit from the previous one, as glm_saga (Wong et al. 2021) and glmnet do.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from core.data.featurize import fit_scaler
from core.data.types import Preprocessing
from core.sparse_layers.glm import solvers
from core.sparse_layers.glm.design import (
    Design,
    InMemoryDesign,
    StreamedDesign,
    as_design,
    column_stats,
    parse_memory,
    stream_plan,
)
from core.sparse_layers.glm.families import Family, get_family
from core.sparse_layers.glm.result import ElasticNetPath
from core.sparse_layers.glm.validation import (
    check_design,
    check_streamed_design,
    check_streamed_values,
)
from core.threads import threads_for, torch_threads

#: ``progress(done, total)`` after each λ.
Progress = Callable[[int, int], None]

#: SAGA's default tolerance: glm_saga's on the change in parameters.
SAGA_TOL = 1e-4
#: Working sets are as wide as a multiple of this many features (or every
#: feature): each width is one kernel oneDNN compiles and keeps
#: (:func:`~core.sparse_layers.glm.design.affine`), so a path compiles at most
#: ⌈p / 64⌉ of them.
WIDTH_STEP = 64
#: The precisions a path can be solved in, by name.
DTYPES = {"float32": torch.float32, "float64": torch.float64}


@dataclass(frozen=True)
class _Data:
    X: Design
    Y: torch.Tensor
    y: np.ndarray


@dataclass(frozen=True)
class PathSettings:
    """How every λ of a path is solved (each option as in :func:`elastic_net_path`)."""

    solver: str = "fista"
    alpha: float = 0.99
    tol: float = 5e-6
    stop: str = "objective"
    max_epochs: int = 2000
    screening: bool = True
    lr: float = 0.1
    batch_size: int = 512
    seed: int = 0


#: ``solve_at(lam, B, b) -> (solution, working-set rounds)``: one λ, warm-started
#: at ``(B, b)``, with the solver's own state carried from the λ before.
SolveAt = Callable[[float, torch.Tensor, torch.Tensor], "tuple[solvers.Solution, int]"]


def null_gradient_scale(
    X: torch.Tensor | Design, Y: torch.Tensor, family: Family
) -> float:
    """``max |Xᵀ R₀| / n``, the largest loss gradient of the null model, where
    ``R₀`` is its residual (``Y − Ȳ`` up to sign for the canonical links).

    It is λ_max · α, and the scale the KKT stop measures violations against.
    """
    b0 = family.null_intercept(Y)
    R0 = family.residual(b0.expand(len(Y), -1), Y)
    X = as_design(X)
    return X.transpose_times(R0.double()).abs().max().item() / len(X)


def lambda_max(
    X: torch.Tensor | Design, Y: torch.Tensor, family: Family, alpha: float
) -> float:
    """The smallest λ at which every coefficient is zero.

    At β = 0 with the optimal intercept, the KKT conditions hold iff
    ``max |Xᵀ R₀| / n ≤ λα`` (:func:`null_gradient_scale`).
    """
    if alpha <= 0:
        raise ValueError("alpha must be in (0, 1] for a path: λ_max is infinite at 0")
    return null_gradient_scale(X, Y, family) / alpha


def _metrics(family: Family, data: _Data, B, b) -> tuple[float, float]:
    Z = data.X.linear(B, b)
    loss = solvers.mean_loss(family, Z, data.Y)
    if not family.classification:
        return loss, float("nan")
    pred = family.predict(Z).cpu().numpy()
    return loss, float(np.mean(pred == data.y))


def elastic_net_path(
    X: np.ndarray,
    y: np.ndarray,
    *,
    family: str = "multinomial",
    alpha: float = 0.99,
    n_lambdas: int = 100,
    eps: float = 1e-3,
    lambdas: np.ndarray | None = None,
    tol: float | None = None,
    stop: str = "objective",
    max_epochs: int = 2000,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    solver: str = "fista",
    screening: bool = True,
    lr: float = 0.1,
    batch_size: int = 512,
    standardize: bool = True,
    feature_names: list[str] | tuple[str, ...] | None = None,
    device: str | torch.device = "cpu",
    dtype: str = "float32",
    seed: int = 0,
    progress: Progress | None = None,
    max_memory: str | int | None = None,
) -> ElasticNetPath:
    """Fit an elastic-net GLM along a regularisation path.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Finite features, in their original units; standardised here (mean 0,
        standard deviation 1 on the training rows) when ``standardize``.
    y : array of shape (n_samples,) or (n_samples, n_targets)
        Class labels (any sortable values) for ``multinomial``/``binomial``,
        real targets for ``gaussian``.
    family : {"multinomial", "binomial", "gaussian"}
        ``binomial`` fits one output (class 1 against class 0).
    alpha : float in [0, 1]
        The L1 share of the penalty (glm_saga's α; scikit-learn's ``l1_ratio``);
        0 (ridge, e.g. a dense decision layer) needs explicit ``lambdas``.
    n_lambdas, eps : int, float
        ``n_lambdas`` values log-spaced from λ_max down to ``eps`` · λ_max.
    lambdas : array of shape (K,), optional
        Use these λ instead (sorted decreasing here).
    tol : float, optional
        FISTA: when a λ is solved (see ``stop``; None: the stop's default,
        5e-6 for ``"objective"``, 1e-4 for the others). SAGA: glm_saga's
        change-in-parameters criterion (None: 1e-4).
    stop : {"objective", "kkt", "duality_gap"}
        FISTA's stopping rule. ``"objective"`` (default): the objective is
        estimated within ``tol`` (relative) of its minimum from the rate at
        which it still falls (:class:`~core.sparse_layers.glm.solvers.ObjectiveStop`),
        and the KKT violation is at most 1e-4 · λ_max · α. ``"kkt"``: every
        entry of the proximal-gradient mapping (the KKT violation of each
        coefficient, the intercept's gradient) is at most
        ``tol · max |Xᵀ(Y − Ȳ)| / n`` (``tol`` · λ_max · α), the kind of rule
        glmnet and skglm stop on; on the tail of a nearly separable problem
        it stops with the objective far above its minimum (3.4e-3 on the P1
        benchmark at tol 1e-4), because there the mapping reaches float32's
        resolution first. ``"duality_gap"``: the stricter certificate,
        relative duality gap ≤ ``tol`` (on such a tail it can take many times
        the epochs for the same objective). Every stop computes the duality
        gap and the KKT violation at each λ (``diagnostics["gap"]``,
        ``diagnostics["kkt"]``).
    max_epochs : int
        Passes over the data allowed per λ; reaching it warns.
    validation : (X_val, y_val), optional
        Scored at every λ (loss and accuracy), with the training scaling.
    solver : {"fista", "saga"}
        ``fista`` (default): full-batch accelerated proximal gradient with
        backtracking, adaptive restart, strong-rule screening with a KKT check,
        stopped by ``stop``. ``saga``: the paper's minibatch SAGA
        (learning rate ``lr``, minibatch ``batch_size``).
    screening : bool
        FISTA only: solve on the features the sequential strong rule keeps,
        then add any feature that violates the KKT conditions.
    feature_names : sequence of str, optional
    device : str or torch.device
        Where the matrices live and the solver runs (e.g. ``"cuda"``).
    dtype : {"float32", "float64"}
        The precision of the standardised features, coefficients and products.
        float64 (in memory only) is for reference solves to tolerances below
        float32's rounding, e.g. ``tol=1e-9``; its products are several times
        slower.
    seed : int
        SAGA's minibatch order.
    progress : callable, optional
        ``progress(done, total)`` after every λ.
    max_memory : str or int, optional
        Stream ``X`` from its file instead of loading it: ``X`` is then
        ``np.load(path, mmap_mode="r")`` of a float16/32/64 ``.npy`` file, read
        in blocks of rows sized so that the fit holds at most this many bytes
        (``"2GB"``, ``"500MB"``, ``"1.5GiB"`` or an int) besides the
        validation pair, whatever the number of rows. The model's own arrays
        count: per row the labels, targets and predictions (about
        16 + 96 × n_outputs bytes), per feature the coefficients of every λ.
        Each product with ``X`` reads the file once (a FISTA iteration: the
        candidate's predictions, then the gradient at the extrapolated point;
        a working-set round ends with one fused pass for predictions,
        residual and gradient); blocks go to ``device`` in turn. FISTA only
        (SAGA draws random rows). Objectives agree with the in-memory path's
        to float32 rounding.

    Returns
    -------
    ElasticNetPath
        ``lambdas`` (K,), ``coef`` (K, n_outputs, n_features) on the
        standardised scale (``coef_original()`` for original units),
        ``intercept`` (K, n_outputs) and per-λ diagnostics.

    References
    ----------
    Friedman, Hastie & Tibshirani (2010), "Regularization paths for generalized
    linear models via coordinate descent"; Tibshirani et al. (2012), "Strong
    rules for discarding predictors in lasso-type problems"; Wong, Santurkar &
    Mądry (2021), "Leveraging sparse linear layers for debuggable deep networks".
    """
    fam = get_family(family)
    path_solver(solver)  # an unknown solver or stop fails before any work
    default_tol = solvers.tolerance_for(stop, None)
    if tol is None:
        # SAGA's is glm_saga's change in parameters.
        tol = default_tol if solver == "fista" else SAGA_TOL
    settings = PathSettings(
        solver=solver,
        alpha=alpha,
        tol=tol,
        stop=stop,
        max_epochs=max_epochs,
        screening=screening,
        lr=lr,
        batch_size=batch_size,
        seed=seed,
    )
    if dtype not in DTYPES:
        raise ValueError(f"Unknown dtype {dtype!r}; expected one of {tuple(DTYPES)}")
    if dtype != "float32" and max_memory is not None:
        raise ValueError(
            f"dtype={dtype!r} needs X in memory: a file streamed in row blocks "
            "(max_memory) is read as float32"
        )
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    if alpha == 0 and lambdas is None:
        raise ValueError(
            "alpha=0 (ridge) has no λ_max: give the λ values with lambdas=[...]"
        )
    device = torch.device(device)
    if max_memory is None:
        Xn, yn, val, classes, names = check_design(
            X, y, fam, validation=validation, feature_names=feature_names
        )
        prep = (
            fit_scaler(Xn, "zscore", "z-scored on the training rows")
            if standardize
            else Preprocessing("identity", np.zeros(Xn.shape[1]), np.ones(Xn.shape[1]))
        )
        k = fam.n_outputs(torch.as_tensor(yn), _n_classes(classes))
        train = _on_device(Xn, yn, prep, fam, k, device, DTYPES[dtype])
    else:
        if solver != "fista":
            raise ValueError(
                f"solver={solver!r} draws random rows, which a file streamed in "
                "row blocks (max_memory) cannot serve; use solver='fista'"
            )
        budget = parse_memory(max_memory)
        yn, val, classes, names = check_streamed_design(
            X, y, fam, validation=validation, feature_names=feature_names
        )
        k = fam.n_outputs(torch.as_tensor(yn), _n_classes(classes))
        n_grid = n_lambdas if lambdas is None else len(np.atleast_1d(lambdas))
        block_rows = stream_plan(X, k, n_grid, budget)
        prep = _streamed_scaling(X, block_rows, standardize)
        Yt = fam.targets(torch.as_tensor(yn, device=device), k)
        train = _Data(StreamedDesign(X, prep, block_rows, device), Yt, yn)
    valid = (
        _on_device(*val, prep, fam, k, device, DTYPES[dtype])
        if val is not None
        else None
    )
    lmax = lambda_max(train.X, train.Y, fam, alpha) if alpha > 0 else np.inf
    grid = _lambda_grid(lmax, n_lambdas, eps, lambdas)
    n, p = train.X.shape
    # A streamed pass multiplies one block at a time: the block sets the size
    # of each parallel region.
    rows = n if max_memory is None else train.X.block_rows
    threads = threads_for(rows * p * k) if device.type == "cpu" else None
    with torch_threads(threads):
        records = _fit_path(
            train,
            valid=valid,
            family=fam,
            grid=grid,
            lmax=lmax,
            n_outputs=k,
            settings=settings,
            progress=progress,
        )
    return ElasticNetPath.from_records(
        records,
        lambdas=grid,
        alpha=alpha,
        family=fam.name,
        solver=solver,
        tol=tol,
        stop=stop,
        classes=classes,
        feature_names=names,
        preprocessing=prep,
        n_train=n,
    )


def _n_classes(classes: np.ndarray | None) -> int:
    return len(classes) if classes is not None else 0


def _streamed_scaling(
    source: np.memmap, block_rows: int, standardize: bool
) -> Preprocessing:
    """The scaling of a streamed matrix, from one pass over its file (which
    also refuses non-finite values and constant columns)."""
    stats = column_stats(source, block_rows)
    check_streamed_values(stats, source.filename)
    p = source.shape[1]
    if not standardize:
        return Preprocessing("identity", np.zeros(p), np.ones(p))
    return Preprocessing(
        "zscore", stats.mean, stats.std, "z-scored on the training rows"
    )


def _on_device(
    Xa: np.ndarray,
    ya: np.ndarray,
    prep: Preprocessing,
    family: Family,
    n_outputs: int,
    device: torch.device,
    dtype: torch.dtype = torch.float32,
) -> _Data:
    """Scaled features and the target matrix as tensors of ``dtype`` on
    ``device``."""
    if dtype == torch.float32:
        scaled = prep.transform(Xa)
    else:  # not rounded through float32 first
        scaled = (np.asarray(Xa, dtype=np.float64) - prep.center) / prep.scale
    # Row-major: a column-major X (pandas' and numpy's column selections
    # give one) made X @ Bᵀ 5.7× slower on the CPU (25 vs 4.4 ms, P1).
    Xt = torch.as_tensor(np.ascontiguousarray(scaled), device=device).to(dtype)
    yt = torch.as_tensor(ya, device=device)
    return _Data(InMemoryDesign(Xt), family.targets(yt, n_outputs).to(dtype), ya)


def _lambda_grid(
    lmax: float, n_lambdas: int, eps: float, lambdas: np.ndarray | None
) -> np.ndarray:
    """The λ values of the path, decreasing: ``lambdas`` sorted, or ``n_lambdas``
    log-spaced from λ_max down to ``eps`` · λ_max."""
    if lambdas is None:
        if lmax == 0:
            raise ValueError(
                "Every feature is uncorrelated with the target (λ_max = 0): "
                "there is no path to fit"
            )
        return np.geomspace(lmax, eps * lmax, n_lambdas)
    grid = np.sort(np.asarray(lambdas, dtype=np.float64))[::-1]
    if grid.size == 0 or not np.all(grid > 0):
        raise ValueError("lambdas must be a non-empty array of positive values")
    return grid


def _fit_path(
    train: _Data,
    *,
    valid: _Data | None,
    family: Family,
    grid: np.ndarray,
    lmax: float,
    n_outputs: int,
    settings: PathSettings,
    progress: Progress | None,
) -> list[dict]:
    """Solve along ``grid``, warm-starting; one record of results per λ.

    At λ ≥ λ_max the solution is known exactly (no coefficient, the null
    intercept) and is not left to a float32 solver.
    """
    p = train.X.shape[1]
    B = torch.zeros(n_outputs, p, device=train.X.device, dtype=train.Y.dtype)
    b = family.null_intercept(train.Y).to(train.X.device)
    solve_at = path_solver(settings.solver)(train, family, settings, b, grid[0])
    records = []
    for i, lam in enumerate(grid):
        start = time.perf_counter()
        if lam >= lmax:
            primal = solvers.objective(
                family, train.X, train.Y, B, b, lam, settings.alpha
            )
            sol = solvers.Solution(B, b, 0, primal, 0.0, True, 0.0)
            rounds = 0
        else:
            sol, rounds = solve_at(lam, B, b)
        B, b = sol.B, sol.b
        if not sol.converged:
            warnings.warn(
                f"elastic_net_path ({settings.solver}): λ = {lam:.4g} (index {i}) "
                f"stopped at max_epochs={settings.max_epochs} before reaching "
                f"tol={settings.tol:g} (stop={settings.stop!r})",
                RuntimeWarning,
                stacklevel=3,
            )
        records.append(
            _record(family, train, valid, sol, rounds, time.perf_counter() - start)
        )
        if progress is not None:
            progress(i + 1, len(grid))
    return records


def _record(
    family: Family,
    train: _Data,
    valid: _Data | None,
    sol: solvers.Solution,
    rounds: int,
    seconds: float,
) -> dict:
    """The coefficients and diagnostics kept for one λ."""
    tr_loss, tr_acc = _metrics(family, train, sol.B, sol.b)
    va_loss, va_acc = (
        _metrics(family, valid, sol.B, sol.b) if valid else (np.nan, np.nan)
    )
    return dict(
        coef=sol.B.cpu().numpy().copy(),
        intercept=sol.b.cpu().numpy().copy(),
        objective=sol.primal,
        gap=sol.gap,
        kkt=sol.kkt,
        epochs=sol.epochs,
        rounds=rounds,
        converged=sol.converged,
        seconds=seconds,
        train_loss=tr_loss,
        train_accuracy=tr_acc,
        val_loss=va_loss,
        val_accuracy=va_acc,
    )


def fista_along_path(
    data: _Data,
    family: Family,
    settings: PathSettings,
    b: torch.Tensor,
    first_lambda: float,
) -> SolveAt:
    """FISTA at each λ: warm starts extrapolated in log λ, the step constant and
    the loss gradient carried over, strong-rule screening with a KKT check.

    ``b`` is the starting intercept (the null model's), ``first_lambda`` the
    first λ of the path.
    """
    L = solvers.lipschitz_estimate(data.X, family)
    G = solvers.loss_gradient(family, b.expand(len(data.X), -1), data.Y, data.X)
    scale = G.abs().max().item()  # the null model's gradient: λ_max · α
    prev_lam, prev = first_lambda, None

    def solve_at(lam: float, B: torch.Tensor, b: torch.Tensor):
        nonlocal L, G, prev_lam, prev
        warm = _extrapolate((B, b, prev_lam), prev, lam)
        prev = (B, b, prev_lam)
        sol, L, G, rounds = _working_set_fista(
            data, family, settings, lam, prev_lam, *warm, G, L, scale
        )
        prev_lam = lam
        return sol, rounds

    return solve_at


def saga_along_path(
    data: _Data,
    family: Family,
    settings: PathSettings,
    b: torch.Tensor,
    first_lambda: float,
) -> SolveAt:
    """glm_saga's minibatch SAGA at each λ, its table of residuals (started at
    the null model's, intercept ``b``) carried along the path."""
    X = data.X.X  # in memory: elastic_net_path refuses SAGA on a streamed X
    table = family.residual(b.expand(len(X), -1), data.Y).clone()
    generator = torch.Generator().manual_seed(settings.seed)

    def solve_at(lam: float, B: torch.Tensor, b: torch.Tensor):
        sol = solvers.solve_by_saga(
            X,
            data.Y,
            family,
            lam,
            settings.alpha,
            B,
            b,
            table,
            lr=settings.lr,
            batch_size=settings.batch_size,
            tol=settings.tol,
            max_epochs=settings.max_epochs,
            generator=generator,
        )
        return sol, 1

    return solve_at


#: Path solvers by name: ``start(data, family, settings, b, first_lambda)``
#: returns the :data:`SolveAt` of that path.
PATH_SOLVERS: dict[str, Callable[..., SolveAt]] = {
    "fista": fista_along_path,
    "saga": saga_along_path,
}
SOLVERS = tuple(PATH_SOLVERS)


def path_solver(name: str) -> Callable[..., SolveAt]:
    """The path solver called ``name``, or a ValueError naming the choices."""
    if name not in PATH_SOLVERS:
        raise ValueError(f"Unknown solver {name!r}; expected one of {SOLVERS}")
    return PATH_SOLVERS[name]


def _working_set_fista(
    data: _Data,
    fam: Family,
    settings: PathSettings,
    lam: float,
    prev_lam: float,
    B: torch.Tensor,
    b: torch.Tensor,
    G: torch.Tensor,
    L: float,
    scale: float,
):
    """Solve at ``lam`` on a working set grown until the full KKT conditions hold.

    ``G`` is the loss gradient (k × p) at the warm start, ``scale`` the null
    model's largest gradient (``stop="kkt"`` measures against it). Returns the
    solution (its gap and KKT violation those of the full problem, the
    violation relative to ``scale``), the step constant, the gradient at the
    solution and the number of working-set rounds.
    """
    p = data.X.shape[1]
    alpha, tol, max_epochs = settings.alpha, settings.tol, settings.max_epochs
    if settings.screening:
        nearness = G.abs().amax(dim=0)
        strong = nearness >= alpha * (2 * lam - prev_lam)
        work = _widened(strong | (B != 0).any(dim=0), nearness)
    else:
        work = torch.ones(p, dtype=torch.bool, device=B.device)
    epochs, rounds = 0, 0
    while True:
        rounds += 1
        idx = work.nonzero().squeeze(1)
        Xw = data.X.columns(idx)
        sol, L = solvers.solve_by_fista(
            Xw,
            data.Y,
            fam,
            lam,
            alpha,
            B[:, idx],
            b,
            lipschitz=max(L * 0.5, fam.curvature),
            tol=tol,
            max_iter=max(1, max_epochs - epochs),
            stop=settings.stop,
            scale=scale,
        )
        epochs += sol.epochs
        B = torch.zeros_like(B)
        B[:, idx] = sol.B
        b = sol.b
        Z, G = data.X.predict_and_gradient(Xw, sol.B, b, fam, data.Y)
        # The gap is computed under either stop: a diagnostic under "kkt".
        primal, gap = solvers.duality_gap(fam, Z, data.Y, B, G, lam, alpha)
        kkt = solvers.kkt_violation(
            G, B, fam.residual(Z, data.Y).mean(dim=0), lam, alpha, L
        )
        nearness = G.abs().amax(dim=0)
        violators = (nearness > lam * alpha) & ~work
        if settings.stop == "duality_gap":
            done = gap <= tol * abs(primal)
        elif settings.stop == "kkt":
            done = kkt <= tol * scale
        else:  # the objective's estimate is met when sol.converged
            done = sol.converged and kkt <= solvers.KKT_GUARD * scale
        if done or epochs >= max_epochs or (not violators.any() and not sol.converged):
            break
        if not violators.any():
            # KKT holds outside the working set but the gap is not yet small:
            # keep solving on the same set with what remains of the budget.
            continue
        work = _widened(work | violators, nearness)
    result = solvers.Solution(B, b, epochs, primal, gap, done, kkt / scale)
    return result, L, G, rounds


def _widened(work: torch.Tensor, nearness: torch.Tensor) -> torch.Tensor:
    """``work`` with the features of largest ``nearness`` outside it added, up
    to the next multiple of :data:`WIDTH_STEP` (at most every feature).

    A working set is any superset of the features the strong rule keeps; the
    added ones are those nearest to entering: ``nearness`` is each feature's
    largest loss gradient over the outputs (p,).
    """
    count = int(work.sum())
    width = min(len(work), -(-count // WIDTH_STEP) * WIDTH_STEP)
    if width == count:
        return work
    outside = nearness.masked_fill(work, -math.inf)
    wider = work.clone()
    wider[outside.topk(width - count).indices] = True
    return wider


def _extrapolate(current, previous, lam):
    """Warm start at ``lam``: the last two solutions extended linearly in log λ.

    ``current`` and ``previous`` are ``(B, b, λ)`` (``previous`` None at the
    start). A coefficient that is zero, or whose line would cross zero, starts
    at zero. Along a log-spaced path this halves the iterations of the early λ.
    """
    B, b, lam1 = current
    if previous is None or previous[2] <= lam1:
        return B, b
    Bp, bp, lam0 = previous
    ratio = np.log(lam1 / lam) / np.log(lam0 / lam1)
    B0 = B + ratio * (B - Bp)
    B0 = torch.where(B0 * B > 0, B0, torch.zeros_like(B0))
    return B0, b + ratio * (b - bp)
