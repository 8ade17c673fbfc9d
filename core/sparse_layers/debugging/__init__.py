"""Debugging text (and image) models through the deep features of their decision
layers (Wong, Santurkar & Mądry 2021, §4 and Appendices E–G).

- :mod:`~core.sparse_layers.debugging.lime_clouds`: LIME word clouds of deep features
  (Algorithm 2), one set of perturbed sentences per sentence for every feature;
- :mod:`~core.sparse_layers.debugging.decision_layer`: a decision layer read off a stored path;
- :mod:`~core.sparse_layers.debugging.counterfactuals`: word substitutions (Algorithm 3);
- :mod:`~core.sparse_layers.debugging.bias`: appending an identity word, flip rates;
- :mod:`~core.sparse_layers.debugging.misclassifications`: misclassifications, γ scores, class confusion
  against shared features.
"""
