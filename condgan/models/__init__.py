"""Generators and discriminators, built only from keras.layers / keras.ops.

Importing this package registers the custom layers, which `load_generator` needs before it
deserialises a saved model.
"""
from condgan.models.dcgan import CONDITIONINGS, build_discriminator, build_generator
from condgan.models.layers import ConditionalBatchNorm, ProjectionLogit

__all__ = ["CONDITIONINGS", "build_discriminator", "build_generator",
           "ConditionalBatchNorm", "ProjectionLogit"]
