#!/usr/bin/env python3
"""Write examples/creator-kb/public/newsletter-issue-42.pdf: a small, valid, text PDF
(Helvetica, one page) made without any PDF library, so the sample set has a PDF whose
content is known. Run once; the output is committed."""
import sys, pathlib

lines = [
    "Newsletter issue 42: how I plan a writing year",
    "",
    "Every January I pick one big project and two small ones.",
    "The big project gets my mornings; the small ones get two afternoons a week.",
    "I review the plan on the first Sunday of each quarter and cut what no longer fits.",
    "",
    "Reader question of the week: should you write every day?",
    "Only if it makes you happier. Five focused sessions a week beat seven guilty ones.",
]

def esc(s):
    return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

text = "BT /F1 12 Tf 72 740 Td 16 TL\n" + "".join(f"({esc(l)}) Tj T*\n" for l in lines) + "ET"
objs = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
    f"<< /Length {len(text)} >>\nstream\n{text}\nendstream",
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
]
out = bytearray(b"%PDF-1.4\n")
offsets = []
for i, o in enumerate(objs, 1):
    offsets.append(len(out))
    out += f"{i} 0 obj\n{o}\nendobj\n".encode("latin-1")
xref = len(out)
out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
for off in offsets:
    out += f"{off:010d} 00000 n \n".encode()
out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
dest = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "examples/creator-kb/public/newsletter-issue-42.pdf")
dest.write_bytes(out)
print(f"wrote {dest} ({len(out)} bytes)")
