"""LIME superpixels of an image, explaining one deep feature's activation.

LIME (Ribeiro et al. 2016) cuts the image into superpixels, switches random
subsets of them off (filled with ``hide_color``), and fits a weighted ridge
regression of the model's output on which superpixels were on. Here the output
is one feature's activation, not a class probability, as in Wong et al. (2021,
Appendix B): a superpixel's weight says how much it raises the feature.

Segmentation: SLIC (Achanta et al. 2012) on the image in CIELAB, asked for 25
superpixels of compactness 10 after a Gaussian pre-smoothing of σ = 0.5 pixel.
LIME's default, quickshift with kernel 4 and max distance 200, is tuned for
ImageNet-sized images: on the first 20 test images it cuts a 28×28 MNIST digit
into 1–3 segments (median 2) and a 32×32 CIFAR-10 image into 1–3 (median 1).
SLIC's ``n_segments`` sets the count directly: 16–19 superpixels on those
digits, 18–24 on those CIFAR-10 images, of ~40–50 pixels each, large enough to
hold a stroke or an object part and few enough for 1,000 samples to estimate.

References
----------
Ribeiro, Singh & Guestrin (2016), "'Why Should I Trust You?': Explaining the
Predictions of Any Classifier", KDD.
Achanta et al. (2012), "SLIC Superpixels Compared to State-of-the-Art
Superpixel Methods", IEEE TPAMI.
Wong, Santurkar & Mądry (2021), "Leveraging Sparse Linear Layers for
Debuggable Deep Networks", ICML.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import numpy as np
import torch
from lime.lime_image import LimeImageExplainer
from lime.wrappers.scikit_image import SegmentationAlgorithm

from core.sparse_layers.feature_views.source import ImageFeatures, check_images
from core.training.gradients import evaluating


@dataclass(frozen=True)
class SuperpixelSettings:
    """LIME's and SLIC's parameters; their values are part of the cache key.

    Attributes
    ----------
    n_segments : int
        SLIC's target number of superpixels.
    compactness : float
        SLIC's balance of colour and space (higher: squarer superpixels).
    sigma : float
        Width in pixels of SLIC's Gaussian pre-smoothing.
    n_samples : int
        Perturbed images per image (LIME's ``num_samples``).
    hide_color : float
        The value (in [0, 1]) a switched-off superpixel is filled with: 0 is
        black, the background of MNIST's digits.
    kernel_width : float
        Width of LIME's exponential kernel on the cosine distance (its default).
    seed : int
        LIME's random state: the same seed draws the same perturbations.
    """

    n_segments: int = 25
    compactness: float = 10.0
    sigma: float = 0.5
    n_samples: int = 1000
    hide_color: float = 0.0
    kernel_width: float = 0.25
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n_segments < 2 or self.n_samples < 2:
            raise ValueError(
                "n_segments and n_samples must be at least 2; got "
                f"{self.n_segments} and {self.n_samples}"
            )
        if not 0.0 <= self.hide_color <= 1.0:
            raise ValueError(f"hide_color must lie in [0, 1]; got {self.hide_color}")

    def explainer(self) -> LimeImageExplainer:
        """LIME's image explainer, seeded, every superpixel weighted."""
        return LimeImageExplainer(
            kernel_width=self.kernel_width,
            feature_selection="none",
            random_state=self.seed,
        )

    def segmentation(self) -> SegmentationAlgorithm:
        """SLIC with these settings, as LIME's segmentation function."""
        return SegmentationAlgorithm(
            "slic",
            n_segments=self.n_segments,
            compactness=self.compactness,
            sigma=self.sigma,
            start_label=0,
        )


@dataclass(frozen=True)
class Superpixels:
    """One image's superpixels and their LIME weights for one feature.

    Attributes
    ----------
    segments : array of shape (H, W), int
        The superpixel of each pixel, numbered from 0.
    weights : array of shape (n_superpixels,)
        LIME's ridge coefficient of each superpixel for the feature.
    intercept : float
    score : float
        R² of LIME's local fit on its perturbed samples.
    """

    segments: np.ndarray
    weights: np.ndarray
    intercept: float
    score: float


def lime_input(image: np.ndarray) -> np.ndarray:
    """The float image in [0, 1] that LIME perturbs: (H, W) or (H, W, 3)."""
    return image.astype(np.float64) / 255.0


def feature_fn(features: ImageFeatures, unit: int):
    """LIME's ``classifier_fn``: RGB images (n, H, W, 3) in [0, 1] → the unit's
    activation, shape (n, 1). LIME turns grey images into RGB; a grey model
    reads the first channel back (the three are equal)."""

    def predict(batch: np.ndarray) -> np.ndarray:
        if features.image_shape[2] == 1:
            batch = batch[..., 0]
        x = torch.as_tensor(batch.reshape(len(batch), -1), dtype=torch.float32)
        with evaluating(features.model), torch.no_grad():
            return features.forward(x)[:, [unit]].numpy().astype(np.float64)

    return predict


def superpixels(
    features: ImageFeatures,
    image: np.ndarray,
    unit: int,
    settings: SuperpixelSettings = SuperpixelSettings(),
) -> Superpixels:
    """LIME's superpixel weights of ``image`` for the activation of ``unit``.

    One ``LimeImageExplainer.explain_instance`` call with the settings'
    segmentation and seed, label 0 being the unit's activation.

    Parameters
    ----------
    features : ImageFeatures
    image : array of shape (H, W) or (H, W, 3), uint8
    unit : int
        The feature (a unit of ``features.module``).
    settings : SuperpixelSettings

    Returns
    -------
    Superpixels

    Raises
    ------
    ValueError
        The image does not have the features' shape, or the unit is out of range.
    """
    check_images(image[None], features.image_shape)
    features.check_units([unit])
    # lime 0.2 draws a tqdm bar on stderr for every image and has no switch
    # to turn it off; the CLI shows its own bar over features instead.
    with contextlib.redirect_stderr(io.StringIO()):
        explanation = settings.explainer().explain_instance(
            lime_input(image),
            feature_fn(features, unit),
            labels=(0,),
            top_labels=None,
            hide_color=settings.hide_color,
            num_samples=settings.n_samples,
            batch_size=256,
            segmentation_fn=settings.segmentation(),
            random_seed=settings.seed,
        )
    segments = np.asarray(explanation.segments)
    weights = np.zeros(int(segments.max()) + 1)
    for segment, weight in explanation.local_exp[0]:
        weights[segment] = weight
    return Superpixels(
        segments=segments,
        weights=weights,
        intercept=float(explanation.intercept[0]),
        score=float(explanation.score),
    )
