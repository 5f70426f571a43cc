"""PACS networking: query, retrieve and store with DICOM networking (DIMSE, via pynetdicom)
and DICOMweb (via dicomweb-client), the nodes file that configures both, and the local cache
of retrieved series.

* :mod:`opensirt.pacs.nodes`: the nodes file (``opensirt_pacs: 1``), validated.
* :mod:`opensirt.pacs.dimse`: C-ECHO, C-FIND, C-GET, C-MOVE, C-STORE (TLS optional).
* :mod:`opensirt.pacs.receiver`: the C-STORE receiver and the checks of what arrives.
* :mod:`opensirt.pacs.dicomweb`: QIDO-RS, WADO-RS, STOW-RS.
* :mod:`opensirt.pacs.cache`: retrieved series, checksummed, size-bounded, atomic.
* :mod:`opensirt.pacs.retrieve`: a series into the cache, complete and checked, or an error.
* :mod:`opensirt.pacs.case_images`: a case file's PACS references resolved to cached series.
"""
