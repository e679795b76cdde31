"""Vietnamese text from old HR files: TCVN3 (ABC, ".VnTime" fonts), VNI-Windows and Windows-1258
detection and conversion.

Both legacy encodings are 8-bit and rely on special fonts: the bytes are Windows-1252 characters that
the font draws as Vietnamese letters. Such text reaches us in two shapes:
  * a raw 8-bit file (not valid UTF-8): the bytes themselves;
  * a "Unicode" file or XLSX cell that Excel produced from legacy text: the Windows-1252 characters of
    those bytes ("NguyÔn V¨n An" for TCVN3, "Nguyeãn Vaên An" for VNI).
Both are handled by mapping text -> Windows-1252 bytes -> Unicode through the encoding's table.

Which encoding (if any) a file uses is decided by `detect`, by scoring each candidate conversion on
the name columns: letters that cannot occur in a Vietnamese name, and words that are not Vietnamese
syllables. VNI mojibake is made mostly of letters that are valid on their own ("Nguyeãn"), so the
syllable check is what tells it apart.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# --- TCVN3 (TCVN 5712:1993 VN3, with the VN1 capitals in 0x80-0x9F): byte -> Unicode -------------
# Built from glibc's TCVN5712-1 iconv table (precomposed). Combining-mark bytes 0xB0-0xB4 are left out
# on purpose: TCVN3 fonts do not use them, so their presence means "not TCVN3".
_TCVN3_HIGH = (
    "ÀẢÃÁẠẶẬÈẺẼÉẸỆÌỈĨÍỊÒỎÕÓỌỘỜỞỠỚỢÙỦŨ"       # 0x80-0x9F
    "\xa0ĂÂÊÔƠƯĐăâêôơưđẰ"                      # 0xA0-0xAF
    "\0\0\0\0\0àảãáạẲằẳẵắẴ"                    # 0xB0-0xBF
    "ẮẦẨẪẤỀặầẩẫấậèỂẻẽ"                         # 0xC0-0xCF
    "éẹềểễếệìỉỄẾỒĩíịò"                         # 0xD0-0xDF
    "Ổỏõóọồổỗốộờởỡớợù"                         # 0xE0-0xEF
    "ỖủũúụừửữứựỳỷỹýỵỐ"                         # 0xF0-0xFF
)
assert len(_TCVN3_HIGH) == 128
TCVN3_TABLE = {0x80 + i: ch for i, ch in enumerate(_TCVN3_HIGH) if ch != "\0"}

# --- VNI-Windows: a base letter followed by a mark character --------------------------------------
_TONES = {"acute": "\u0301", "grave": "\u0300", "hook": "\u0309", "tilde": "\u0303", "dot": "\u0323"}
# mark characters (lower-case forms; the capitals' marks are their upper-case forms)
_VNI_TONE = {"acute": "ù", "grave": "ø", "hook": "û", "tilde": "õ", "dot": "ï"}
_VNI_CIRC_TONE = {"": "â", "acute": "á", "grave": "à", "hook": "å", "tilde": "ã", "dot": "ä"}
_VNI_BREVE_TONE = {"": "ê", "acute": "é", "grave": "è", "hook": "ú", "tilde": "ü", "dot": "ë"}
_VNI_I = {"acute": "í", "grave": "ì", "hook": "æ", "tilde": "ó", "dot": "ò"}


def _build_vni() -> dict[str, str]:
    """VNI sequence (as Windows-1252 text) -> Unicode letter, lower and upper case."""
    table: dict[str, str] = {}

    def add(seq: str, base: str, *marks: str) -> None:
        ch = unicodedata.normalize("NFC", base + "".join(marks))
        table[seq] = ch
        table[seq.upper()] = ch.upper()

    for base in "aeouy":
        for tone, mark in _VNI_TONE.items():
            if base == "y" and tone == "dot":
                continue
            add(base + mark, base, _TONES[tone])
    add("î", "y", _TONES["dot"])                   # ỵ is a single character in VNI
    for base in "aeo":                             # â ê ô and their tones
        for tone, mark in _VNI_CIRC_TONE.items():
            add(base + mark, base, "\u0302", *([_TONES[tone]] if tone else []))
    for tone, mark in _VNI_BREVE_TONE.items():     # ă
        add("a" + mark, "a", "\u0306", *([_TONES[tone]] if tone else []))
    for base, vni in (("o", "ô"), ("u", "ö")):     # ơ ư are single characters, tones follow
        add(vni, base, "\u031b")
        for tone, mark in _VNI_TONE.items():
            add(vni + mark, base, "\u031b", _TONES[tone])
    for tone, ch in _VNI_I.items():
        add(ch, "i", _TONES[tone])
    add("ñ", "đ")
    return table


VNI_TABLE = _build_vni()
_VNI_MAX = max(len(k) for k in VNI_TABLE)


class NotConvertible(ValueError):
    """The text holds a character the legacy encoding cannot have produced."""


def _legacy_bytes(text: str) -> bytes:
    """The bytes a legacy-font document held, from the Windows-1252 characters Windows showed for them."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1252")
        except UnicodeEncodeError:
            if ord(ch) < 256:
                out.append(ord(ch))  # bytes cp1252 leaves undefined (0x81, 0x8D...) pass as Latin-1
            else:
                raise NotConvertible(f"character {ch!r} (U+{ord(ch):04X}) cannot come from an 8-bit file") from None
    return bytes(out)


def from_tcvn3(text: str) -> str:
    out = []
    for b in _legacy_bytes(text):
        if b < 0x80:
            out.append(chr(b))
        elif b in TCVN3_TABLE:
            out.append(TCVN3_TABLE[b])
        else:
            raise NotConvertible(f"byte 0x{b:02X} is not a TCVN3 letter")
    return "".join(out)


def text_1252(data: bytes) -> str:
    """Raw 8-bit file bytes as the Windows-1252 text the converters work on (undefined bytes as Latin-1)."""
    return "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in data)


def from_vni(text: str) -> str:
    """VNI-Windows: longest match of base letter + mark character, left to right."""
    _legacy_bytes(text)  # refuses characters an 8-bit file cannot hold
    s = text
    out, i = [], 0
    while i < len(s):
        for n in range(_VNI_MAX, 0, -1):
            seq = s[i:i + n]
            if len(seq) == n and seq in VNI_TABLE:
                out.append(VNI_TABLE[seq])
                i += n
                break
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def from_cp1258(text: str) -> str:
    """Windows-1258, the Vietnamese Windows code page (tone marks as combining characters)."""
    return unicodedata.normalize("NFC", _legacy_bytes(text).decode("cp1258", errors="strict"))


CONVERTERS = {"TCVN3": from_tcvn3, "VNI": from_vni, "Windows-1258": from_cp1258}

# --- What a Vietnamese name may contain -----------------------------------------------------------
_VN_LOWER = ("aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệfghiìíỉĩịjklmnoòóỏõọôồốổỗộơờớởỡợpqrstu"
             "ùúủũụưừứửữựvwxyỳýỷỹỵz")
NAME_LETTERS = frozenset(_VN_LOWER + _VN_LOWER.upper())
NAME_PUNCT = frozenset(" -'")


def bad_name_chars(value: str) -> list[str]:
    """Characters that cannot appear in a Vietnamese (or minority-language, Latin-script) name."""
    return [ch for ch in value if ch not in NAME_LETTERS and ch not in NAME_PUNCT]


_INITIALS = "ngh|ng|gh|gi|kh|nh|ph|qu|th|tr|ch|[bcdđghklmnpqrstvx]"
_SYLLABLE = re.compile(rf"^({_INITIALS})?[aăâeêioôơuưy]{{1,3}}(ng|nh|ch|[cmnpt])?$")
_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def is_syllable(word: str) -> bool:
    """A plausible Vietnamese syllable: consonant cluster, 1-3 vowels, final, at most one tone mark."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = sum(1 for c in decomposed if c in _TONE_MARKS)
    bare = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))
    return tones <= 1 and bool(_SYLLABLE.match(bare))


@dataclass(frozen=True)
class Score:
    bad_chars: int      # name cells with a character no Vietnamese name has
    bad_words: int      # words that are not Vietnamese syllables

    def key(self) -> tuple[int, int]:
        return (self.bad_chars, self.bad_words)


def score(names: list[str]) -> Score:
    bad_chars = sum(1 for n in names if bad_name_chars(n))
    bad_words = sum(1 for n in names for w in re.split(r"[\s\-']+", n) if w and not is_syllable(w))
    return Score(bad_chars, bad_words)


@dataclass(frozen=True)
class Detection:
    encoding: str | None      # None: the text is already Unicode Vietnamese
    convertible: bool         # False: looks legacy but some cell does not convert cleanly
    detail: str


def detect(names: list[str]) -> Detection:
    """Decide whether name cells are Unicode or legacy TCVN3/VNI text shown as Windows-1252."""
    names = [unicodedata.normalize("NFC", n) for n in names if n]
    plain = score(names)
    if plain.bad_chars == 0 and plain.bad_words == 0:
        return Detection(None, True, "Unicode")
    best: tuple[str, Score, int] | None = None
    for enc, conv in CONVERTERS.items():
        converted, failures = [], 0
        for n in names:
            try:
                converted.append(conv(n))
            except NotConvertible:
                failures += 1
                converted.append(n)
        s = score(converted)
        cand = (enc, Score(s.bad_chars + failures, s.bad_words), failures)
        if best is None or cand[1].key() < best[1].key():
            best = cand
    assert best is not None
    enc, s, failures = best
    # Converting must explain most of the problems, or the file is Unicode with a few bad cells.
    improved = s.key() < plain.key() and (s.bad_chars + s.bad_words) * 2 <= (plain.bad_chars + plain.bad_words)
    if not improved:
        return Detection(None, True, "Unicode")
    if s.bad_chars:
        return Detection(enc, False, f"{enc} detected, but {s.bad_chars} name cell(s) do not convert cleanly")
    return Detection(enc, True, f"converted from {enc}")
