"""Receiving instances by C-STORE: the checks every received instance passes, and OpenSIRT's
C-STORE receiver (SCP), the destination of C-MOVE.

The receiver accepts associations only from the AE titles of the configured nodes, and an
instance only when it belongs to the expected patient, study and series; anything else is
refused with a failure status and counted, so that the retrieval that asked for it fails with
a message naming what arrived. Each instance is written to a temporary name and renamed, so a
file in the folder is always whole.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, evt
from pynetdicom import sop_class as sc
from pynetdicom.events import Event

from opensirt.fileio import write_atomically
from opensirt.pacs.nodes import LocalNode

__all__ = [
    "Expectation",
    "StoreCollector",
    "StoreReceiver",
    "server_ssl_context",
    "storage_classes",
]

#: Largest PDU that OpenSIRT receives and sends (bytes): a CT slice (0.5 MB) in a few PDUs
#: instead of pynetdicom's default 16 kB, which costs a Python-level round per 16 kB
#: (measured by benchmarks/pacs_retrieve.py). DICOM PS3.8 section 9.3.1 allows any length.
MAX_PDU_BYTES = 4 * 2**20
#: C-STORE status "refused: cannot understand" (DICOM PS3.4, 2024, Annex GG.4.2; 0xCxxx is
#: the range of "Error: cannot understand").
STATUS_REFUSED = 0xC000
#: C-STORE status "refused: out of resources" (PS3.4 Annex GG.4.2) for a failed write.
STATUS_OUT_OF_RESOURCES = 0xA700

#: The storage SOP classes OpenSIRT retrieves and sends: its inputs (CT, MR, NM, PET, the
#: structures and registrations) and its outputs (RTDOSE, SEG, SR, encapsulated PDF).
_STORAGE_KEYWORDS = (
    "CTImageStorage",
    "EnhancedCTImageStorage",
    "MRImageStorage",
    "NuclearMedicineImageStorage",
    "PositronEmissionTomographyImageStorage",
    "EnhancedPETImageStorage",
    "RTStructureSetStorage",
    "RTDoseStorage",
    "RTPlanStorage",
    "SegmentationStorage",
    "SpatialRegistrationStorage",
    "DeformableSpatialRegistrationStorage",
    "BasicTextSRStorage",
    "EnhancedSRStorage",
    "ComprehensiveSRStorage",
    "Comprehensive3DSRStorage",
    "RadiopharmaceuticalRadiationDoseSRStorage",
    "EncapsulatedPDFStorage",
    "SecondaryCaptureImageStorage",
    "XRayAngiographicImageStorage",
)


def sop_class_uid(keyword: str) -> str:
    """The UID of a SOP class by its pynetdicom keyword.

    Parameters
    ----------
    keyword : str
        E.g. ``"Verification"`` or ``"CTImageStorage"``.

    Returns
    -------
    str
        The UID.

    >>> sop_class_uid("Verification")
    '1.2.840.10008.1.1'
    """
    return str(getattr(sc, keyword))


def storage_classes() -> list[str]:
    """The storage SOP class UIDs that OpenSIRT accepts and asks for.

    Returns
    -------
    list of str
        UIDs, in a fixed order (fewer than the 128 presentation contexts of an association).
    """
    return [sop_class_uid(keyword) for keyword in _STORAGE_KEYWORDS]


@dataclass(frozen=True)
class Expectation:
    """What a retrieval asked for: instances of anything else are refused.

    Parameters
    ----------
    study_uid : str
        The Study Instance UID.
    series_uid : str, optional
        The Series Instance UID (``None``: any series of the study).
    patient_id : str, optional
        The Patient ID (``None``: not checked here).
    """

    study_uid: str
    series_uid: str | None = None
    patient_id: str | None = None

    def mismatch(self, dataset: Any) -> str | None:
        """Why ``dataset`` is not what was asked for, or ``None`` when it is.

        Parameters
        ----------
        dataset : pydicom.Dataset
            A received instance (its header suffices).

        Returns
        -------
        str or None
            E.g. ``"PatientID is 'B', expected 'A'"``.
        """
        wanted = {
            "PatientID": self.patient_id,
            "StudyInstanceUID": self.study_uid,
            "SeriesInstanceUID": self.series_uid,
        }
        for keyword, value in wanted.items():
            got = str(dataset.get(keyword, ""))
            if value is not None and got != value:
                return f"{keyword} is {got!r}, expected {value!r}"
        return None


@dataclass
class StoreCollector:
    """Writes the instances that arrive by C-STORE into ``folder`` after checking them.

    Parameters
    ----------
    expect : Expectation
        What may arrive.
    folder : Path
        Where the files go (``<SOPInstanceUID>.dcm``).
    progress : callable, optional
        Called with (instances stored, None) after each one.
    """

    expect: Expectation
    folder: Path
    progress: Callable[[int, int | None], None] | None = None
    stored: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def handle(self, event: Event) -> int:
        """The C-STORE handler: check, then write atomically.

        Parameters
        ----------
        event : pynetdicom.events.Event
            The ``EVT_C_STORE`` event.

        Returns
        -------
        int
            The C-STORE status: 0x0000 stored, 0xC000 refused (not the expected patient,
            study or series, or a file name that is not a UID), 0xA700 write failed.
        """
        dataset = event.dataset
        uid = str(dataset.get("SOPInstanceUID", ""))
        reason = self.expect.mismatch(dataset)
        if reason is None and not _is_uid(uid):
            reason = f"SOPInstanceUID {uid[:70]!r} is not a UID"
        if reason is not None:
            with self._lock:
                self.refused.append(f"{uid or '(no SOPInstanceUID)'}: {reason}")
            return STATUS_REFUSED
        data = event.encoded_dataset()
        try:
            write_atomically(self.folder / f"{uid}.dcm", lambda path: _write_bytes(path, data))
        except OSError:
            return STATUS_OUT_OF_RESOURCES
        with self._lock:
            self.stored.append(uid)
            count = len(self.stored)
        if self.progress is not None:
            self.progress(count, None)
        return 0x0000


def _write_bytes(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def _is_uid(text: str) -> bool:
    """A DICOM UID: digits and dots, at most 64 characters (PS3.5 section 9)."""
    return 0 < len(text) <= 64 and all(c.isdigit() or c == "." for c in text)


def server_ssl_context(local: LocalNode) -> ssl.SSLContext | None:
    """The receiver's TLS context (mutual TLS: callers must present a certificate signed by
    ``local.tls.ca_file``), or ``None`` without TLS.

    Parameters
    ----------
    local : LocalNode
        OpenSIRT's node; its ``tls`` needs ``cert_file`` and ``key_file``.

    Returns
    -------
    ssl.SSLContext or None
        The context, TLS 1.2 or later.
    """
    tls = local.tls
    if tls is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(tls.ca_file))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    if tls.cert_file is not None and tls.key_file is not None:
        context.load_cert_chain(str(tls.cert_file), str(tls.key_file))
    return context


class StoreReceiver:
    """OpenSIRT's C-STORE receiver, listening while the ``with`` block runs.

    Parameters
    ----------
    local : LocalNode
        Its AE title, address and port, and TLS settings.
    calling_aets : sequence of str
        The AE titles allowed to connect (the configured nodes'); others are rejected.
    collector : StoreCollector
        Checks and writes what arrives.
    """

    def __init__(
        self, local: LocalNode, calling_aets: Sequence[str], collector: StoreCollector
    ) -> None:
        self.local = local
        self.calling_aets = list(calling_aets)
        self.collector = collector

    @contextmanager
    def running(self) -> Iterator[StoreReceiver]:
        """Listen for the duration of the block.

        Yields
        ------
        StoreReceiver
            This receiver.

        Raises
        ------
        OSError
            If the port is taken (another receiver runs) or may not be bound.
        """
        ae = AE(ae_title=self.local.ae_title)
        ae.maximum_pdu_size = MAX_PDU_BYTES
        ae.require_calling_aet = self.calling_aets
        ae.add_supported_context(sop_class_uid("Verification"))
        for uid in storage_classes():
            ae.add_supported_context(uid, ALL_TRANSFER_SYNTAXES)
        server = ae.start_server(
            (self.local.bind, self.local.port),
            block=False,
            ssl_context=server_ssl_context(self.local),
            evt_handlers=[(evt.EVT_C_STORE, self.collector.handle)],
        )
        assert server is not None
        try:
            yield self
        finally:
            server.shutdown()
