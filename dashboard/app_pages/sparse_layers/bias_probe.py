"""Bias probe: add one word to every sentence and count how often each layer's
correct predictions flip (Wong et al. 2021, §4.1, Table 4)."""

from __future__ import annotations

import streamlit as st

from core.figures.sparse_layers import bias_probe_figure
from core.sparse_layers.debugging.bias import (
    POSITIONS,
    bias_probe,
    identity_words_in_clouds,
)
from dashboard.app_pages.sparse_layers import debugging
from dashboard.common import downloads, loaders, state

st.title("Bias probe · one word added to every sentence")
st.caption(
    "The paper appended identity words that its toxicity model's word clouds "
    "showed as evidence against toxicity to toxic comments the model got right: "
    '"christianity" flipped 74.4 % of them with the sparse layer (62.2 % dense). '
    "Here: the identity words in the clouds of the sparse layer's features, then "
    "the flip rate of any word you choose, per class, for both layers, on the "
    "sentences both layers get right."
)

wb = debugging.pick_layer("bias", text_only=True, prefer="toxic-finetuned-toxic")
encoder, _ = loaders.guarded(wb.encoder)

st.subheader("Identity words in the sparse layer's clouds")
if loaders.guarded(wb.computed):
    # Every word, as `python -m core bias-probe` looks for identity words.
    _, clouds = debugging.pick_clouds(wb, "bias", min_count=1)
    found = identity_words_in_clouds(clouds, wb.layers["sparse"])
    if found.empty:
        st.caption("None of the identity terms is in these clouds.")
    else:
        st.dataframe(found, hide_index=True, key="bias.found")
        downloads.table(
            found,
            downloads.file_name(wb.name, "identity-words", suffix="csv"),
            key=state.download_key(state.DOWNLOAD_DEBUG, "bias.found"),
        )
    suggestions = list(dict.fromkeys(found.word))
else:
    st.caption(
        "No word clouds are computed for this dataset yet (Word clouds page, "
        f"or `python -m core word-clouds --layer {wb.name}`)."
    )
    suggestions = []

with st.form("bias.form"):
    c = st.columns(3)
    word = c[0].text_input(
        "Word to add",
        (suggestions or ["christianity"])[0],
        key=state.for_dataset(state.BIAS_WORD, wb.name),
    )
    position = c[1].selectbox("Where", POSITIONS, key=state.BIAS_POSITION)
    n = c[2].number_input("Test sentences", 10, 10_000, 300, key=state.BIAS_N)
    run = st.form_submit_button("Run the probe", key=state.BIAS_RUN)
if run:
    if not word.strip():
        st.error("Type a word to add.")
        st.stop()
    with st.spinner("Encoding the sentences with and without the word…"):
        texts = loaders.guarded(wb.texts, "test", int(n))
        labels = loaders.guarded(wb.labels, "test", int(n))
        table = loaders.guarded(
            bias_probe,
            texts,
            labels,
            [word.strip()],
            list(wb.layers.values()),
            encoder,
            position=position,
        )
    st.session_state[state.BIAS_RESULT] = (wb.name, word.strip(), position, table)

result = st.session_state.get(state.BIAS_RESULT)
if not result or result[0] != wb.name:
    st.info("Choose a word and run the probe.")
    st.stop()
_, word, position, table = result
st.subheader("Flip rates")
st.text(f"word added ({position}): {word}")
st.dataframe(table, hide_index=True, key="bias.table")
fig = bias_probe_figure(table)
st.plotly_chart(
    fig, key="bias.figure", config=downloads.png_config(wb.name, "bias-probe")
)
st.caption(downloads.PNG_HINT)
downloads.table(
    table,
    downloads.file_name(wb.name, "bias-probe", suffix="csv"),
    key=state.download_key(state.DOWNLOAD_DEBUG, "bias.table"),
)
downloads.figure(
    fig,
    downloads.file_name(wb.name, "bias-probe", suffix="html"),
    key=state.download_key(state.DOWNLOAD_DEBUG, "bias.figure"),
)
