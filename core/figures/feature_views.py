"""Images of image features' views (:mod:`core.sparse_layers.feature_views`).

One panel per feature: its top images with their activations, the same images
with LIME's superpixels tinted (green raises the feature, red lowers it, the
tint's strength ∝ |weight| / the image's largest |weight|), and the feature
visualisation. Pixels are enlarged without smoothing, so 28×28 digits stay
sharp.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from skimage.segmentation import find_boundaries

from core.sparse_layers.feature_views.superpixels import Superpixels
from core.sparse_layers.feature_views.views import FeatureView

#: Enlargement of each image's pixels.
ZOOM = 3
_GAP = 6
_CAPTION = 14
_GREEN = np.array([0.0, 0.75, 0.2])
_RED = np.array([0.9, 0.1, 0.1])


def _rgb(image: np.ndarray) -> np.ndarray:
    """uint8 or [0, 1] float, (H, W), (H, W, 1) or (H, W, 3) → float RGB in [0, 1]."""
    x = np.asarray(image, dtype=np.float64)
    if image.dtype == np.uint8:
        x = x / 255.0
    if x.ndim == 3 and x.shape[2] == 1:
        x = x[..., 0]
    if x.ndim == 2:
        x = np.repeat(x[..., None], 3, axis=2)
    return np.clip(x, 0.0, 1.0)


def superpixel_overlay(
    image: np.ndarray, segments: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """The image with each superpixel tinted by its LIME weight.

    Parameters
    ----------
    image : array of shape (H, W) or (H, W, 3), uint8
    segments : array of shape (H, W), int
    weights : array of shape (n_superpixels,)
        NaN entries (padding) are ignored.

    Returns
    -------
    array of shape (H, W, 3), float in [0, 1]
        Superpixels that raise the feature are green, those that lower it red,
        with opacity ∝ |weight| / max |weight|; boundaries are greyed.
    """
    rgb = _rgb(image)
    w = np.nan_to_num(np.asarray(weights, dtype=np.float64))
    top = np.abs(w).max()
    strength = (w / top if top > 0 else w)[segments]
    colour = np.where(strength[..., None] > 0, _GREEN, _RED)
    alpha = 0.6 * np.abs(strength)[..., None]
    out = (1 - alpha) * rgb + alpha * colour
    # Half-transparent boundaries: at 28×28 a solid one would hide the strokes.
    edges = find_boundaries(segments, mode="inner")
    out[edges] = 0.6 * out[edges] + 0.4 * 0.5
    return out


def _tile(picture: np.ndarray) -> Image.Image:
    img = Image.fromarray(np.rint(_rgb(picture) * 255).astype(np.uint8))
    return img.resize((img.width * ZOOM, img.height * ZOOM), Image.NEAREST)


def feature_view_image(view: FeatureView, title: str = "") -> Image.Image:
    """One feature's panel: top images, their superpixels, its visualisation.

    Parameters
    ----------
    view : FeatureView
    title : str
        Written above the panel (e.g. the feature's name and class weights).

    Returns
    -------
    PIL.Image.Image
        RGB.
    """
    font = ImageFont.load_default(size=11)
    tops = [_tile(im) for im in view.images]
    overlays = [
        _tile(superpixel_overlay(im, seg, w[~np.isnan(w)]))
        for im, seg, w in zip(view.images, view.segments, view.weights, strict=True)
    ]
    vis = _tile(view.visualisation)
    vis = vis.resize((vis.width * 2, vis.height * 2), Image.NEAREST)
    side = tops[0].width
    row = side + _CAPTION
    width = len(tops) * (side + _GAP) + _GAP + vis.width + _GAP
    height = _CAPTION + max(2 * row + _GAP, vis.height + _CAPTION) + _GAP
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    draw.text((_GAP, 1), title or f"feature {view.unit}", fill="black", font=font)
    for i, (top, overlay) in enumerate(zip(tops, overlays, strict=True)):
        x = _GAP + i * (side + _GAP)
        canvas.paste(top, (x, _CAPTION))
        draw.text(
            (x, _CAPTION + side), f"{view.activations[i]:.3g}", fill="black", font=font
        )
        canvas.paste(overlay, (x, _CAPTION + row + _GAP))
    x = _GAP + len(tops) * (side + _GAP) + _GAP
    canvas.paste(vis, (x, _CAPTION))
    draw.text(
        (x, _CAPTION + vis.height),
        f"visualisation: {view.vis_activation:.3g}",
        fill="black",
        font=font,
    )
    return canvas


def error_image(
    image: np.ndarray,
    own: Superpixels,
    view: FeatureView,
    title: str = "",
    n_images: int = 4,
) -> Image.Image:
    """A misclassified image traced to one feature (Wong et al. 2021, §4.3): the
    image, its own superpixels for the feature, then the feature's first
    ``n_images`` top images and its visualisation.

    Parameters
    ----------
    image : array of shape (H, W) or (H, W, 3), uint8
    own : Superpixels
        LIME's superpixels of ``image`` for the feature's activation.
    view : FeatureView
        The feature's view (its top images of a split and visualisation).
    title : str
    n_images : int

    Returns
    -------
    PIL.Image.Image
        RGB.
    """
    font = ImageFont.load_default(size=11)
    tiles = [
        (_tile(image), "this image"),
        (
            _tile(superpixel_overlay(image, own.segments, own.weights)),
            "its superpixels",
        ),
        *(
            (_tile(im), f"top {i + 1}: {a:.3g}")
            for i, (im, a) in enumerate(
                zip(view.images[:n_images], view.activations, strict=False)
            )
        ),
        (_tile(view.visualisation), "visualisation"),
    ]
    side = tiles[0][0].width
    # A wider gap after the image's own two tiles sets them apart.
    xs, x = [], _GAP
    for i in range(len(tiles)):
        xs.append(x)
        x += side + (3 * _GAP if i == 1 else _GAP)
    canvas = Image.new("RGB", (x, 2 * _CAPTION + side + _GAP), "white")
    draw = ImageDraw.Draw(canvas)
    draw.text((_GAP, 1), title, fill="black", font=font)
    for (tile, caption), x in zip(tiles, xs, strict=True):
        canvas.paste(tile, (x, _CAPTION))
        draw.text((x, _CAPTION + side), caption, fill="black", font=font)
    return canvas


def feature_thumbnail(view: FeatureView, n_images: int = 4) -> Image.Image:
    """A strip for a table cell: the first ``n_images`` top images, then the
    visualisation, each at twice its pixel size."""
    pictures = [*view.images[:n_images], view.visualisation]
    tiles = [Image.fromarray(np.rint(_rgb(p) * 255).astype(np.uint8)) for p in pictures]
    side = tiles[0].width * 2
    strip = Image.new("RGB", (len(tiles) * (side + 2) - 2, side), "white")
    for i, tile in enumerate(tiles):
        strip.paste(tile.resize((side, side), Image.NEAREST), (i * (side + 2), 0))
    return strip


def png_bytes(image: Image.Image) -> bytes:
    """``image`` encoded as PNG."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
