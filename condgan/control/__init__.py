"""Controllable generation: attribute directions in a generator's latent space.

InterFaceGAN-style (Shen et al., CVPR 2020): sample the generator, read an attribute off every
image with a classifier, fit a linear boundary per attribute value in the noise space, and use
its unit normal as the direction that turns the attribute on.  `find.py` finds and measures the
directions, `directions.py` stores them beside a model and turns `edits` into noise offsets,
`shapes_reader.py` reads one-object Shapes images (the attribute classifier).
"""
