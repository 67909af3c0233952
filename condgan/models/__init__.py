"""Generators and discriminators, built only from keras.layers / keras.ops.

Importing this package registers the custom layers, which `load_generator` needs before it
deserialises a saved model.
"""
from condgan.models.dcgan import CONDITIONINGS, build_discriminator, build_generator
from condgan.models.layers import ConditionalBatchNorm, ProjectionLogit
from condgan.models.resnet_gan import build_resnet_discriminator, build_resnet_generator

# The GAN family's backbones: name -> (generator builder, discriminator builder).
ARCHITECTURES = {"dcgan": (build_generator, build_discriminator),
                 "resnet": (build_resnet_generator, build_resnet_discriminator)}

__all__ = ["ARCHITECTURES", "CONDITIONINGS", "build_discriminator", "build_generator",
           "build_resnet_discriminator", "build_resnet_generator", "ConditionalBatchNorm",
           "ProjectionLogit"]
