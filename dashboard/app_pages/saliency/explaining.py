"""Widgets built from the explanation methods' parameter schemas, and caches.

Each :class:`core.saliency.Param` becomes a widget keyed by method and
parameter name; the maps and curves are cached by model ID and weights
digest, example and parameters (the model itself is not hashed).
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from core.data import Dataset
from core.paths import data_home
from core.saliency import Param, get_method, lab
from core.saliency.evaluation import curves
from core.saliency.hessian_study import hessian_stats
from dashboard.common import downloads, loaders, state


def widget(dataset: str, method: str, p: Param, default: object, where=st) -> object:
    """One parameter's widget, keyed ``saliency.param[dataset/method/name]``.

    Per dataset, because defaults (the rate k) depend on the number of features.
    """
    key = state.for_setting(state.SALIENCY_PARAM, dataset, method, p.name)
    if p.kind == "bool":
        return where.checkbox(
            p.label, value=bool(default), key=key, help=p.help or None
        )
    if p.kind == "choice":
        return where.selectbox(
            p.label,
            p.choices,
            index=p.choices.index(default),
            key=key,
            help=p.help or None,
        )
    if p.kind == "int":
        return int(
            where.number_input(
                p.label,
                min_value=int(p.low) if p.low is not None else None,
                max_value=int(p.high) if p.high is not None else None,
                value=int(default),
                step=1,
                key=key,
                help=p.help or None,
            )
        )
    return float(
        where.number_input(
            p.label,
            min_value=float(p.low) if p.low is not None else None,
            max_value=float(p.high) if p.high is not None else None,
            value=float(default),
            format="%.3g" if p.log else "%.3f",
            key=key,
            help=p.help or None,
        )
    )


def parameters(dataset: str, methods: list[str], n_features: int) -> dict[str, dict]:
    """Each chosen method's parameters, from widgets in one expander per method."""
    out = {}
    cols = st.columns(min(4, max(1, len(methods))))
    for i, name in enumerate(methods):
        m = get_method(name)
        defaults = lab.defaults_for(name, n_features)
        with cols[i % len(cols)].expander(f"{name} settings", icon=":material/tune:"):
            st.caption(m.reference)
            out[name] = {
                p.name: widget(dataset, name, p, defaults[p.name]) for p in m.params
            }
            if "k" in out[name] and out[name]["k"] > n_features:
                loaders.fail(f"{name}: k must be at most {n_features} (the features)")
    return out


def _home() -> str:
    return str(data_home())


@st.cache_data(max_entries=64, show_spinner=False)
def _maps(_model, _x, model_id, sha256, dataset, home, indices, method, params, target):
    return lab.explain_all(_model, _x, {method: json.loads(params)}, target)


def maps(
    model, model_id: str, sha: str, ds: Dataset, x, indices, choices: dict, target
) -> lab.Maps:
    """Maps of every chosen method (cached per method and parameters)."""
    raw, said = {}, []
    bar = st.progress(0.0, text="Explaining…")
    for i, (name, params) in enumerate(choices.items()):
        bar.progress(i / len(choices), text=f"{name}…")
        got = loaders.guarded(
            _maps,
            model,
            x,
            model_id,
            sha,
            ds.name,
            _home(),
            tuple(indices),
            name,
            json.dumps(params, sort_keys=True),
            target,
        )
        raw.update(got.raw)
        said += got.warnings
    bar.empty()
    return lab.Maps(raw, said)


@st.cache_data(max_entries=16, show_spinner="Computing the curves…")
def _curves(_model, _x, _maps, model_id, sha256, dataset, home, indices, key, target):
    return curves(_model, _x, _maps, target)


def curve_table(
    model, model_id: str, sha: str, ds, x, indices, result: lab.Maps, choices, target
):
    """Deletion, insertion and rate-distortion curves of the maps (cached)."""
    key = json.dumps(choices, sort_keys=True)
    return loaders.guarded(
        _curves,
        model,
        x,
        result.raw,
        model_id,
        sha,
        ds.name,
        _home(),
        tuple(indices),
        key,
        target,
    )


@st.cache_data(max_entries=8, show_spinner="Hessian study…")
def _study(_model, _x, model_id, sha256, dataset, home, n) -> pd.DataFrame:
    return hessian_stats(_model, _x)


def study(model, model_id: str, sha: str, ds, n: int = 100) -> pd.DataFrame:
    """The Hessian study of the first ``n`` test examples (cached), tagged with
    the model; a model that is not piecewise linear is an error message."""
    x = loaders.guarded(lab.inputs, ds, "test", list(range(min(n, len(ds.test)))))
    stats = loaders.guarded(_study, model, x, model_id, sha, ds.name, _home(), len(x))
    return stats.assign(model=model_id)


def csv_buttons(*items: tuple[pd.DataFrame, str, str, str]) -> None:
    """CSV download buttons side by side: (table, file name, key suffix, label)."""
    for col, (df, file_name, what, label) in zip(
        st.columns(len(items)), items, strict=True
    ):
        with col:
            downloads.table(
                df,
                file_name,
                key=state.download_key(state.DOWNLOAD_SALIENCY, what),
                label=label,
            )
