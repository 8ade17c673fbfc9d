"""Counterfactuals: swap one word for its opposite in a feature's word cloud
and see whether the prediction flips (Wong et al. 2021, Algorithm 3)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.sparse_layers.debugging.counterfactuals import (
    PAPER_FLIP_RATES,
    all_substitutions,
    evaluate_counterfactuals,
    first_with_substitution,
    flip_rate_table,
)
from dashboard.app_pages.sparse_layers import debugging
from dashboard.common import downloads, links, loaders, markdown, report, state

st.title("Counterfactuals · word substitutions")
st.caption(
    "For a sentence predicted y, a word in a feature's positive cloud with W[y, "
    "feature] > 0 (or in its negative cloud with W[y, feature] < 0) is replaced by "
    "a word of that feature's opposite cloud (Algorithm 3). The paper flips the "
    f"sparse layer's SST predictions {PAPER_FLIP_RATES['sparse']:.1%} of the time, "
    f"the dense layer's {PAPER_FLIP_RATES['dense']:.1%}."
)

wb = debugging.pick_layer("cf", text_only=True, prefer="sst2-finetuned-sst2")
# Algorithm 3 draws its candidates from every word of the clouds, as the
# paper does and as `python -m core counterfactuals` (the README's rates) does.
corpus, clouds = debugging.pick_clouds(wb, "cf", min_count=1)
rep = report.page_report(f"Counterfactuals · {wb.name}", "counterfactuals", wb.name)
encoder, _ = loaders.guarded(wb.encoder)
links.bind(state.Q_DECISION, state.CF_LAYER, ["sparse", "dense"])
which = st.radio(
    "Decision layer", ["sparse", "dense"], horizontal=True, key=state.CF_LAYER
)
layer = wb.layers[which]


@st.cache_data(max_entries=8, show_spinner="Finding a sentence with a counterfactual…")
def first_counterfactual(
    stamp: str, which: str, corpus: str, min_count: int, _texts: list[str]
):
    # Keyed like ``substitutions`` below: the layer's digest (which also fixes
    # the test sentences), not its name.
    return first_with_substitution(_texts, layer, clouds, encoder)


source = st.radio(
    "Sentence",
    ["pick a test sentence", "type one"],
    horizontal=True,
    key=state.CF_SOURCE,
)
if source == "type one":
    text = st.text_input(
        "Your sentence", "a marvel like none you 've seen .", key=state.CF_TEXT
    )
else:
    tests = loaders.guarded(wb.texts, "test", 300)
    pick_key = state.for_dataset(state.CF_PICK, wb.name)
    links.bind(state.Q_EXAMPLE, pick_key, range(len(tests)))
    # A newcomer should first see a counterfactual, not "no counterfactual".
    first = loaders.guarded(
        first_counterfactual,
        debugging.layer_stamp(wb),
        which,
        f"{corpus.settings}{hash(corpus.texts)}",
        clouds.min_count,
        tests,
    )
    if first is None:
        st.info(
            f"None of the first {len(tests)} test sentences has a counterfactual "
            f"in the {which} layer with these word clouds: type a sentence, or "
            "compute word clouds from more sentences."
        )
    st.session_state.setdefault(pick_key, first or 0)
    text = tests[
        st.selectbox(
            "Test sentence",
            range(len(tests)),
            format_func=lambda i: tests[i][:120],
            key=pick_key,
        )
    ]
if not text.strip():
    st.info("Type a sentence to see its counterfactuals.")
    st.stop()
st.text(text)


@st.cache_data(max_entries=32, show_spinner="Scoring every substitution…")
def substitutions(stamp: str, which: str, text: str, corpus: str, min_count: int):
    # ``stamp`` (the layer's content digest), not its name: the λ sweep page
    # may have recomputed the layer under the same name.
    return all_substitutions(text, layer, clouds, encoder)


y, proba, table = loaders.guarded(
    substitutions,
    debugging.layer_stamp(wb),
    which,
    text,
    f"{corpus.settings}{hash(corpus.texts)}",
    clouds.min_count,
)
c = st.columns(3)
c[0].metric("prediction", layer.class_names[y])
c[1].metric("score (probability)", f"{proba[y]:.3f}")
c[2].metric("substitutions that flip it", int(table.flipped.sum()) if len(table) else 0)
rep.settings.update(
    {
        "dataset": wb.stored.dataset,
        "layer": wb.name,
        "decision layer": which,
        "sentence": text,
        "prediction": f"{layer.class_names[y]} (p = {proba[y]:.3f})",
        "leave out words seen fewer times than": clouds.min_count,
    }
)
if table.empty:
    st.warning(
        f"No word of this sentence is in a cloud of a feature that supports "
        f"'{markdown.escape(layer.class_names[y])}' in the {which} layer: no "
        "counterfactual."
    )
else:
    st.subheader("Every candidate substitution")
    st.dataframe(table, hide_index=True, key="cf.table")
    rep.table(table, "Every candidate substitution.")
    downloads.table(
        table,
        downloads.file_name(wb.name, which, "substitutions", suffix="csv"),
        key=state.download_key(state.DOWNLOAD_DEBUG, "cf.subs"),
    )

st.subheader("Features it activates")
z = layer.standardized(loaders.guarded(encoder, [text]))[0]
contrib = layer.weight[y] * z
used = layer.used[np.argsort(-np.abs(contrib[layer.used]), kind="stable")][:8]
features = pd.DataFrame(
    {
        "feature": used,
        "activation (std)": z[used],
        f"W[{layer.class_names[y]}]": layer.weight[y, used],
        "contribution": contrib[used],
    }
)
st.dataframe(features, hide_index=True, key="cf.features")
rep.table(features, "The features the sentence activates, by |contribution|.")
downloads.table(
    features,
    downloads.file_name(wb.name, which, "features", suffix="csv"),
    key=state.download_key(state.DOWNLOAD_DEBUG, "cf.features"),
)
for f in used[:3]:
    with st.expander(f"feature {f} · contribution {contrib[f]:+.3f}"):
        debugging.show_clouds(clouds, int(f), wb.name, f"cf.cloud.{f}", report=rep)

st.subheader("Batch evaluation (test split, both layers)")
with st.form("cf.batch_form"):
    c = st.columns(2)
    n = c[0].number_input("Sentences", 1, 5000, 50, key=state.CF_BATCH_N)
    seed = c[1].number_input("Seed", 0, 10_000, 0, key=state.CF_BATCH_SEED)
    run = st.form_submit_button("Evaluate", key=state.CF_BATCH_RUN)
rep.commands.append(
    (
        report.command(
            "counterfactuals",
            "--layer",
            wb.name,
            "--split",
            "test",
            "--limit",
            int(n),
            *debugging.clouds_options(wb, "cf", clouds),
            "--out",
            "counterfactuals.json",
        ),
        f"The batch evaluation over the first {int(n)} test sentences, both layers "
        "(the command seeds the substitutions with --seed, the clouds' seed).",
    )
)
report.add_layer(rep, wb.stored)
if run:
    bar = st.progress(0.0, text="encoding…")
    texts = loaders.guarded(wb.texts, "test", int(n))
    result = loaders.guarded(
        evaluate_counterfactuals,
        texts,
        [wb.layers["sparse"], wb.layers["dense"]],
        clouds,
        encoder,
        seed=int(seed),
        progress=lambda d, t: bar.progress(d / t, text=f"step {d} of {t}"),
    )
    st.session_state[state.CF_BATCH] = (wb.name, result)
batch = st.session_state.get(state.CF_BATCH)
if batch and batch[0] == wb.name:
    rows, summary = batch[1]
    overview = flip_rate_table(summary, ["sparse", "dense"])
    st.dataframe(overview, hide_index=True, key="cf.overview")
    st.caption(
        "Over all sentences, one without a candidate counts as no flip; the "
        "paper's rate is over the sentences with a candidate in both layers. The "
        "sparse layer offers fewer candidates, so the two can rank the layers "
        "differently."
    )
    st.dataframe(rows, hide_index=True, key="cf.rows")
    rep.table(overview, "Batch evaluation: flip rates of both layers.")
    rep.table(rows, "Batch evaluation: per sentence.")
    downloads.table(
        overview,
        downloads.file_name(wb.name, "cf-summary", suffix="csv"),
        key=state.download_key(state.DOWNLOAD_DEBUG, "cf.summary"),
    )
    downloads.table(
        rows,
        downloads.file_name(wb.name, "cf-sentences", suffix="csv"),
        key=state.download_key(state.DOWNLOAD_DEBUG, "cf.rows"),
        label="Per sentence (CSV)",
    )
