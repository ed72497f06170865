"""Model definitions: the mini-zoo and the paper's Table I architectures (random weights)."""
