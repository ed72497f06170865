"""The paper's figures' captions, as data: figure number -> (caption, the paper's sentence it is taken from).

The report heads each regenerated figure with its caption ("Fig 27: The runtime memory footprint consumed by a
compressed model"), so a reader finds it in the paper. The paper's extracted text (ispa18-final) keeps no caption
lines, so each caption is the sentence of Sections II-IV that introduces the figure, cut to what it shows;
`source` is that sentence's words as the text has them (tests/host/report/test_captions.py finds each one there).
"""
import collections

Caption = collections.namedtuple("Caption", ["caption", "source"])

CAPTIONS = {
    5: Caption("The model size, inference time, energy consumption and accuracy after applying compression "
               "(motivation: VGG_16 and ResNet_50)",
               "Figure 5 compares the model size, inference time, energy consumption and accuracy after "
               "applying compression"),
    6: Caption("How different types of neural network operations contribute to the inference time across models",
               "Figure 6 quantifies how different type of neural network operations contribute to the inference "
               "time across models"),
    13: Caption("Data quantization: 6, 8 and 16 bits to represent a 32bit number",
                "We use 6, 8 and 16 bits to represent a 32bit number"),
    20: Caption("Pruning: removing some of the neurons of a network (5% threshold)",
                "by removing some of the neurons of a network, pruning can also reduce the model size"),
    24: Caption("The resulting performance after using different pruning thresholds",
                "we compare the resulting performance after using different pruning thresholds from 5% to 75%"),
    27: Caption("The runtime memory footprint consumed by a compressed model",
                "Figure 27 compares the runtime memory footprint consumed by a compressed model"),
    28: Caption("The dequantization process's share of the inference time",
                "As can be seen from Figure 28, this process could be expensive, contributing to 30% to 50% of the "
                "inference time"),
    32: Caption("The impact of quantization on deep learning models of different sizes (bubble size: the number "
                "of network parameters)",
                "The bubble charts in Figures 32 and 36 quantify the impact by applying quantization and pruning to "
                "the deep learning models of different sizes"),
    36: Caption("The impact of pruning on deep learning models of different sizes (bubble size: the number of "
                "network parameters)",
                "The bubble charts in Figures 32 and 36 quantify the impact by applying quantization and pruning to "
                "the deep learning models of different sizes"),
    41: Caption("First applying a 8bit data quantization and then pruning",
                "Figure 41 shows the results by first applying a 8bit data quantization and then pruning"),
}
