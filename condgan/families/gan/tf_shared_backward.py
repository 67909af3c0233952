"""The GAN's fused step with one backward pass through D on the fakes serving both players
(TensorFlow; BCE loss, per-example D, no auxiliary classifier).

D's update needs the backward pass of the D loss through D on the fakes, and G's needs the G
loss's gradient at D's input.  Both losses reach D only through each fake's own logit x, and D
treats each image on its own (no batch norm), so the G loss's gradient at D's input is the D
loss's, scaled per image by -sigmoid(-x) / sigmoid(x).  One backward pass through D then serves
both players: 3 G- and 6 D-forwards' worth of arithmetic per step instead of 3 and 7 (the
classic loop does 4 and 8).  Equal to the two-pass step up to float rounding (tested); hinge
(zero D gradient for confident fakes) and the auxiliary classifier (a second output) keep the
two passes.
"""
from __future__ import annotations

import tensorflow as tf

from condgan.train.tf_steps import dense_gradients, replica_logs

# The shared backward pass carries each fake's D gradient sigmoid(x) and rescales it for G by
# 1/sigmoid(x); flooring the carried value keeps G's gradient finite for fakes D rejects with
# x < -30, and changes D's gradient by at most 1e-13 per such image, far below float32 rounding.
_SHARED_COTANGENT_FLOOR = 1e-13


def shared_backward_step(gan, data):
    d_grads, g_grads, logs = shared_backward_gradients(gan, *data)
    gan.d_optimizer.apply(dense_gradients(d_grads), gan.player_variables["d"])
    gan.g_optimizer.apply(dense_gradients(g_grads), gan.player_variables["g"])
    return replica_logs(logs)


def shared_backward_gradients(gan, real, labels):
    """(D gradients, G gradients, logs) of the fused step with the shared backward pass."""
    global_batch = gan.global_batch(tf.shape(real)[0])
    with tf.GradientTape(persistent=True) as tape:
        (real_logits, _), fake_in, (fake_logits, _) = gan.forward(
            real, labels, gan.d_optimizer.iterations, watch=tape.watch)
    logs = {"d_loss": gan.mean_over_batch(gan.d_loss_fn(real_logits, fake_logits), global_batch),
            "g_loss": gan.mean_over_batch(gan.g_loss_fn(fake_logits), global_batch)}
    scale = tf.cast(global_batch, real_logits.dtype)
    # d/dx of the BCE losses of `condgan.train.losses`: D's softplus(-x_real) + softplus(x_fake),
    # G's softplus(-x_fake), each averaged over the global batch.
    real_cotangent = -tf.sigmoid(-real_logits) / scale
    carried = tf.maximum(tf.sigmoid(fake_logits), _SHARED_COTANGENT_FLOOR)
    d_vars = gan.player_variables["d"]
    *d_grads, at_fake_in = tape.gradient([real_logits, fake_logits], d_vars + [fake_in],
                                         output_gradients=[real_cotangent, carried / scale])
    per_image = tf.reshape(-tf.sigmoid(-fake_logits) / carried, (-1, 1, 1, 1))
    g_grads = tape.gradient(fake_in, gan.player_variables["g"], output_gradients=per_image * at_fake_in)
    del tape
    return d_grads, g_grads, logs
