"""safetensors_io.py: a small reader and writer for the safetensors format.

Why: the PyTorch reference (reference.py) must read and write exactly the files the C code
reads and writes, without the `safetensors` Python package (not in Debian). The format:
  8 bytes   little-endian uint64 N, the header length
  N bytes   JSON: {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [b, e]}}
            (offsets relative to the start of the data; the writer pads with spaces to 8 bytes)
  data      the tensors' bytes, little-endian, row-major
Supported dtypes: F32, F16, BF16 (read via a uint16 view shifted into float32 bits), F64,
I32, I64. Writing BF16 rounds float32 to nearest, ties to even (what torch does too).
"""
import json
import struct

import numpy as np
import torch

# dtype name -> (numpy dtype of the stored bytes, element size)
_NP = {"F32": np.float32, "F16": np.float16, "F64": np.float64,
       "I32": np.int32, "I64": np.int64, "BF16": np.uint16}
_TORCH = {torch.float32: "F32", torch.float16: "F16", torch.float64: "F64",
          torch.int32: "I32", torch.int64: "I64", torch.bfloat16: "BF16"}


def bf16_bits_to_f32(bits):
    """uint16 array of bfloat16 bits -> float32 array (exact: bf16 is the top half of f32)."""
    return (bits.astype(np.uint32) << 16).view(np.float32)


def f32_to_bf16_bits(x):
    """float32 array -> uint16 bfloat16 bits, rounding to nearest, ties to even; NaN stays NaN."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    lsb = (u >> 16) & 1                      # the bit that decides a tie
    rounded = ((u + 0x7FFF + lsb) >> 16).astype(np.uint16)
    nan = np.isnan(np.asarray(x, dtype=np.float32))
    quiet = ((u >> 16) | 0x40).astype(np.uint16)  # keep sign/payload, force a quiet NaN
    return np.where(nan, quiet, rounded).astype(np.uint16)


def read_header(path):
    """-> (header dict without __metadata__, metadata dict, byte offset of the data)."""
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) != 8:
            raise ValueError(f"{path}: shorter than the 8-byte header length")
        (n,) = struct.unpack("<Q", raw)
        text = f.read(n)
        if len(text) != n:
            raise ValueError(f"{path}: header truncated")
    header = json.loads(text.decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    return header, meta, 8 + n


def load(path, keep_dtype=False):
    """-> (dict name -> torch tensor, metadata). Floats become float32 unless keep_dtype."""
    header, meta, start = read_header(path)
    with open(path, "rb") as f:
        blob = f.read()
    data = memoryview(blob)[start:]
    out = {}
    for name, info in header.items():
        dt, shape = info["dtype"], list(info["shape"])
        b, e = info["data_offsets"]
        if dt not in _NP:
            raise ValueError(f"{path}: tensor {name}: unsupported dtype {dt}")
        count = int(np.prod(shape)) if shape else 1
        if e - b != count * np.dtype(_NP[dt]).itemsize or e > len(data):
            raise ValueError(f"{path}: tensor {name}: byte range {b}..{e} does not fit shape {shape}")
        arr = np.frombuffer(data[b:e], dtype=_NP[dt]).reshape(shape)
        if dt == "BF16":
            t = torch.from_numpy(bf16_bits_to_f32(arr).copy())
            t = t.to(torch.bfloat16) if keep_dtype else t
        else:
            t = torch.from_numpy(arr.copy())
            if not keep_dtype and dt in ("F16", "F64"):
                t = t.float()
        out[name] = t
    return out, meta


def save(path, tensors, metadata=None, dtype=None):
    """Write dict name -> tensor. dtype "F32"/"F16"/"BF16"/"F64" converts floats; None keeps them."""
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        dt = dtype if (dtype and t.is_floating_point()) else _TORCH[t.dtype]
        if dt == "BF16":
            raw = f32_to_bf16_bits(t.float().numpy()).tobytes()
        elif t.dtype == torch.bfloat16:  # bf16 tensor to another float type
            raw = t.float().numpy().astype(_NP[dt]).tobytes()
        else:
            with np.errstate(over="ignore"):  # F16 overflow gives inf, as torch's cast does
                raw = t.numpy().astype(_NP[dt]).tobytes()
        header[name] = {"dtype": dt, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)
