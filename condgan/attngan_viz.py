"""Word attention maps of an AttnGAN caption as one picture (AttnGAN `build_super_images`, ours).

`attention_grid(result)` takes `AttnGANModel.attention(caption, seed)` and draws, per attentional
stage, the stage's output image followed by one panel per word: the image darkened where the
word's attention is low (each map upsampled from the stage's input sub-regions with nearest
neighbours and scaled to its own maximum), the word written under it.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw


def _panel(image: np.ndarray, attn: np.ndarray | None, word: str, label_h: int) -> np.ndarray:
    size = image.shape[0]
    shown = image.astype(np.float32)
    if attn is not None:
        factor = size // attn.shape[0]
        up = np.kron(attn, np.ones((factor, factor)))[..., None]
        up = up / max(float(up.max()), 1e-8)
        shown = shown * (0.15 + 0.85 * up)
    canvas = Image.new("RGB", (size, size + label_h), (255, 255, 255))
    canvas.paste(Image.fromarray(np.clip(shown, 0, 255).astype(np.uint8)), (0, 0))
    ImageDraw.Draw(canvas).text((2, size + 1), word[:10], fill=(0, 0, 0))
    return np.asarray(canvas)


def attention_grid(result: dict, scale: int = 2, label_h: int = 12) -> np.ndarray:
    """uint8 picture: one row per attentional stage (image, then one panel per word)."""
    rows = []
    images, maps, words = result["images"], result["maps"], result["words"]
    for stage, attn in zip(result["stages"], maps):
        image = np.kron(images[stage - 1], np.ones((scale, scale, 1), np.uint8))
        panels = [_panel(image, None, f"stage {stage}", label_h)]
        panels += [_panel(image, attn[k], w, label_h) for k, w in enumerate(words)]
        rows.append(np.concatenate([np.pad(p, ((2, 2), (2, 2), (0, 0)), constant_values=255)
                                    for p in panels], axis=1))
    if not rows:  # one stage: no word attention; show the image alone
        image = np.kron(images[-1], np.ones((scale, scale, 1), np.uint8))
        return _panel(image, None, "no attention", label_h)
    width = max(r.shape[1] for r in rows)
    return np.concatenate([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255)
                           for r in rows], axis=0)
