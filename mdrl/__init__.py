"""mdrl: multi-domain RLVR studies on veRL."""

__version__ = "0.1.0"
