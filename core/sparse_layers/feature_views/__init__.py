"""Image feature views: what a deep feature of an image model responds to.

- :mod:`~core.sparse_layers.feature_views.source`: which features (a model, a
  module, the image shape), resolved from a sparse layer or a stored model;
- :mod:`~core.sparse_layers.feature_views.superpixels`: LIME superpixels
  explaining one feature's activation;
- :mod:`~core.sparse_layers.feature_views.visualisation`: regularised gradient
  ascent in a Fourier parametrisation (Olah et al. 2017);
- :mod:`~core.sparse_layers.feature_views.views`: top-k images, the view of a
  feature, cached on disk.
"""
