"""Readers of released checkpoints (TF-Slim, tensorflow/nmt) into the Keras models."""
