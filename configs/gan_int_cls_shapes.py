"""GAN-INT-CLS (Reed et al. 2016) on Shapes at 64 px: the text-to-image baseline before AttnGAN,
a DCGAN conditioned on a frozen sentence embedding, with the matching-aware discriminator (CLS)
and interpolated embeddings (INT).

Command (after `python -m condgan make-shapes -o data/shapes` and the DAMSM pretraining
`python -m condgan train --config configs/damsm_shapes.py`; the config's data is data/shapes
and its sentence encoder runs/damsm_shapes, `--data` and `--set text_encoder=FOLDER` override,
FOLDER a DAMSM run or a local sentence-encoder folder: sentence_encoder.keras + vocabulary.json):
    python -m condgan train --config configs/gan_int_cls_shapes.py
    python -m condgan export runs/gan_int_cls_shapes --name gan_int_cls_shapes
    python -m condgan sample models/gan_int_cls_shapes \\
        --caption "a large blue circle at the top on a black background" -n 8 -o out.png
    python -m condgan evaluate models/gan_int_cls_shapes --data data/shapes
Ablations: `--set cls=false` (GAN-INT), `--set interpolation=false` (GAN-CLS), both (GAN).

The paper's settings (z 100, text projection 128, ngf = ndf = 64, Adam 2e-4 / 0.5, batch 64)
except the epochs, cut to a CPU-sized budget, plus instance noise on D's inputs.

Measured (BENCHMARKS.md, "Text-to-image baselines"): it does not learn to follow Shapes captions.
With notebook 05's DAMSM as text encoder, 10 epochs (180k images) take 38 minutes on the 2-core
CPU; without instance noise G drew one noise texture for every caption after one epoch; with it
(annealed, or constant 0.2) the backgrounds and cells come out right but the colours do not
(17.7 %), R-precision stays near chance (0.07) and each caption gets one picture whatever the
noise.  Kept as the paper's baseline, not shipped: configs/gan_int_cls_shapes_sn.py, the same
networks trained with the Shapes GAN's recipe, is the one that follows captions (shipped as
models/gan_int_cls_shapes).
"""
from condgan.families.intcls import IntClsConfig


def get_config() -> IntClsConfig:
    return IntClsConfig(
        name="gan_int_cls_shapes",
        data="data/shapes",               # python -m condgan make-shapes -o data/shapes
        text_encoder="runs/damsm_shapes",  # a DAMSM run, or a sentence-encoder folder
        image_size=64,                    # 32 also works (--set image_size=32)
        latent_dim=100,
        projected_dim=128,
        g_channels=64,
        d_channels=64,
        cls=True,
        interpolation=True,
        interpolation_beta=0.5,
        # Without instance noise D tells Shapes' flat colours from G's images at once and G
        # draws the same picture for every noise and caption; 0.3, faded out over the run.
        d_input_noise=0.3,
        d_input_noise_steps=2810,         # 10 epochs of 281 steps
        batch_size=64,
        epochs=10,
        g_lr=2e-4,
        d_lr=2e-4,
        beta1=0.5,
        checkpoint_every_steps=500,
        sample_captions=8,
        samples_per_caption=6,
        max_minutes=0.0,                  # the 10 epochs whatever the time
    )
