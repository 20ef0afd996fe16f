#!/usr/bin/env python3
"""Writes the files under made/: one small Secondary Capture image per
Specific Character Set, with a patient name, a study description and a
referring physician in that character set.

The bytes come from Python's own codecs (and, for ISO 2022 code extensions,
escape sequences written out here by hand from PS3.3 Tables C.12-3/C.12-4),
never from Teleread, so the tests that read these files check Teleread
against an independent encoder. The names are invented. Run it from this
folder: python3 make_files.py
"""
import os
import struct

ESC = b"\x1b"


def group(text, codec, esc=b""):
    """One PN component group or text run: esc, then text in codec."""
    return esc + text.encode(codec) if text else b""


def jis(text):
    """ISO 2022 IR 87/159 text: Python's iso2022_jp_2 writes the escape
    sequences (ESC $ B, ESC $ ( D) and goes back to ASCII at the end."""
    return text.encode("iso2022_jp_2")


def pn_2022(groups, encode_one):
    """Person name whose components are each encoded (so each ends in the
    initial set before '^' and '=', PS3.5 6.1.2.5.3)."""
    return b"=".join(b"^".join(encode_one(c) for c in g.split("^")) for g in groups)


def euc_run(text, codec, esc):
    """A G1 double-byte run: the escape sequence, then the EUC bytes."""
    return esc + text.encode(codec) if text else b""


# file name, Specific Character Set, PN bytes, LO bytes (study description),
# referring physician bytes, and (for the provenance table) the text.
FILES = []


def single(name, charset, codec, pn, desc, referring):
    FILES.append((name, charset, pn.encode(codec), desc.encode(codec), referring.encode(codec), pn, desc, referring))


single("latin1_ir100.dcm", "ISO_IR 100", "latin_1", "Müller^Jürgen", "Schädel nativ", "Böhm^Käthe")
single("latin2_ir101.dcm", "ISO_IR 101", "iso8859_2", "Dvořák^Antonín", "Hrudník", "Wałęsa^Łucja")
single("latin3_ir109.dcm", "ISO_IR 109", "iso8859_3", "Ħaġar^Ġużeppi", "Ċensu żgħir", "Borġ^Ħelena")
single("latin4_ir110.dcm", "ISO_IR 110", "iso8859_4", "Bērziņš^Jānis", "Krūškurvis", "Ozoliņa^Līga")
single("cyrillic_ir144.dcm", "ISO_IR 144", "iso8859_5", "Иванов^Пётр", "Грудная клетка", "Смирнова^Ольга")
single("arabic_ir127.dcm", "ISO_IR 127", "iso8859_6", "المصري^أحمد", "صدر", "حداد^ليلى")
single("greek_ir126.dcm", "ISO_IR 126", "iso8859_7", "Παπαδόπουλος^Γιώργος", "Θώρακας", "Νικολάου^Ελένη")
single("hebrew_ir138.dcm", "ISO_IR 138", "iso8859_8", "כהן^דוד", "חזה", "לוי^שרה")
single("latin5_ir148.dcm", "ISO_IR 148", "iso8859_9", "Çavuşoğlu^İsmail", "Göğüs", "Yılmaz^Ayşe")
single("latin9_ir203.dcm", "ISO_IR 203", "iso8859_15", "Kœnig^Šárka", "Thorax €", "Žák^Œdipe")
single("thai_ir166.dcm", "ISO_IR 166", "tis_620", "ใจดี^สมชาย", "ทรวงอก", "แก้วมณี^สุดา")
single("katakana_ir13.dcm", "ISO_IR 13", "shift_jis", "ﾔﾏﾀﾞ^ﾀﾛｳ", "ｷｮｳﾌﾞ", "ｽｽﾞｷ^ﾊﾅｺ")
single("utf8_ir192.dcm", "ISO_IR 192", "utf-8", "Nguyễn^Văn Minh=阮^文明", "Ngực", "Trần^Thị Lan")
single("gb18030.dcm", "GB18030", "gb18030", "Liu^Yan=刘^䶮", "胸部平扫", "王^小东")
single("gbk.dcm", "GBK", "gbk", "Zhang^Wei=張^偉", "胸部", "陳^美玲")

# Non-ASCII bytes and no Specific Character Set at all: not valid DICOM,
# but written by some devices; read as Latin-1.
FILES.append(("no_charset_latin1.dcm", None, "Müller^Jürgen".encode("latin_1"), "Schädel".encode("latin_1"),
              b"", "Müller^Jürgen", "Schädel", ""))

# ISO 2022 with code extensions.
FILES.append(("jis_ir87_ir159.dcm", r"ISO 2022 IR 6\ISO 2022 IR 87\ISO 2022 IR 159",
              pn_2022(["Mori^Ogai", "森^鷗外", "もり^おうがい"], jis), jis("胸部 単純"), pn_2022(["Natsume^Soseki", "夏目^漱石"], jis),
              "Mori^Ogai=森^鷗外=もり^おうがい", "胸部 単純", "Natsume^Soseki=夏目^漱石"))
FILES.append(("chinese_ir58.dcm", r"ISO 2022 IR 6\ISO 2022 IR 58",
              pn_2022(["Zhang^XiaoDong", "张^小东"], lambda c: euc_run(c, "gb2312", ESC + b"$)A") if not c.isascii() else c.encode()),
              euc_run("胸部", "gb2312", ESC + b"$)A"),
              pn_2022(["Li^Hua", "李^华"], lambda c: euc_run(c, "gb2312", ESC + b"$)A") if not c.isascii() else c.encode()),
              "Zhang^XiaoDong=张^小东", "胸部", "Li^Hua=李^华"))
FILES.append(("korean_ir149.dcm", r"\ISO 2022 IR 149",
              pn_2022(["Kim^Minsu", "金^民洙", "김^민수"], lambda c: euc_run(c, "euc_kr", ESC + b"$)C") if not c.isascii() else c.encode()),
              euc_run("흉부", "euc_kr", ESC + b"$)C"),
              pn_2022(["Lee^Jiyoung", "", "이^지영"], lambda c: euc_run(c, "euc_kr", ESC + b"$)C") if not c.isascii() else c.encode()),
              "Kim^Minsu=金^民洙=김^민수", "흉부", "Lee^Jiyoung==이^지영"))
# Code extensions among single-byte sets: Latin-1 first, Greek and Cyrillic
# designated by escape sequences inside the value.
FILES.append(("latin1_greek_cyrillic_2022.dcm", r"ISO 2022 IR 100\ISO 2022 IR 126\ISO 2022 IR 144",
              "Müller^Jürgen".encode("latin_1") + b"=" + ESC + b"-F" + "Μύλλερ".encode("iso8859_7") + b"^" + ESC + b"-F" + "Γιούργκεν".encode("iso8859_7"),
              "Thorax ".encode("latin_1") + ESC + b"-L" + "грудь".encode("iso8859_5"),
              "Petrov^Jörg".encode("latin_1") + b"=" + ESC + b"-L" + "Петров".encode("iso8859_5") + b"^" + ESC + b"-L" + "Йорг".encode("iso8859_5"),
              "Müller^Jürgen=Μύλλερ^Γιούργκεν", "Thorax грудь", "Petrov^Jörg=Петров^Йорг"))


def element(tag, vr, value):
    if len(value) % 2:
        value += b"\x00" if vr in ("UI", "OB") else b" "
    g, e = tag >> 16, tag & 0xFFFF
    if vr in ("OB", "OW", "SQ", "UN", "UT", "UC", "UR", "OF", "OD", "OL"):
        return struct.pack("<HH2sHI", g, e, vr.encode(), 0, len(value)) + value
    return struct.pack("<HH2sH", g, e, vr.encode(), len(value)) + value


def write(name, charset, pn, desc, referring, index):
    sop_class = b"1.2.840.10008.5.1.4.1.1.7"
    root = "2.25.314159265358979323846264338327950288"
    study = f"{root}.{index}".encode()
    series = study + b".1"
    sop = study + b".1.1"
    pid = f"CHARSET{index:02d}".encode()
    ds = [
        (0x00080016, "UI", sop_class),
        (0x00080018, "UI", sop),
        (0x00080020, "DA", b"20240105"),
        (0x00080030, "TM", b"101500"),
        (0x00080050, "SH", f"ACC{index:02d}".encode()),
        (0x00080060, "CS", b"OT"),
        (0x00080064, "CS", b"WSD"),
        (0x00080090, "PN", referring),
        (0x00081030, "LO", desc),
        (0x0008103E, "LO", desc),
        (0x00100010, "PN", pn),
        (0x00100020, "LO", pid),
        (0x00100030, "DA", b"19700101"),
        (0x00100040, "CS", b"O"),
        (0x0020000D, "UI", study),
        (0x0020000E, "UI", series),
        (0x00200010, "SH", b"1"),
        (0x00200011, "IS", b"1"),
        (0x00200013, "IS", b"1"),
        (0x00200020, "CS", b""),
        (0x00200060, "CS", b""),
        (0x00280002, "US", struct.pack("<H", 1)),
        (0x00280004, "CS", b"MONOCHROME2"),
        (0x00280010, "US", struct.pack("<H", 8)),
        (0x00280011, "US", struct.pack("<H", 8)),
        (0x00280100, "US", struct.pack("<H", 8)),
        (0x00280101, "US", struct.pack("<H", 8)),
        (0x00280102, "US", struct.pack("<H", 7)),
        (0x00280103, "US", struct.pack("<H", 0)),
        (0x7FE00010, "OB", bytes((x * 8 + y * 24) % 256 for y in range(8) for x in range(8))),
    ]
    if charset is not None:
        ds.append((0x00080005, "CS", charset.encode("ascii")))
    ds.sort(key=lambda t: t[0])
    body = b"".join(element(*t) for t in ds)
    meta = b"".join([
        element(0x00020001, "OB", b"\x00\x01"),
        element(0x00020002, "UI", sop_class),
        element(0x00020003, "UI", sop),
        element(0x00020010, "UI", b"1.2.840.10008.1.2.1"),
        element(0x00020012, "UI", b"1.2.826.0.1.3680043.10.1414.1"),
    ])
    meta = element(0x00020000, "UL", struct.pack("<I", len(meta))) + meta
    with open(os.path.join("made", name), "wb") as f:
        f.write(b"\x00" * 128 + b"DICM" + meta + body)


if __name__ == "__main__":
    os.makedirs("made", exist_ok=True)
    for i, (name, charset, pn, desc, referring, *_text) in enumerate(FILES, start=1):
        write(name, charset, pn, desc, referring, i)
    with open(os.path.join("made", "NAMES.txt"), "w", encoding="utf-8") as f:
        f.write("file\tSpecific Character Set\tPatientName\tStudyDescription\tReferringPhysicianName\n")
        for name, charset, _pn, _desc, _ref, pn_text, desc_text, ref_text in FILES:
            f.write(f"{name}\t{charset or '(none)'}\t{pn_text}\t{desc_text}\t{ref_text}\n")
