"""Keras models the artifact measures: architectures, checkpoints, data sets, tasks."""
