"""Debugging text (and image) models through the deep features of their decision
layers (Wong, Santurkar & Mądry 2021, §4 and Appendices E–G).

- :mod:`.lime_clouds`: LIME word clouds of deep features (Algorithm 2), one set
  of perturbed sentences per sentence for every feature;
- :mod:`.decision_layer`: a decision layer read off a stored path;
- :mod:`.counterfactuals`: word substitutions (Algorithm 3);
- :mod:`.bias`: appending an identity word, flip rates;
- :mod:`.misclassifications`: misclassifications, γ scores, class confusion
  against shared features;
- :mod:`.workbench`: one stored layer with all of the above, for the CLI and
  the dashboard.

Their figures are in :mod:`core.figures.sparse_layers`.
"""
