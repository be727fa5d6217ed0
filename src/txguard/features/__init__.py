"""Behavioural features, defined once and computed online (one event) or in batch (a frame).

Both paths give the same numbers (a parity test proves it), and label-based features only
see labels once they are known, so what a model learns in training is what it sees in
serving.
"""
