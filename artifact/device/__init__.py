"""The device side: what runs on the board (a Jetson, or any machine being measured).

    compat    Keras 2 on every supported TensorFlow (tf_keras on TF >= 2.16, tf.keras below)
    models    architectures, checkpoint readers, data sets, tasks (how to feed and score a model)
    compress  the paper's techniques (and LiteRT): a model and a setting in, a deployable file out
    measure   timing, power, memory, op profile, accuracy, board state
    run       the parent that supervises workers, the worker that measures cells, the meters

Importable on Python 3.6 + TF 2.7 (the TX2's JetPack 4.6): it imports `artifact.core` and itself,
never `artifact.host` (tests/behaviour/test_architecture.py checks it, vermin checks its whole import closure).
"""
