"""The embedded mini-zoo: small members of the paper's model families, trained here.

Each CNN is a scaled-down member of a family of Table I (VGG-like with large dense layers,
ResNet-like with bottleneck blocks, Inception-like with concatenated branches, MobileNet-like
with depthwise-separable convolutions) for 16x16 digit images; the translator is a small LSTM
encoder-decoder with dot-product attention. They exist so that every technique and metric runs
end to end on any machine: their numbers are not the paper's models' numbers.
"""

from typing import Any, Callable, Dict  # noqa: F401 (names of the type comments; typing has them on 3.6)

import numpy as np

from artifact.device.compat import keras, set_random_seed, tf
from artifact.device.models.data.bundled import IMAGE_SIZE, SEED

L = keras.layers


def _conv_bn_relu(x, filters, kernel, name, strides=1):
    x = L.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False, name=name)(x)
    x = L.BatchNormalization(name=name + "_bn")(x)
    return L.ReLU(name=name + "_relu")(x)


def mini_vgg(num_classes=10):
    inputs = L.Input((IMAGE_SIZE, IMAGE_SIZE, 1), name="image")
    x = inputs
    for block, filters in enumerate((32, 64), start=1):
        for i in (1, 2):
            x = L.Conv2D(filters, 3, padding="same", activation="relu",
                         name="conv{}_{}".format(block, i))(x)
        x = L.MaxPooling2D(name="pool{}".format(block))(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dense(256, activation="relu", name="fc6")(x)
    x = L.Dropout(0.3, name="drop6")(x)
    x = L.Dense(256, activation="relu", name="fc7")(x)
    outputs = L.Dense(num_classes, activation="softmax", name="fc8")(x)
    return keras.Model(inputs, outputs, name="mini_vgg")


def mini_resnet(num_classes=10):
    inputs = L.Input((IMAGE_SIZE, IMAGE_SIZE, 1), name="image")
    x = _conv_bn_relu(inputs, 32, 3, "conv1")
    for block, (width, out, stride) in enumerate(((16, 64, 1), (32, 128, 2)), start=1):
        for unit in (1, 2):
            name = "block{}_unit{}".format(block, unit)
            s = stride if unit == 1 else 1
            shortcut = x
            if unit == 1:
                shortcut = L.Conv2D(out, 1, strides=s, use_bias=False, name=name + "_shortcut")(x)
                shortcut = L.BatchNormalization(name=name + "_shortcut_bn")(shortcut)
            y = _conv_bn_relu(x, width, 1, name + "_conv1", strides=s)
            y = _conv_bn_relu(y, width, 3, name + "_conv2")
            y = L.Conv2D(out, 1, use_bias=False, name=name + "_conv3")(y)
            y = L.BatchNormalization(name=name + "_conv3_bn")(y)
            x = L.ReLU(name=name + "_out")(L.Add(name=name + "_add")([shortcut, y]))
    x = L.GlobalAveragePooling2D(name="pool")(x)
    outputs = L.Dense(num_classes, activation="softmax", name="logits")(x)
    return keras.Model(inputs, outputs, name="mini_resnet")


def mini_inception(num_classes=10):
    inputs = L.Input((IMAGE_SIZE, IMAGE_SIZE, 1), name="image")
    x = _conv_bn_relu(inputs, 32, 3, "conv1")
    for m, (b1, b3r, b3, bp) in enumerate(((16, 16, 32, 16), (32, 24, 48, 16)), start=1):
        name = "mixed{}".format(m)
        br1 = _conv_bn_relu(x, b1, 1, name + "_b1_1x1")
        br2 = _conv_bn_relu(x, b3r, 1, name + "_b2_1x1")
        br2 = _conv_bn_relu(br2, b3, 3, name + "_b2_3x3")
        br3 = L.MaxPooling2D(3, strides=1, padding="same", name=name + "_b3_pool")(x)
        br3 = _conv_bn_relu(br3, bp, 1, name + "_b3_1x1")
        x = L.Concatenate(name=name + "_concat")([br1, br2, br3])
        x = L.MaxPooling2D(name=name + "_reduce")(x)
    x = L.GlobalAveragePooling2D(name="pool")(x)
    outputs = L.Dense(num_classes, activation="softmax", name="logits")(x)
    return keras.Model(inputs, outputs, name="mini_inception")


def mini_mobilenet(num_classes=10):
    inputs = L.Input((IMAGE_SIZE, IMAGE_SIZE, 1), name="image")
    x = _conv_bn_relu(inputs, 32, 3, "conv0")
    for i, (filters, stride) in enumerate(((64, 1), (128, 2), (128, 1), (256, 2)), start=1):
        name = "sep{}".format(i)
        x = L.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, name=name + "_dw")(x)
        x = L.ReLU(6.0, name=name + "_dw_relu")(L.BatchNormalization(name=name + "_dw_bn")(x))
        x = L.Conv2D(filters, 1, use_bias=False, name=name + "_pw")(x)
        x = L.ReLU(6.0, name=name + "_pw_relu")(L.BatchNormalization(name=name + "_pw_bn")(x))
    x = L.GlobalAveragePooling2D(name="pool")(x)
    outputs = L.Dense(num_classes, activation="softmax", name="logits")(x)
    return keras.Model(inputs, outputs, name="mini_mobilenet")


def mini_nmt(src_vocab, tgt_vocab, src_len, tgt_len, embed=64, units=128):
    """LSTM encoder-decoder with dot-product (Luong) attention, trained with teacher forcing."""
    src = L.Input((src_len,), dtype="int32", name="src")
    dec_in = L.Input((tgt_len,), dtype="int32", name="dec_in")
    e = L.Embedding(src_vocab, embed, name="enc_embed")(src)
    enc_seq, h, c = L.LSTM(units, return_sequences=True, return_state=True, name="enc_lstm")(e)
    d = L.Embedding(tgt_vocab, embed, name="dec_embed")(dec_in)
    dec_seq = L.LSTM(units, return_sequences=True, name="dec_lstm")(d, initial_state=[h, c])
    context = L.Attention(name="attention")([dec_seq, enc_seq])
    x = L.Concatenate(name="attn_concat")([dec_seq, context])
    x = L.Dense(units, activation="tanh", name="attn_dense")(x)
    outputs = L.Dense(tgt_vocab, activation="softmax", name="logits")(x)
    return keras.Model([src, dec_in], outputs, name="mini_nmt")


CNN_BUILDERS = {
    "mini_vgg": mini_vgg,
    "mini_resnet": mini_resnet,
    "mini_inception": mini_inception,
    "mini_mobilenet": mini_mobilenet,
}  # type: Dict[str, Callable[..., Any]]
FINE_TUNE_EPOCHS = 3  # a pruned mini model's fine-tuning (artifact.device.train, through a model package)
EPOCHS = {"mini_vgg": 12, "mini_resnet": 12, "mini_inception": 20, "mini_mobilenet": 15, "mini_nmt": 30}


def seed_everything(seed=SEED):
    set_random_seed(seed)
    try:
        tf.config.experimental.enable_op_determinism()
    except AttributeError:  # pragma: no cover - TF < 2.8 (Jetson TX2): best effort
        pass


def compile_classifier(model, learning_rate=2e-3):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def compile_translator(model, learning_rate=5e-3):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy")
    return model


def fit_classifier(model, split, epochs, learning_rate=2e-3):
    compile_classifier(model, learning_rate)
    model.fit(split.x_train, split.y_train, batch_size=32, epochs=epochs, shuffle=True, verbose=0)
    return model


def fit_translator(model, corpus, epochs, learning_rate=5e-3):
    compile_translator(model, learning_rate)
    arrays = corpus.arrays(corpus.train_pairs)
    weights = (arrays["dec_out"] != 0).astype(np.float32)
    model.fit([arrays["src"], arrays["dec_in"]], arrays["dec_out"], sample_weight=weights,
              batch_size=64, epochs=epochs, shuffle=True, verbose=0)
    return model


def scaled_epochs(epochs, scale=1.0):
    # type: (int, float) -> int
    """Epochs x scale, at least one (scale 1.0: the mini-zoo's own schedule)."""
    return max(1, int(round(epochs * scale)))


def train_mini_model(name, split=None, corpus=None, epochs_scale=1.0):
    """Build and train one mini-zoo model, deterministically for the fixed seed."""
    seed_everything()
    epochs = scaled_epochs(EPOCHS[name], epochs_scale)
    if name == "mini_nmt":
        model = mini_nmt(len(corpus.src_vocab), len(corpus.tgt_vocab), corpus.src_len, corpus.tgt_len)
        return fit_translator(model, corpus, epochs)
    return fit_classifier(CNN_BUILDERS[name](), split, epochs)
