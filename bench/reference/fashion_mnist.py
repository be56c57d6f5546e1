"""Loads Fashion-MNIST from the Debian package's gzipped IDX files (same bytes Flock reads)."""
import gzip
import struct

import numpy as np

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"


def _read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(directory=DEFAULT_DIR):
    """Returns (x_train, y_train, x_test, y_test); images as float32 in [0, 1], shape (N, 784)."""
    out = []
    for split in ("train", "t10k"):
        x = _read_idx(f"{directory}/{split}-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255.0
        y = _read_idx(f"{directory}/{split}-labels-idx1-ubyte.gz").astype(np.int64)
        out += [x, y]
    return tuple(out)
