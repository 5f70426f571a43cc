"""OpenSIRT report: the document model, figures, provenance and the PDF writer.

The pipeline builds a :class:`ReportDocument` from plain data (text, formatted tables,
matplotlib figures, warnings, provenance) and calls :func:`write_pdf`::

    doc = ReportDocument(title=..., patient_id=..., created=..., sections=(...,), ...)
    write_pdf(doc, "plan.pdf")
"""

from opensirt.report.document import (
    Align,
    Highlight,
    Notice,
    ReportDocument,
    ReportFigure,
    Section,
    Severity,
    Signature,
    Table,
    format_value,
)
from opensirt.report.pdf import DISCLAIMER, render_png_pages, write_pdf, write_png_pages
from opensirt.report.provenance import (
    InputFingerprint,
    Provenance,
    collect_provenance,
    fingerprint_data,
    fingerprint_path,
    software_versions,
)

__all__ = [
    "DISCLAIMER",
    "Align",
    "Highlight",
    "InputFingerprint",
    "Notice",
    "Provenance",
    "ReportDocument",
    "ReportFigure",
    "Section",
    "Severity",
    "Signature",
    "Table",
    "collect_provenance",
    "fingerprint_data",
    "fingerprint_path",
    "format_value",
    "render_png_pages",
    "software_versions",
    "write_pdf",
    "write_png_pages",
]
