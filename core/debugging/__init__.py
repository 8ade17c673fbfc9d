"""Debugging text (and image) models through the deep features of their decision
layers (Wong, Santurkar & Mądry 2021, §4 and Appendices E–G).

- :mod:`~core.debugging.lime_clouds`: LIME word clouds of deep features
  (Algorithm 2), one set of perturbed sentences per sentence for every feature;
- :mod:`~core.debugging.layers`: a decision layer read off a stored path;
- :mod:`~core.debugging.counterfactuals`: word substitutions (Algorithm 3);
- :mod:`~core.debugging.bias`: appending an identity word, flip rates;
- :mod:`~core.debugging.errors`: misclassifications, γ scores, class confusion
  against shared features.
"""
