"""What a delimited text file looks like, sniffed from its first bytes: its encoding,
separator (``,`` ``;`` tab ``|`` or runs of spaces), first record and missing-value markers.

Example:
    >>> from tabnet_cli.io.read_options import ReadOptions
    >>> form = sniff_format("f.csv", b"a;b\\n1,5;2\\n", ReadOptions())
    >>> form.sep, form.encoding
    (';', 'utf-8-sig')
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING

from tabnet_cli.errors import DataError, short_list

if TYPE_CHECKING:
    from tabnet_cli.io.read_options import ReadOptions

# Markers read as missing on top of pandas' defaults: UCI files use a lone "?".
EXTRA_NA_VALUES = ("?",)
# pandas' default missing-value markers, given to pyarrow too so both readers agree.
PANDAS_NA_VALUES = (
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
)  # fmt: skip
SEPARATORS = (",", ";", "\t", "|")
WHITESPACE = r"\s+"  # runs of spaces and tabs (UCI .data files); pandas reads it natively
SNIFF_BYTES = 64 * 1024
_SAMPLE_RECORDS = 20
_WORD = re.compile(r'"[^"]*"|\S+')  # a field of a whitespace-separated line


def na_markers(na_values: tuple[str, ...], default_na: bool) -> list[str]:
    """Cell texts read as missing: blanks and ``na_values``, plus pandas' defaults and a
    lone ``?`` unless ``default_na`` is off. Cells are compared once stripped.

    Example:
        >>> na_markers((" n.a.",), default_na=False)
        ['', ' n.a.', 'n.a.']
    """
    base = PANDAS_NA_VALUES + EXTRA_NA_VALUES if default_na else ("",)
    return sorted(set(base) | set(na_values) | {value.strip() for value in na_values})


def python_encoding(head: bytes, encoding: str, name: str = "the file") -> str:
    """The codec to decode with: UTF-8 with or without a BOM, and a UTF-16 BOM wins over the
    UTF-8 default (Excel's "Unicode text" export). UTF-16 or UTF-32 without a BOM (which
    Python's decoders need) is little- or big-endian as the zero bytes of ASCII text say.

    Example:
        >>> python_encoding(b"\\xff\\xfea\\x00", "utf-8"), python_encoding(b"a", "latin-1")
        ('utf-16', 'iso8859-1')
        >>> python_encoding("a,b".encode("utf-16-be"), "utf-16")
        'utf-16-be'
    """
    codec = codecs.lookup(encoding).name
    if codec in ("utf-16", "utf-32"):
        return _byte_order(head, codec, name)
    if codec != "utf-8":
        return codec
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8-sig"


def _byte_order(head: bytes, codec: str, name: str) -> str:
    """``codec`` when ``head`` starts with its BOM, else its -le or -be variant when the
    zero bytes of ASCII characters tell which; else a DataError."""
    width = 2 if codec == "utf-16" else 4
    boms = {2: (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)}
    if head.startswith(boms.get(width, (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE))):
        return codec
    units = [head[i : i + width] for i in range(0, len(head) - width + 1, width)]
    little = sum(unit[0] != 0 and not any(unit[1:]) for unit in units)
    big = sum(unit[-1] != 0 and not any(unit[:-1]) for unit in units)
    if units and max(little, big) > 0.9 * len(units):
        return f"{codec}-{'le' if little > big else 'be'}"
    raise DataError(
        f"{name} is not {codec.upper()} text (it has no byte-order mark and does not look "
        f"like it); give the file's encoding with --encoding, e.g. utf-8, or {codec}-le "
        f"or {codec}-be for {codec.upper()} without a byte-order mark"
    )


def encoding_advice(name: str, encoding: str) -> str:
    """The one-line error for text that does not decode."""
    if encoding.startswith("utf-8"):
        return (
            f"{name} is not UTF-8 text; add --encoding latin-1 (or the file's encoding, "
            "e.g. cp1252) or re-save it as UTF-8"
        )
    return f"{name} is not {encoding} text; give the file's encoding with --encoding"


def decode_head(name: str, head: bytes, encoding: str) -> str:
    """The sniffed bytes as text, ending at the last complete line when the file is longer.

    Example:
        >>> decode_head("f.csv", "a,b\\n1,é".encode()[:-1], "utf-8-sig")
        'a,b\\n1,'
    """
    try:  # incremental: a character cut at the end of the sample is not an error
        text = codecs.getincrementaldecoder(encoding)().decode(head, final=False)
    except ValueError:  # UnicodeDecodeError, or any codec's UnicodeError (punycode's)
        raise DataError(encoding_advice(name, encoding)) from None
    if "\x00" in text:
        raise DataError(
            f"{name} is not a text file; give a CSV or .parquet file "
            "(or --encoding utf-16 if it is UTF-16 text)"
        )
    if not text.strip():
        raise DataError(f"{name} is empty; give a CSV with a header row and data rows")
    if len(head) >= SNIFF_BYTES and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # the last line may be cut: sample whole ones
    return text


def _field_counts(text: str, sep: str) -> list[int]:
    if sep == WHITESPACE:
        lines = (line for line in text.splitlines() if line.strip())
        return [len(_WORD.findall(line)) for line in islice(lines, _SAMPLE_RECORDS)]
    try:  # csv.reader follows quotes, so separators inside quoted values do not count
        records = csv.reader(io.StringIO(text), delimiter=sep, skipinitialspace=True)
        return [len(record) for record in islice(filter(None, records), _SAMPLE_RECORDS)]
    except csv.Error:
        return []


def sniff_separator(text: str, decimal: str = ".") -> str:
    """The separator that splits every sampled line into the same number (2 or more) of
    fields. ``;``, tab and ``|`` win over ``,`` (decimal commas split consistently too in
    headerless files); aligned runs of spaces win over a tab that splits fewer fields
    (UCI's auto-mpg has a tab before the quoted name only).

    Example:
        >>> sniff_separator("a;b;c\\n1,5;2;3\\n"), sniff_separator('1  2\\t"a b"\\n3  4\\t"c"\\n')
        (';', '\\\\s+')
    """
    consistent = {}
    for sep in (*SEPARATORS, WHITESPACE):
        counts = _field_counts(text, sep)
        if counts and counts[0] >= 2 and len(set(counts)) == 1:
            consistent[sep] = counts[0]
    spaced = consistent.pop(WHITESPACE, 0)
    if decimal in consistent and (len(consistent) > 1 or spaced):
        del consistent[decimal]  # decimal commas split lines too; a lone "," stays to be refused
    rare = [sep for sep in (";", "\t", "|") if sep in consistent]
    if rare:
        best = max(rare, key=lambda sep: consistent[sep])
        # aligned columns (runs of spaces), not multi-word values in a tab-separated file
        aligned = spaced > consistent[best] and "  " in text
        return WHITESPACE if best == "\t" and aligned else best
    if "," in consistent:
        return ","
    return WHITESPACE if spaced else _most_common_separator(text, decimal)


def _most_common_separator(text: str, decimal: str) -> str:
    """For ragged files: the separator that splits the header most (pandas then names the
    bad line), or none at all for a single column."""
    first_line = text.splitlines()[0]
    counts = {sep: first_line.count(sep) for sep in SEPARATORS if sep != decimal}
    best = max(counts, key=lambda sep: counts[sep])
    if counts[best] == 0:
        return "," if decimal != "," else ";"
    try:  # the sniffer resolves quoted headers; fall back to counting when it cannot
        sniffed = csv.Sniffer().sniff(text, delimiters="".join(counts))
        if sniffed.delimiter in counts and first_line.count(sniffed.delimiter) > 0:
            return sniffed.delimiter
    except csv.Error:
        pass
    return best


def first_record(text: str, sep: str) -> list[str]:
    """The fields of the first record (the header, or the first data row).

    Example:
        >>> first_record('"a, b",c\\n1,2\\n', ","), first_record('1  2 "x y"\\n', r"\\s+")
        (['a, b', 'c'], ['1', '2', 'x y'])
    """
    if sep == WHITESPACE:
        line = next((line for line in text.splitlines() if line.strip()), "")
        return [word.strip('"') for word in _WORD.findall(line)]
    try:
        records = csv.reader(io.StringIO(text), delimiter=sep, skipinitialspace=True)
        return next(filter(None, records), [])
    except csv.Error:
        return []


@dataclass(frozen=True)
class CsvFormat:
    """What the first bytes of a CSV said, for whichever parser reads it."""

    sep: str
    encoding: str  # a Python codec name
    markers: list[str]  # missing-value markers
    text: str  # the decoded sample


# Formats recognised by their first bytes, and how to get a CSV out of each.
_PACKED = (
    (b"\x1f\x8b", "gzip-compressed", "name it with .gz at the end (tabnet reads .gz files)"),
    (re.compile(rb"BZh[1-9]1AY&SY"), "bzip2-compressed", "decompress it first: bunzip2 -k {name}"),
    (b"\xfd7zXZ\x00", "xz-compressed", "decompress it first: unxz -k {name}"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed", "decompress it first: unzstd {name}"),
    (b"\x04\x22\x4d\x18", "lz4-compressed", "decompress it first: unlz4 {name}"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "extract the CSV from it first"),
    (b"PK\x03\x04", "a zip archive (or an .xlsx workbook)", "extract or export the CSV first"),
    # parquet's magic is text: the binary bytes after it tell it from a CSV header
    (
        re.compile(rb"PAR1.{0,60}?[\x00-\x08\x0e-\x1f]", re.S),
        "a parquet file",
        "name it with .parquet at the end",
    ),
)


def refuse_packed(name: str, head: bytes) -> None:
    """A compressed file or archive (or parquet) where a CSV is read: one line saying what
    it is and what tabnet reads, instead of "not UTF-8 text".

    Example:
        >>> refuse_packed("data.csv.bz2", b"BZh91AY&SY\\x00")
        Traceback (most recent call last):
        ...
        tabnet_cli.errors.DataError: data.csv.bz2 is bzip2-compressed; tabnet reads CSV/TSV ...
    """
    for magic, what, advice in _PACKED:
        if magic.match(head) if isinstance(magic, re.Pattern) else head.startswith(magic):
            raise DataError(
                f"{name} is {what}; tabnet reads CSV/TSV text, gzip-compressed CSV (.gz) "
                f"and parquet: {advice.format(name=name)}"
            )


def sniff_format(name: str, head: bytes, options: ReadOptions) -> CsvFormat:
    """Sniffs ``head`` (the file's first bytes), checking ``options.names`` against the
    number of columns and refusing duplicated header names."""
    refuse_packed(name, head)
    encoding = python_encoding(head, options.encoding, name)
    text = decode_head(name, head, encoding)
    tabs = name.endswith((".tsv", ".tsv.gz", ".tab"))
    sep = "\t" if tabs else sniff_separator(text, options.decimal)
    first = first_record(text, sep)
    if sep == options.decimal:
        raise DataError(
            f"{name} is separated by {sep!r}, the --decimal mark; numbers with a decimal "
            "comma need another separator, such as ';'"
        )
    if options.names and first and len(first) != len(options.names):
        raise DataError(
            f"--names gives {len(options.names)} names but {name} has {len(first)} "
            "columns; give one name per column"
        )
    if options.header and not options.names:
        refuse_duplicates([field.strip() for field in first], name)
    return CsvFormat(sep, encoding, na_markers(options.na_values, options.default_na), text)


def refuse_duplicates(columns: list[str], name: str) -> None:
    """pandas would silently rename a second ``y`` to ``y.1``: refuse instead.

    Example:
        >>> refuse_duplicates(["y", "x", "y"], "f.csv")
        Traceback (most recent call last):
        ...
        tabnet_cli.errors.DataError: f.csv has duplicate column names: y; rename them ...
    """
    repeated = sorted({c for c in columns if c and columns.count(c) > 1})
    if repeated:
        raise DataError(
            f"{name} has duplicate column names: {short_list(repeated)}; "
            "rename them so that each is unique"
        )
